// The container boundary in config.json, against runc 1.1.5: sysctls the container does not
// own, masked and read-only paths through symlinks, NUL bytes and bad env entries, numbers a
// double cannot hold, a symlinked rootfs. Where runc refuses, Skiff refuses too, leaving
// nothing behind; where runc runs, both show the same thing from inside.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { leftBehind, makeBundle, runc, skiff, uniqueId, Runtime } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });

// Expected stderr per runtime, or one pattern for both.
type Words = RegExp | { runc: RegExp; skiff: RegExp };
const wordsFor = (w: Words, rt: Runtime) => (w instanceof RegExp ? w : w[rt.name as 'runc' | 'skiff']);

function bothRefuse(t: Test, dir: string, words: Words, name: string, cmd = 'create'): void {
  for (const rt of [rc, sk]) {
    const id = uniqueId(`bnd-${rt.name}`);
    const r = rt.run([cmd, '-b', dir, id]);
    t.not(r.code, 0, `${name}: ${rt.name} refuses`);
    t.match(r.stderr, wordsFor(words, rt), `${name}: ${rt.name} says why`);
    t.same(leftBehind(rt, id), [], `${name}: ${rt.name} leaves nothing behind`);
  }
}

// A config.json written as text, so numbers reach both runtimes as literals.
function textBundle(edit: (s: Spec) => void, text: (json: string) => string): string {
  const b = makeBundle({ edit });
  const file = path.join(b.dir, 'config.json');
  fs.writeFileSync(file, text(fs.readFileSync(file, 'utf8')));
  return b.dir;
}

const without = (type: string) => (s: Spec) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== type); };
const hostValue = (key: string) => fs.readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();

t.test('sysctls outside the namespaces the container owns are refused in runc\'s words', async (t) => {
  // Each value is the host's own, so a runtime that wrongly wrote it would change nothing.
  const cases: [string, (s: Spec) => void, string][] = [
    ['net.ipv4.ip_forward', without('network'), 'not allowed in host network namespace'],
    ['net.ipv4.ip_forward', (s) => { s.linux!.namespaces!.find((n) => n.type === 'network')!.path = '/proc/self/ns/net'; }, 'not allowed in host network namespace'],
    ['kernel.msgmax', without('ipc'), 'is not allowed in the hosts ipc namespace'],
    ['kernel.sem', without('ipc'), 'is not allowed in the hosts ipc namespace'],
    ['kernel.shmmax', without('ipc'), 'is not allowed in the hosts ipc namespace'],
    ['fs.mqueue.msg_max', without('ipc'), 'is not allowed in the hosts ipc namespace'],
    ['kernel.domainname', (s) => { delete s.hostname; without('uts')(s); }, 'is not in a separate kernel namespace'],
    ['kernel.hostname', (s) => { delete s.hostname; without('uts')(s); }, 'is not in a separate kernel namespace'],
    ['kernel.hostname', () => undefined, 'is not allowed as it conflicts with the OCI \\\\"hostname\\\\" field'],
    ['kernel.pid_max', () => undefined, 'is not in a separate kernel namespace'],
    ['vm.overcommit_memory', () => undefined, 'is not in a separate kernel namespace'],
  ];
  for (const [key, edit, words] of cases) {
    const before = hostValue(key);
    const b = makeBundle({ edit: (s) => { edit(s); s.linux!.sysctl = { [key]: before }; } });
    bothRefuse(t, b.dir, new RegExp(`sysctl \\\\"${key.replace(/\./g, '\\.')}\\\\" ${words}`), key);
    t.equal(hostValue(key), before, `${key}: the host's value is as it was`);
  }
});

t.test('sysctls the container owns still work', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'cat /proc/sys/kernel/domainname /proc/sys/fs/mqueue/msg_max'], edit: (s) => {
    s.linux!.sysctl = { 'kernel.domainname': 'inner.example', 'fs.mqueue.msg_max': '20' };
  } });
  for (const rt of [rc, sk]) {
    const r = rt.run(['run', '-b', b.dir, uniqueId(`own-${rt.name}`)]);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    t.equal(r.stdout, 'inner.example\n20\n', rt.name);
  }
});

