// Config parsing as lenient as runc's where runc is lenient (Go's encoding/json): keys that
// match a field without case, device access letters other than r, w and m, an exec
// process.json without a user (or capabilities); and where runc refuses, its words, which
// clients match. Side by side with runc 1.1.5.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { leftBehind, makeBundle, runc, skiff, tmpDir, uniqueId, Runtime } from '../lib/harness';
import { readCg } from './cgroups-helpers';
import type { Spec } from '../../src/oci/spec';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });
const both = [rc, sk];

// Renames the keys of config.json's text, as a hand-written config might spell them.
function respell(dir: string, pairs: [RegExp, string][]): void {
  const file = path.join(dir, 'config.json');
  let text = fs.readFileSync(file, 'utf8');
  for (const [from, to] of pairs) text = text.replace(from, to);
  fs.writeFileSync(file, text);
}

function run(rt: Runtime, dir: string): string {
  const id = uniqueId(`parity-cfg-${rt.name}`);
  const r = rt.run(['run', '-d', '-b', dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
  return id;
}

const pidOf = (rt: Runtime, id: string) => rt.state(id).pid as number;

t.test('keys in other cases fill the same fields; map keys stay as written', async (t) => {
  const b = makeBundle({
    args: ['sleep', '1000'],
    edit: (s) => {
      s.annotations = { 'Org.Example/Key': 'v' };
      s.linux!.resources = { cpu: { shares: 512 }, memory: { limit: 64 << 20 }, pids: { limit: 77 } };
    },
  });
  respell(b.dir, [[/"process"/, '"Process"'], [/"cpu"/, '"CPU"'], [/"shares"/, '"Shares"'], [/"memory"/, '"Memory"'],
    [/"limit": 67108864/, '"LIMIT": 67108864'], [/"pids"/, '"PIDs"'], [/"namespaces"/, '"NameSpaces"'], [/"cwd"/, '"Cwd"']]);
  const out = both.map((rt) => {
    const id = run(rt, b.dir);
    const pid = pidOf(rt, id);
    const got = {
      shares: readCg(pid, 'cpu.shares'), limit: readCg(pid, 'memory.limit_in_bytes'), pids: readCg(pid, 'pids.max'),
      annotations: rt.state(id).annotations, netns: fs.readlinkSync(`/proc/${pid}/ns/net`) !== fs.readlinkSync('/proc/self/ns/net'),
    };
    rt.run(['delete', '-f', id]);
    return got;
  });
  t.same(out[0], { shares: '512', limit: String(64 << 20), pids: '77', annotations: { 'Org.Example/Key': 'v' }, netns: true }, 'runc reads them');
  t.same(out[1], out[0], 'skiff reads them alike');
});

t.test('update -r: resources keys without case', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const file = path.join(tmpDir('parity-cfg'), 'r.json');
  fs.writeFileSync(file, JSON.stringify({ CPU: { Shares: 300 }, Pids: { Limit: 55 } }));
  const out = both.map((rt) => {
    const id = run(rt, b.dir);
    const r = rt.run(['update', '-r', file, id]);
    const got = { code: r.code, shares: readCg(pidOf(rt, id), 'cpu.shares'), pids: readCg(pidOf(rt, id), 'pids.max') };
    rt.run(['delete', '-f', id]);
    return got;
  });
  t.same(out[0], { code: 0, shares: '300', pids: '55' }, 'runc');
  t.same(out[1], out[0], 'skiff');
});

t.test('device access "rwa" is rw, "rx" is r, as runc reads it', async (t) => {
  const b = makeBundle({
    args: ['sleep', '1000'],
    edit: (s) => {
      s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 4, minor: 1, access: 'rwa' }, { allow: true, type: 'c', major: 4, minor: 2, access: 'rx' }] };
    },
  });
  const out = both.map((rt) => {
    const id = run(rt, b.dir);
    const list = (readCg(pidOf(rt, id), 'devices.list') ?? '').split('\n').sort();
    rt.run(['delete', '-f', id]);
    return list;
  });
  t.ok(out[0].includes('c 4:1 rw') && out[0].includes('c 4:2 r'), `runc: ${out[0].join(', ')}`);
  t.same(out[1], out[0], 'skiff: the same device rules');
});

