// Property: whatever malformed or hostile config.json `skiff create` is given (wrong types,
// missing fields, numbers out of range or past what a double holds, NUL bytes, huge strings,
// ../ paths, symlinks), it exits non-zero with one line on stderr that names the problem (no
// stack, no "Cannot read properties of undefined") and leaves nothing behind: no state dir, no
// cgroup named after the id, no process. Cases come from a seeded generator; the seed is
// printed, and SKIFF_FUZZ_SEED=N replays a run (SKIFF_FUZZ_CASES=N sets how many).
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { FIXTURE_ROOTFS, leftBehind, makeBundle, skiff, tmpDir, uniqueId } from '../lib/harness';
import { JsonNumber, toJson } from '../../src/oci/json';

const SEED = Number(process.env.SKIFF_FUZZ_SEED ?? Date.now() % 2 ** 31);
const CASES = Number(process.env.SKIFF_FUZZ_CASES ?? 120);

const sk = skiff();
t.teardown(() => sk.cleanup());

// mulberry32: small, seedable, good enough to spread cases.
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let x = Math.imul(this.s ^ (this.s >>> 15), 1 | this.s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

type Spec = Record<string, any>;
interface Case { label: string; edit: (s: Spec) => void; expect: RegExp; text?: (json: string) => string; id?: string }

const keysOf = (p: string) => p.match(/[^.[\]]+/g)!.map((k) => (/^\d+$/.test(k) ? Number(k) : k));
function setAt(o: Spec, p: string, v: unknown): void {
  const ks = keysOf(p);
  const last = ks.pop()!;
  const parent = ks.reduce((x, k) => x[k], o);
  if (v === undefined) delete parent[last];
  else parent[last] = v;
}
const getAt = (o: Spec, p: string): unknown => keysOf(p).reduce((x: any, k) => (x === undefined ? x : x[k]), o);
const field = (p: string) => p.replace(/[.[\]]/g, '\\$&');

// Valid settings that bring a field into the config, so it can be broken.
const SETUP: Record<string, (s: Spec) => void> = {
  device: (s) => { s.linux.devices = [{ type: 'c', path: '/dev/fz', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }]; },
  mapping: (s) => {
    s.linux.namespaces.push({ type: 'user' });
    s.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  },
  resources: (s) => { Object.assign(s.linux.resources, { memory: { limit: 2 ** 26, swappiness: 10 }, cpu: { shares: 1024, quota: 10000 }, pids: { limit: 100 }, blockIO: { weight: 500 } }); },
  hook: (s) => { s.hooks = { prestart: [{ path: '/bin/true', args: ['true'], timeout: 5 }] }; },
  process: (s) => { s.process.args = ['sh', '-c', 'true']; s.process.consoleSize = { height: 24, width: 80 }; s.process.user.umask = 0o22; s.process.oomScoreAdj = 0; },
  bind: (s) => { s.mounts.push({ destination: '/fz', type: 'bind', source: '/tmp', options: ['rbind'] }); },
};

const big = (x: bigint | string) => new JsonNumber(String(x));
const U32MAX = 2n ** 32n - 1n;
const NOT_INT = () => [big('1.5'), big('1e3'), big('7.0'), '12', true, [], {}];
// [path, setup, invalid values]: each value is outside what the field may hold.
const NUMBERS: [string, string, () => unknown[]][] = [
  ['process.user.uid', 'process', () => [-1, big(U32MAX), big(2n ** 32n), big('9007199254740993'), ...NOT_INT()]],
  ['process.user.gid', 'process', () => [-1, big(2n ** 53n + 1n), ...NOT_INT()]],
  ['process.user.umask', 'process', () => [-1, 0o1000, ...NOT_INT()]],
  ['process.oomScoreAdj', 'process', () => [-1001, 1001, big(2n ** 63n), ...NOT_INT()]],
  ['process.consoleSize.height', 'process', () => [-1, 65536, ...NOT_INT()]],
  ['process.consoleSize.width', 'process', () => [big(2n ** 64n), ...NOT_INT()]],
  ['process.rlimits[0].soft', 'process', () => [-1, big(2n ** 64n), big('18446744073709551616.0'), ...NOT_INT()]],
  ['process.rlimits[0].hard', 'process', () => [big(-(2n ** 64n)), big(2n ** 64n + 1n), ...NOT_INT()]],
  ['linux.devices[0].major', 'device', () => [-1, big(2n ** 32n), big(2n ** 32n + 1n), ...NOT_INT()]],
  ['linux.devices[0].minor', 'device', () => [-2, big(2n ** 40n), ...NOT_INT()]],
  ['linux.devices[0].fileMode', 'device', () => [-1, 0o10000, ...NOT_INT()]],
  ['linux.devices[0].uid', 'device', () => [-1, big(2n ** 32n), ...NOT_INT()]],
  ['linux.uidMappings[0].hostID', 'mapping', () => [-1, big(2n ** 32n), big(U32MAX), ...NOT_INT()]],
  ['linux.uidMappings[0].size', 'mapping', () => [0, -1, big(2n ** 32n), ...NOT_INT()]],
  ['linux.resources.memory.limit', 'resources', () => [big(2n ** 63n), big('9223372036854775807'), big('9007199254740993'), ...NOT_INT()]],
  ['linux.resources.memory.swappiness', 'resources', () => [101, -2, big(2n ** 64n), ...NOT_INT()]],
  ['linux.resources.cpu.shares', 'resources', () => [-1, big(2n ** 64n), big('18446744073709551615'), ...NOT_INT()]],
  ['linux.resources.cpu.quota', 'resources', () => [big(2n ** 63n), big(-(2n ** 63n) - 1n), ...NOT_INT()]],
  ['linux.resources.pids.limit', 'resources', () => [big('9223372036854775808'), ...NOT_INT()]],
  ['linux.resources.blockIO.weight', 'resources', () => [5, 1001, 70000, -1, ...NOT_INT()]],
  ['hooks.prestart[0].timeout', 'hook', () => [0, -1, 2147484, big(2n ** 64n), ...NOT_INT()]],
];
// [path, setup]: strings that reach the kernel or a path.
const STRINGS: [string, string][] = [
  ['process.args[0]', 'process'], ['process.args[1]', 'process'], ['process.env[0]', 'process'], ['process.cwd', 'process'],
  ['hostname', 'process'], ['root.path', 'process'], ['mounts[0].destination', 'process'], ['mounts[1].source', 'process'],
  ['mounts[2].options[0]', 'process'], ['mounts[7].source', 'bind'], ['linux.maskedPaths[0]', 'process'],
  ['linux.readonlyPaths[1]', 'process'], ['linux.devices[0].path', 'device'], ['hooks.prestart[0].path', 'hook'],
  ['hooks.prestart[0].args[0]', 'hook'], ['process.capabilities.bounding[0]', 'process'], ['linux.namespaces[0].type', 'process'],
];
// Required fields and containers: removed (those marked !), or given a value of another type.
const SHAPES: [string, 'string' | 'object' | 'array' | 'int' | 'bool'][] = [
  ['!ociVersion', 'string'], ['!process', 'object'], ['!process.user', 'object'], ['!process.user.uid', 'int'],
  ['!process.cwd', 'string'], ['!process.args', 'array'], ['!root', 'object'], ['!root.path', 'string'], ['!linux', 'object'],
  ['!mounts[0].destination', 'string'], ['linux.namespaces', 'array'], ['!linux.namespaces[1].type', 'string'],
  ['!process.rlimits[0].type', 'string'], ['process.env', 'array'], ['process.capabilities', 'object'],
  ['linux.resources', 'object'], ['linux.maskedPaths', 'array'], ['mounts', 'array'], ['process.rlimits', 'array'],
  ['hostname', 'string'], ['root.readonly', 'bool'], ['linux.sysctl', 'object'], ['annotations', 'object'],
];
const WRONG: Record<string, unknown[]> = {
  string: [5, true, [], {}, null, big('1e400')], object: [5, 'x', true, [], [1], null], array: [5, 'x', {}, [1], null],
  int: ['0', true, [], {}, null, big('1e400')],
  // not null: Go's decoder takes null for a bool as false, and so does runc
  bool: [5, 'x', [], {}],
};

function numberCase(r: Rng): Case {
  const [p, setup, bad] = r.pick(NUMBERS);
  const v = r.pick(bad());
  return { label: `${p} = ${toJson(v)}`, edit: (s) => { SETUP[setup](s); setAt(s, p, v); },
    expect: new RegExp(`${field(p)}: (must be|.*cannot be represented|.*runs past)`) };
}

function nulCase(r: Rng): Case {
  const [p, setup] = r.pick(STRINGS);
  return { label: `NUL in ${p}`, edit: (s) => {
    SETUP[setup](s);
    const v = String(getAt(s, p));
    const at = r.int(v.length + 1);
    setAt(s, p, v.slice(0, at) + '\0' + v.slice(at));
  }, expect: new RegExp(`${field(p)}: .*(NUL byte|null\\(|unknown|must be)`) };
}

function shapeCase(r: Rng): Case {
  const [name, type] = r.pick(SHAPES);
  const p = name.replace(/^!/, '');
  const wrong = r.pick(WRONG[type]);
  const remove = name.startsWith('!') && r.int(2) === 0;
  return {
    label: remove ? `no ${p}` : `${p} = ${toJson(wrong)}`,
    edit: (s) => setAt(s, p, remove ? undefined : wrong),
    // A value of the right type by chance (an object for process) fails deeper, still by field.
    expect: new RegExp(`${field(p.replace(/\[\d+\]$/, ''))}(\\[\\d+\\])?[.:\\[]|${field(p)}: (is required|must|unknown|is not)`),
  };
}

const long = (r: Rng, c: string) => c.repeat(256 + r.int(r.int(2) ? 100_000 : 4000));
// Huge strings where a huge value must fail: [path, value, what the error says].
function hugeCase(r: Rng): Case {
  const cases: [string, () => string, RegExp][] = [
    ['hostname', () => long(r, 'h'), /sethostname h+/],
    ['domainname', () => long(r, 'd'), /setdomainname d+/],
    ['process.cwd', () => `/${long(r, 'c')}`, /cwd \/c+.*: file name too long/],
    ['mounts[3].destination', () => `/dev/${long(r, 'm')}`, /mount destination \/dev\/m+.*: file name too long/],
    ['process.args[0]', () => long(r, 'a'), /exec: \\"a+.*executable file not found/],
    ['root.path', () => `/${long(r, 'r')}`, /rootfs \(\/r+\).*(does not exist|too long)/],
    // cgroupfs takes names past 255 characters: only a path past PATH_MAX fails there.
    ['linux.cgroupsPath', () => `/${'g'.repeat(4096 + r.int(50_000))}`, /cgroup: mkdir \/sys\/fs\/cgroup\/.*g+: file name too long/],
  ];
  const [p, value, expect] = r.pick(cases);
  const v = value();
  return { label: `${p} of ${v.length} characters`, edit: (s) => setAt(s, p, v), expect };
}

// ../ paths, symlinks and other names a container must not be able to use.
function pathCase(r: Rng, scratch: string): Case {
  const missing = `../../../../../nonexistent-${r.int(1e9)}`;
  const link = path.join(scratch, `rootfs-link-${r.int(1e9)}`);
  const cases: Case[] = [
    { label: 'relative cwd', edit: (s) => { s.process.cwd = r.pick(['tmp', '../../etc', '']); }, expect: /process\.cwd: must be an absolute path/ },
    { label: 'relative mount destination', edit: (s) => { s.mounts[r.int(7)].destination = r.pick(['../../etc', 'x/y']); }, expect: /mounts\[\d\]\.destination: must be an absolute path/ },
    { label: 'missing bind source', edit: (s) => { SETUP.bind(s); s.mounts[7].source = missing; }, expect: /mounts\[7\]\.source: mount source .*nonexistent-\d+ does not exist/ },
    { label: 'relative hook path', edit: (s) => { s.hooks = { [r.pick(['prestart', 'poststart', 'createRuntime'])]: [{ path: '../bin/true' }] }; }, expect: /hooks\.\w+\[0\]\.path: must be an absolute path/ },
    { label: 'relative device path', edit: (s) => { SETUP.device(s); s.linux.devices[0].path = '../dev/x'; }, expect: /linux\.devices\[0\]\.path: must be an absolute path/ },
    { label: 'relative namespace path', edit: (s) => { s.linux.namespaces[1].path = 'proc/1/ns/net'; }, expect: /linux\.namespaces\[1\]\.path: must be an absolute path/ },
    { label: 'missing namespace path', edit: (s) => { s.linux.namespaces[1].path = `/nonexistent/ns-${r.int(1e9)}`; }, expect: /open namespace \/nonexistent\/ns-\d+: No such file/ },
    { label: 'root.path climbing out', edit: (s) => { s.root.path = missing; }, expect: /rootfs \(.*nonexistent-\d+\) does not exist/ },
    { label: 'root.path through a symlink', edit: (s) => { fs.symlinkSync(FIXTURE_ROOTFS, link); s.root.path = r.pick([link, `${link}/.`, `${link}/../${path.basename(link)}`]); }, expect: /invalid rootfs: not an absolute path, or a symlink/ },
    { label: 'root.path a file', edit: (s) => { s.root.path = path.join(FIXTURE_ROOTFS, 'bin', 'busybox'); }, expect: /rootfs \(.*\) is not a directory/ },
    { label: 'sysctl the container does not own', edit: (s) => { s.linux.sysctl = { [r.pick(['kernel.pid_max', 'vm.swappiness', 'fs.file-max'])]: '0' }; }, expect: /sysctl \\".*\\" is not in a separate kernel namespace/ },
    { label: 'sysctl path climbing', edit: (s) => { s.linux.sysctl = { '../../../etc/passwd': 'x', 'net/../../x': 'y' }; }, expect: /is not a sysctl name/ },
    { label: 'masked path through /proc/self/root', edit: (s) => { s.linux.maskedPaths.push('/proc/self/root/etc'); s.process.args = ['/nonexistent-binary']; }, expect: /open masked path|exec: \\"\/nonexistent-binary\\": stat/ },
  ];
  return r.pick(cases);
}

function structuralCase(r: Rng): Case {
  const cases: Case[] = [
    { label: 'truncated JSON', edit: () => undefined, text: (j) => j.slice(0, 1 + r.int(j.length - 2)), expect: /config\.json: invalid JSON/ },
    { label: 'not an object', edit: () => undefined, text: () => r.pick(['[]', '"x"', '1', 'null', '[{}]']), expect: /\(top level\): must be an object/ },
    { label: 'unknown namespace', edit: (s) => { s.linux.namespaces.push({ type: r.pick(['bogus', 'PID', 'net']) }); }, expect: /unknown namespace type/ },
    { label: 'duplicate namespace', edit: (s) => { s.linux.namespaces.push({ type: 'mount' }); }, expect: /namespace mount is listed twice/ },
    { label: 'unknown capability', edit: (s) => { s.process.capabilities.effective.push('CAP_EVERYTHING'); }, expect: /unknown capability \\"CAP_EVERYTHING\\"/ },
    { label: 'unknown rlimit', edit: (s) => { s.process.rlimits[0].type = 'RLIMIT_ALL'; }, expect: /process\.rlimits\[0\]\.type: unknown rlimit/ },
    { label: 'env without =', edit: (s) => { s.process.env.push(r.pick(['NOEQUALS', '=x'])); }, expect: /process\.env\[2\]: (invalid environment variable|environment variable name can't be empty)/ },
    { label: 'terminal without a console socket', edit: (s) => { s.process.terminal = true; }, expect: /cannot allocate tty if skiff will detach without setting console socket/ },
    { label: 'a long id', edit: () => undefined, id: 'i'.repeat(256 + r.int(2000)), expect: /container ID is too long/ },
    { label: 'an id with a slash', edit: () => undefined, id: r.pick(['../x', 'a/b', '..']), expect: /invalid container ID format/ },
  ];
  return r.pick(cases);
}

t.test(`hostile configs are refused cleanly (seed ${SEED}, ${CASES} cases)`, async (t) => {
  t.comment(`replay with SKIFF_FUZZ_SEED=${SEED}`);
  const r = new Rng(SEED);
  const b = makeBundle();
  const base = JSON.parse(fs.readFileSync(path.join(b.dir, 'config.json'), 'utf8'));
  const scratch = tmpDir('fuzz');
  const kinds = [numberCase, nulCase, shapeCase, hugeCase, (x: Rng) => pathCase(x, scratch), structuralCase];
  for (let i = 0; i < CASES; i++) {
    const c = r.pick(kinds)(r);
    const spec = JSON.parse(JSON.stringify(base));
    c.edit(spec);
    const json = toJson(spec, 1);
    fs.writeFileSync(path.join(b.dir, 'config.json'), c.text ? c.text(json) : json);
    const id = c.id ?? uniqueId('fuzz');
    const res = sk.run(['create', '-b', b.dir, id]);
    const name = `[seed ${SEED} case ${i}] ${c.label.slice(0, 120)}`;
    const lines = res.stderr.split('\n').filter(Boolean);
    t.not(res.code, 0, `${name}: refused`);
    t.equal(lines.length, 1, `${name}: one line on stderr`);
    t.notMatch(res.stderr, /Cannot read prop|is not a function|is not iterable|undefined|TypeError|\n\s+at /, `${name}: no JS internals`);
    t.match(res.stderr, c.expect, `${name}: names the problem`);
    if (/^[\w+.-]{1,255}$/.test(id) && id !== '..') t.same(leftBehind(sk, id), [], `${name}: nothing left behind`);
  }
  t.same(fs.readdirSync(sk.root), [], 'the root holds no container at the end');
});