t.test('masked and read-only paths protect what a symlink inside the rootfs names', async (t) => {
  const script = ['touch /ro-target/x 2>/dev/null && echo target-rw || echo target-ro', 'touch /etc/x 2>/dev/null && echo etc-rw || echo etc-ro',
    'cat /secret', 'ls /secretdir', 'cat /visible'].join('; ');
  const out: string[] = [];
  for (const rt of [rc, sk]) {
    const b = makeBundle({ copyRootfs: true, args: ['sh', '-c', script], edit: (s) => {
      s.root!.readonly = false;
      s.linux!.readonlyPaths!.push('/ro-rel', '/escape');
      s.linux!.maskedPaths!.push('/mask-abs', '/mask-rel', '/dangling');
    } });
    const root = b.rootfs;
    fs.mkdirSync(path.join(root, 'ro-target'));
    fs.mkdirSync(path.join(root, 'secretdir'));
    fs.writeFileSync(path.join(root, 'secretdir', 'f'), 'hidden\n');
    fs.writeFileSync(path.join(root, 'secret'), 'hidden\n');
    fs.writeFileSync(path.join(root, 'visible'), 'shown\n');
    fs.symlinkSync('ro-target', path.join(root, 'ro-rel')); // relative
    fs.symlinkSync('/secret', path.join(root, 'mask-abs')); // absolute, resolved in the container
    fs.symlinkSync('../../../secretdir', path.join(root, 'mask-rel')); // climbs, stays inside
    fs.symlinkSync('../../../../../../etc', path.join(root, 'escape')); // the container's /etc, not the host's
    fs.symlinkSync('/nonexistent', path.join(root, 'dangling'));
    const r = rt.run(['run', '-b', b.dir, uniqueId(`paths-${rt.name}`)]);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    out.push(r.stdout);
  }
  t.equal(out[1], 'target-ro\netc-ro\nshown\n', 'skiff: /ro-target and the container\'s /etc read-only, /secret and /secretdir hidden');
  t.equal(out[1], out[0], 'as with runc');
  t.equal(fs.existsSync('/etc/x'), false, 'nothing written to the host\'s /etc');
});

