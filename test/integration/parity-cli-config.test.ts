// Config parsing as lenient as runc's where runc is lenient (Go's encoding/json): keys that
// match a field without case, device access letters other than r, w and m, an exec
// process.json without a user (or capabilities). Side by side with runc 1.1.5.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, runc, skiff, tmpDir, uniqueId, Runtime } from '../lib/harness';
import { readCg } from './cgroups-helpers';

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