t.test('exec -p: no user is 0:0 (no uid, no gid: 0); keys without case; no capabilities: the container\'s', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const dir = tmpDir('parity-cfg');
  const ids = new Map(both.map((rt) => [rt, run(rt, b.dir)]));
  const cases: [string, unknown][] = [
    ['no user', { args: ['/bin/sh', '-c', 'echo $(id -u):$(id -g)'], cwd: '/' }],
    ['a user with a gid only', { args: ['/bin/sh', '-c', 'echo $(id -u):$(id -g)'], cwd: '/', user: { gid: 5 } }],
    ['keys in other cases', { Args: ['/bin/sh', '-c', 'echo $(id -u):$(id -g) $PWD'], CWD: '/tmp', User: { UID: 7, GID: 8 } }],
    ['no capabilities', { args: ['/bin/sh', '-c', 'grep ^Cap /proc/self/status'], cwd: '/' }],
    ['capabilities given', { args: ['/bin/sh', '-c', 'grep ^Cap /proc/self/status'], cwd: '/', capabilities: { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] } }],
  ];
  for (const [name, proc] of cases) {
    const file = path.join(dir, `${name.replace(/\W/g, '_')}.json`);
    fs.writeFileSync(file, JSON.stringify(proc));
    const [a, s] = both.map((rt) => rt.run(['exec', '-p', file, ids.get(rt)!]));
    t.equal(a.code, 0, `${name}: runc ${a.stderr}`);
    t.equal(s.code, 0, `${name}: skiff ${s.stderr}`);
    t.equal(s.stdout, a.stdout, `${name}: ${JSON.stringify(a.stdout)}`);
  }
  for (const [rt, id] of ids) rt.run(['delete', '-f', id]);
});

t.test('refusals in runc\'s words: unified on v1, proc over a symlink, an unreachable seccomp agent', async (t) => {
  const dir = tmpDir('parity-cfg');
  fs.writeFileSync(path.join(dir, 'not-a-socket'), '');
  const agent = (listenerPath: string) => (s: Spec) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] };
  };
  const cases: [string, ReturnType<typeof makeBundle>, string][] = [
    ['unified on a v1 host', makeBundle({ edit: (s) => { s.linux!.resources = { unified: { 'memory.high': '1' } }; } }), 'invalid configuration: '],
    ['no agent at listenerPath', makeBundle({ edit: agent(path.join(dir, 'missing.sock')) }), 'failed to connect with seccomp agent specified in the seccomp profile: '],
    ['listenerPath not a socket', makeBundle({ edit: agent(path.join(dir, 'not-a-socket')) }), 'failed to connect with seccomp agent specified in the seccomp profile: '],
  ];
  const symlinked = makeBundle({ copyRootfs: true });
  fs.rmSync(path.join(symlinked.rootfs, 'proc'), { recursive: true, force: true });
  fs.mkdirSync(path.join(symlinked.rootfs, 'realproc'));
  fs.symlinkSync('realproc', path.join(symlinked.rootfs, 'proc'));
  cases.push(['masked paths over a symlinked /proc', symlinked, 'filesystem \\"proc\\" must be mounted on ordinary directory']);
  for (const [name, b, want] of cases) {
    for (const rt of both) {
      const id = uniqueId(`parity-cfg-${rt.name}`);
      const r = rt.run(['run', '-b', b.dir, id]);
      t.equal(r.code, 1, `${name}: ${rt.name} refuses`);
      t.ok(r.stderr.includes(want), `${name}: ${rt.name} says ${JSON.stringify(want)}: ${r.stderr.trim()}`);
      t.same(leftBehind(rt, id), [], `${name}: ${rt.name} leaves nothing behind`);
    }
  }
  t.match(sk.run(['run', '-b', cases[1][1].dir, uniqueId('parity-cfg')]).stderr, /seccomp profile: connect \S+missing.sock: no such file or directory/, 'the path and the errno');
});