t.test('env entries and NUL bytes: refused with runc\'s words, or by field where runc has none', async (t) => {
  const env = (e: string) => (s: Spec) => { s.process!.env!.push(e); };
  bothRefuse(t, makeBundle({ edit: env('NOEQUALS') }).dir, /invalid environment variable: \\"NOEQUALS\\"/, 'no =');
  bothRefuse(t, makeBundle({ edit: env('=value') }).dir, /environment variable name can't be empty: \\"=value\\"/, 'empty name');
  bothRefuse(t, makeBundle({ edit: env('FOO=a\0b') }).dir, /environment variable value can't contain null\(\\\\x00\): \\"FOO=a\\\\x00b\\"/, 'NUL in a value');
  bothRefuse(t, makeBundle({ edit: env('F\0OO=b') }).dir, /environment variable name can't contain null\(\\\\x00\): \\"F\\\\x00OO=b\\"/, 'NUL in a name');
  bothRefuse(t, makeBundle({ edit: (s) => { s.process!.cwd = '/tm\0p'; } }).dir,
    { runc: /mkdir \/tm\\x00p: invalid argument/, skiff: /process\.cwd: must not contain a NUL byte: \\"\/tm\\\\x00p\\"/ }, 'NUL in cwd');
  // runc only finds this one at execve; skiff at create, by field.
  bothRefuse(t, makeBundle({ args: ['echo', 'a\0b'] }).dir,
    { runc: /exec \/bin\/echo: invalid argument/, skiff: /process\.args\[1\]: must not contain a NUL byte/ }, 'NUL in an argument', 'run');
  const sk1 = uniqueId('nul');
  const r = sk.run(['create', '-b', makeBundle({ edit: (s) => { s.mounts!.push({ destination: '/mnt\0x', type: 'tmpfs', source: 'tmpfs' }); } }).dir, sk1]);
  t.match(r.stderr, /mounts\[7\]\.destination: must not contain a NUL byte/, 'any string that reaches the kernel');
  t.same(leftBehind(sk, sk1), []);
});

t.test('numbers are read from their literal: out of range, fractions and exponents refused as runc does', async (t) => {
  const rlimit = (v: string) => textBundle(() => undefined, (x) => x.replace('"hard": 1024', `"hard": ${v}`));
  const go = (v: string, field: string, type: string) => new RegExp(`cannot unmarshal number ${v.replace(/\./g, '\\.')} into Go struct field ${field} of type ${type}`);
  for (const v of ['18446744073709551616', '-1', '1024.0', '1.024e3']) {
    bothRefuse(t, rlimit(v), { runc: go(v, 'POSIXRlimit.process.rlimits.hard', 'uint64'), skiff: /process\.rlimits\[0\]\.hard: must be/ }, `rlimit ${v}`);
  }
  const uid = (v: string) => textBundle(() => undefined, (x) => x.replace('"uid": 0', `"uid": ${v}`));
  for (const v of ['4294967296', '9007199254740993', '-1', '0.5']) {
    bothRefuse(t, uid(v), { runc: go(v, 'User.process.user.uid', 'uint32'), skiff: /process\.user\.uid: must be/ }, `uid ${v}`);
  }
});

t.test('an rlimit past 2^53 is set exactly, at create and for exec', async (t) => {
  const b = textBundle((s) => { s.process!.args = ['sleep', '1000']; }, (x) => x.replace(
    /"type": "RLIMIT_NOFILE",\s*"hard": 1024,\s*"soft": 1024/, '"type": "RLIMIT_CORE", "hard": 18446744073709551615, "soft": 9007199254740993'));
  const out: string[] = [];
  for (const rt of [rc, sk]) {
    const id = uniqueId(`rl-${rt.name}`);
    t.equal(rt.run(['run', '-d', '-b', b, id]).code, 0, rt.name);
    const r = rt.run(['exec', id, 'sh', '-c', 'ulimit -c; ulimit -Hc; grep "core file" /proc/1/limits']);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    out.push(r.stdout);
    rt.run(['delete', '-f', id]);
  }
  t.match(out[1], /^17592186044416\nunlimited\nMax core file size\s+9007199254740993\s+unlimited/, 'soft 2^53+1 bytes exactly, hard RLIM_INFINITY');
  t.equal(out[1], out[0], 'as with runc');
});

t.test('numbers that would be cut or rounded on the way to the kernel are refused by field', async (t) => {
  // runc wraps or rounds these; skiff says so and leaves nothing behind.
  const cases: [string, (s: Spec) => void, (x: string) => string, RegExp][] = [
    ['device major past 32 bits', (s) => { s.linux!.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3 }]; },
      (x) => x.replace('"major": 1', '"major": 4294967297'), /linux\.devices\[0\]\.major: must be between 0 and 4294967295, not 4294967297/],
    ['console rows past 16 bits', (s) => { s.process!.consoleSize = { height: 1, width: 80 }; },
      (x) => x.replace('"height": 1', '"height": 65536'), /process\.consoleSize\.height: must be between 0 and 65535, not 65536/],
    ['memory limit past 2^53', (s) => { s.linux!.resources!.memory = { limit: 1 }; },
      (x) => x.replace('"limit": 1', '"limit": 9223372036854775807'), /linux\.resources\.memory\.limit: 9223372036854775807 cannot be represented exactly/],
    ['oomScoreAdj as a fraction', (s) => { s.process!.oomScoreAdj = 1; },
      (x) => x.replace('"oomScoreAdj": 1', '"oomScoreAdj": 1.5'), /process\.oomScoreAdj: must be an integer, not 1\.5/],
    ['umask as an exponent', (s) => { s.process!.user.umask = 1; },
      (x) => x.replace('"umask": 1', '"umask": 1e1'), /process\.user\.umask: must be an integer, not 1e1/],
    ['id mapping past 2^32', (s) => { s.linux!.namespaces!.push({ type: 'user' }); s.linux!.uidMappings = [{ containerID: 0, hostID: 1, size: 1 }]; s.linux!.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }]; },
      (x) => x.replace('"hostID": 1', '"hostID": 4294967296'), /linux\.uidMappings\[0\]\.hostID: must be between 0 and 4294967295/],
  ];
  for (const [name, edit, text, words] of cases) {
    const id = uniqueId('num');
    const r = sk.run(['create', '-b', textBundle(edit, text), id]);
    t.equal(r.code, 1, name);
    t.match(r.stderr, words, name);
    t.same(leftBehind(sk, id), [], `${name}: nothing left behind`);
  }
});

t.test('a rootfs that is or goes through a symlink is refused as runc does', async (t) => {
  const b = makeBundle({ copyRootfs: true });
  fs.symlinkSync('rootfs', path.join(b.dir, 'rootfs-link'));
  const spec = JSON.parse(fs.readFileSync(path.join(b.dir, 'config.json'), 'utf8'));
  for (const root of ['rootfs-link', path.join(b.dir, 'rootfs-link'), path.join(b.dir, 'rootfs-link', '.')]) {
    fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify({ ...spec, root: { path: root } }));
    bothRefuse(t, b.dir, /invalid rootfs: not an absolute path, or a symlink/, `root.path ${root}`);
  }
  fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify({ ...spec, root: { path: `${b.dir}/rootfs/` } }));
  const id = uniqueId('rootfs-slash');
  t.equal(sk.run(['run', '-b', b.dir, id]).code, 0, 'a trailing slash is not a symlink');
});
