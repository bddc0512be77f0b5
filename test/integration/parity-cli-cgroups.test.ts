// A cgroupsPath that exists already (a pod's cgroup), side by side with runc 1.1.5: a frozen
// one is refused, one with processes gets runc's warning, an empty v1 cpuset parent is filled
// so the container's cpuset (and an update of it) works.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawn } from 'child_process';
import { leftBehind, makeBundle, runc, skiff, uniqueId, waitFor, Runtime } from '../lib/harness';
import { detectLayout } from '../../src/cgroups/layout';
import { readCg } from './cgroups-helpers';

const sk = skiff();
const rc = runc();
const both = [rc, sk];
const layout = detectLayout();
const v1 = layout.kind === 'v1';
// Every hierarchy's mount point, once (the cgroup2 one of a hybrid host included).
const mounts = [...new Set([...layout.v1.values(), ...(layout.unified ? [layout.unified] : [])])];

const pods: string[] = [];
function pod(): string {
  const name = `/${uniqueId('parity-cg-pod')}`;
  for (const m of mounts) fs.mkdirSync(path.join(m, name));
  pods.push(name);
  return name;
}
// Children first; a pod another test left busy stays, named.
function removePod(name: string): void {
  for (const m of mounts) {
    const rm = (d: string) => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(d, e.name));
      try {
        fs.rmdirSync(d);
      } catch (e) {
        t.comment(`left ${d}: ${(e as Error).message}`);
      }
    };
    rm(path.join(m, name));
  }
}
t.teardown(() => { sk.cleanup(); rc.cleanup(); pods.forEach(removePod); });

// A process of the pod's own in every hierarchy of `name`.
function podProcess(name: string) {
  const cs = layout.v1.get('cpuset');
  // A v1 cpuset takes no task until it has cpus and mems.
  if (cs) for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(cs, name, f), fs.readFileSync(path.join(cs, f)));
  const p = spawn('sleep', ['1000'], { stdio: 'ignore' });
  for (const m of mounts) fs.writeFileSync(path.join(m, name, 'cgroup.procs'), String(p.pid));
  return p;
}

const bundleIn = (cgroupsPath: string, args = ['true']) => makeBundle({ args, edit: (s) => { s.linux!.cgroupsPath = cgroupsPath; } });
const cpuset = (name: string, f: string) => fs.readFileSync(path.join(layout.v1.get('cpuset')!, name, f), 'utf8').trim();

t.test('a frozen cgroup is refused, in runc\'s words, and nothing is left behind', { skip: !v1 && 'v1 freezer' }, async (t) => {
  const name = pod();
  const p = podProcess(name);
  const state = path.join(layout.v1.get('freezer')!, name, 'freezer.state');
  fs.writeFileSync(state, 'FROZEN');
  await waitFor(() => fs.readFileSync(state, 'utf8').trim() === 'FROZEN', 5000, 'pod frozen');
  const b = bundleIn(name);
  for (const rt of both) {
    const id = uniqueId(`parity-cg-${rt.name}`);
    const r = rt.run(['run', '-b', b.dir, id], { timeout: 30_000 });
    t.equal(r.code, 1, `${rt.name}: refused (no hang)`);
    t.match(r.stderr, /container's cgroup unexpectedly frozen/, `${rt.name}: runc's words`);
    t.same(leftBehind(rt, id), [], `${rt.name}: nothing left`);
  }
  t.equal(fs.readFileSync(state, 'utf8').trim(), 'FROZEN', 'the pod is left as it was');
  fs.writeFileSync(state, 'THAWED');
  p.kill('SIGKILL');
});

t.test('a cgroup with processes of its own: runc\'s warning on stderr, the container still made', async (t) => {
  for (const rt of both) {
    const name = pod();
    const p = podProcess(name);
    const id = uniqueId(`parity-cg-${rt.name}`);
    const r = rt.run(['create', '-b', bundleIn(name, ['sleep', '1000']).dir, id]);
    t.equal(r.code, 0, `${rt.name}: created ${r.stderr}`);
    t.match(r.stderr, /level=warning msg="container's cgroup is not empty: 1 process\(es\) found"/, `${rt.name}: the warning`);
    rt.run(['delete', '-f', id]);
    p.kill('SIGKILL');
  }
  const name = pod();
  const id = uniqueId('parity-cg-skiff');
  const quiet = sk.run(['create', '-b', bundleIn(name, ['sleep', '1000']).dir, id]);
  t.equal(quiet.stderr, '', 'an empty existing cgroup: no warning');
  sk.run(['delete', '-f', id]);
});

t.test('v1: a populated pod cgroup\'s device rules change to the container\'s without a moment of "deny all"', { skip: !v1 && 'v1 devices' }, async (t) => {
  const lists: Record<string, string> = {};
  for (const rt of both) {
    const name = pod();
    const dir = path.join(layout.v1.get('devices')!, name);
    for (const [f, line] of [['devices.deny', 'a'], ['devices.allow', 'c 1:3 rwm'], ['devices.allow', 'c 4:1 rw'], ['devices.allow', 'c 1:9 r']]) {
      fs.writeFileSync(path.join(dir, f), line);
    }
    const cs = layout.v1.get('cpuset');
    if (cs) for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(cs, name, f), fs.readFileSync(path.join(cs, f)));
    // The pod's own process opens /dev/null all the time: a rewrite that starts with "deny all"
    // would make some of those opens fail.
    const log = path.join(path.dirname(makeBundle().dir), `${uniqueId('parity-dev')}.log`);
    const out = fs.openSync(log, 'w');
    const p = spawn('sh', ['-c', 'while :; do echo x > /dev/null || echo DENIED; done'], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    for (const m of mounts) fs.writeFileSync(path.join(m, name, 'cgroup.procs'), String(p.pid));
    const id = uniqueId(`parity-dev-${rt.name}`);
    const r = rt.run(['create', '-b', bundleIn(name, ['sleep', '1000']).dir, id]);
    t.equal(r.code, 0, `${rt.name}: created ${r.stderr}`);
    lists[rt.name] = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8').split('\n').filter(Boolean).sort().join('\n');
    p.kill('SIGKILL');
    rt.run(['kill', id, 'KILL']);
    rt.run(['delete', '-f', id]);
    t.notMatch(fs.readFileSync(log, 'utf8'), /DENIED/, `${rt.name}: /dev/null stayed open to the pod's process`);
  }
  t.equal(lists.skiff, lists.runc, 'the rules the container gets, as runc\'s');
  t.notOk(lists.skiff.split('\n').some((l) => l === 'c 4:1 rw' || l === 'c 1:9 r'), 'the pod\'s own rules are the container\'s now');
});

t.test('v1: an existing pod cgroup with an empty cpuset is filled, so the container runs and its cpuset updates', { skip: !v1 && 'v1 cpuset' }, async (t) => {
  const results = both.map((rt: Runtime) => {
    const name = pod();
    const before = cpuset(name, 'cpuset.cpus');
    const id = uniqueId(`parity-cg-${rt.name}`);
    const r = rt.run(['run', '-d', '-b', bundleIn(`${name}/ctr`, ['sleep', '1000']).dir, id]);
    const pid = r.code === 0 ? (rt.state(id).pid as number) : 0;
    const upd = pid ? rt.run(['update', '--cpuset-cpus', '0', '--cpu-period', '50000', '--cpu-quota', '25000', id]) : r;
    const out = {
      before, run: r.code, podCpus: cpuset(name, 'cpuset.cpus') !== '', podMems: cpuset(name, 'cpuset.mems') !== '',
      update: upd.code, cpus: pid ? readCg(pid, 'cpuset.cpus') : undefined, quota: pid ? readCg(pid, 'cpu.cfs_quota_us') : undefined,
    };
    t.comment(`${rt.name}: ${r.stderr}${upd.stderr}`);
    rt.run(['delete', '-f', id]);
    return out;
  });
  t.same(results[0], { before: '', run: 0, podCpus: true, podMems: true, update: 0, cpus: '0', quota: '25000' }, 'runc');
  t.same(results[1], results[0], 'skiff: the same');
});

t.test('a taken id is "already exists", even when its container is paused (its cgroup frozen)', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  for (const rt of both) {
    const id = uniqueId(`parity-cg-${rt.name}`);
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    t.equal(rt.run(['pause', id]).code, 0);
    const r = rt.run(['create', '-b', b.dir, id]);
    t.equal(r.code, 1, `${rt.name}: refused`);
    t.match(r.stderr, /container with given ID already exists/, `${rt.name}: runc's words`);
    t.equal(rt.state(id).status, 'paused', `${rt.name}: the container is untouched`);
    rt.run(['delete', '-f', id]);
  }
});

// runc signals the whole cgroup on delete only when the container shares a pid namespace: with
// one of its own, killing the init ends every process of the container, and a pod's own
// processes in the same cgroup live on.
t.test('delete -f of a container in a pod\'s cgroup kills the pod\'s processes only without a pid namespace of its own', async (t) => {
  for (const ownPidns of [true, false]) {
    const outcome: Record<string, unknown> = {};
    for (const rt of both) {
      const name = pod();
      const p = podProcess(name);
      const b = makeBundle({
        args: ['sleep', '1000'],
        edit: (s) => {
          s.linux!.cgroupsPath = name;
          if (!ownPidns) s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'pid');
        },
      });
      const id = uniqueId(`parity-cg-${rt.name}`);
      t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0, `${rt.name}: started`);
      const init = rt.state(id).pid as number;
      const r = rt.run(['delete', '-f', id]);
      const podAlive = p.exitCode === null && p.signalCode === null && fs.existsSync(`/proc/${p.pid}`) &&
        !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${p.pid}/status`, 'utf8'));
      outcome[rt.name] = { code: r.code, initGone: !fs.existsSync(`/proc/${init}/status`) || /^State:\s+Z/m.test(fs.readFileSync(`/proc/${init}/status`, 'utf8')), podAlive };
      t.same(leftBehind(rt, id), [], `${rt.name}: nothing of the container left`);
      p.kill('SIGKILL');
    }
    t.same(outcome.runc, { code: 0, initGone: true, podAlive: ownPidns }, `runc, ${ownPidns ? 'own' : 'shared'} pid namespace`);
    t.same(outcome.skiff, outcome.runc, 'skiff: the same');
  }
});
