// --systemd-cgroup against a real systemd (PID 1 of test/vm/run-systemd.sh's guest), Skiff
// and runc side by side: the container's cgroup is a transient scope in its slice, the
// limits systemd holds as unit properties are the ones the kernel enforces (memory.max
// OOM-kills, pids.max stops a fork bomb, cpu.max throttles, cpu.weight as converted), and
// systemd re-writing the unit's cgroup keeps them, `update` included; pause, ps, exec and
// kill --all work on the scope; delete leaves no unit and no cgroup. Skips itself where PID
// 1 is not systemd (the host). Those are v2's files; on systemd's hybrid v1 layout
// (SKIFF_VM_CGROUP=hybrid test/vm/run-systemd.sh) the v1 test below compares Skiff's scope,
// properties and v1 files with runc's.
import t, { Test } from 'tap';
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { differential, makeBundle, uniqueId } from '../lib/harness';
import type { Runtime } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';
import { sharesToWeight } from '../../src/cgroups/v2/resources';
import { isV2, readCg, sleepMs, waitFor } from './cgroups-helpers';

const pid1 = fs.readFileSync('/proc/1/comm', 'utf8').trim();
const skip = pid1 === 'systemd' ? false : `needs systemd as PID 1 (here it is ${pid1}): run it in test/vm/run-systemd.sh`;
const v1 = pid1 === 'systemd' && !isV2();
const test = (name: string, fn: (t: Test) => Promise<void>) => t.test(name, { skip }, fn);
const v2test = (name: string, fn: (t: Test) => Promise<void>) => t.test(name, { skip: skip || (v1 && 'cgroup v2 files: on v1 see the v1 test') }, fn);
const v1test = (name: string, fn: (t: Test) => Promise<void>) => t.test(name, { skip: skip || (!v1 && 'systemd on cgroup v1: SKIFF_VM_CGROUP=hybrid test/vm/run-systemd.sh') }, fn);

const d = differential();
t.teardown(() => d.cleanup());
const MB = 1024 * 1024;
type Res = NonNullable<NonNullable<Spec['linux']>['resources']>;

// Every command with --systemd-cgroup, as engines configured for systemd call them. The guest
// runs under TCG on a shared host: a command may take far longer than the harness's 60 s.
const sd = (rt: Runtime, args: string[]) => rt.run(['--systemd-cgroup', ...args], { timeout: 300_000 });
const prefixOf = (rt: Runtime) => (rt.name === 'runc' ? 'runc' : 'skiff');

function systemctl(...args: string[]): string {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  return (r.stdout ?? '') + (r.stderr ?? '');
}

// The unit's properties as `systemctl show` prints them.
function show(unit: string, props: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of systemctl('show', unit, '-p', props.join(',')).split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

const cgFile = (dir: string, f: string) => {
  try {
    return fs.readFileSync(`${dir}/${f}`, 'utf8').trim();
  } catch {
    return undefined;
  }
};

interface Made { id: string; unit: string; dir: string; pid: number }

// A started container whose cgroupsPath is system.slice:<runtime's prefix>:<id>.
function make(rt: Runtime, tag: string, args: string[], res: Res, start = true, cgroupsPath?: string): Made {
  const id = uniqueId(`sd-${tag}`);
  const b = makeBundle({ args, edit: (s) => { s.linux!.resources = { ...s.linux!.resources, ...res }; s.linux!.cgroupsPath = cgroupsPath ?? `system.slice:${prefixOf(rt)}:${id}`; } });
  const r = sd(rt, ['create', '-b', b.dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name} create ${id}: ${r.stderr}`);
  if (start) {
    const s = sd(rt, ['start', id]);
    if (s.code !== 0) throw new Error(`${rt.name} start ${id}: ${s.stderr}`);
  }
  const unit = `${prefixOf(rt)}-${id}.scope`;
  return { id, unit, dir: `/sys/fs/cgroup/system.slice/${unit}`, pid: rt.state(id).pid as number };
}

// The unit's directories: v2's one, or one in each v1 hierarchy (and systemd's own cgroup2).
function unitDirs(unit: string): string[] {
  if (!v1) return [`/sys/fs/cgroup/system.slice/${unit}`];
  return fs.readdirSync('/sys/fs/cgroup').filter((h) => !fs.lstatSync(`/sys/fs/cgroup/${h}`).isSymbolicLink()).map((h) => `/sys/fs/cgroup/${h}/system.slice/${unit}`);
}

function gone(t: Test, rt: Runtime, m: Made): void {
  t.equal(sd(rt, ['delete', '-f', m.id]).code, 0, `${rt.name}: delete -f`);
  for (const dir of unitDirs(m.unit)) t.notOk(fs.existsSync(dir), `${rt.name}: no cgroup left (${dir})`);
  t.notMatch(systemctl('list-units', '--all', '--no-legend', m.unit), m.unit, `${rt.name}: no unit left`);
}

const LIMITS: Res = {
  memory: { limit: 64 * MB, reservation: 16 * MB, swap: 96 * MB },
  cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0' },
  pids: { limit: 32 },
};
const PROPS = ['MemoryMax', 'MemoryLow', 'MemorySwapMax', 'TasksMax', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'AllowedCPUs', 'Delegate', 'Slice', 'ControlGroup', 'DevicePolicy'];
const FILES = ['memory.max', 'memory.low', 'memory.swap.max', 'pids.max', 'cpu.weight', 'cpu.max', 'cpuset.cpus'];

v2test('a transient scope in its slice, limits as unit properties and files, as runc makes them', async (t) => {
  const [rc, sk] = d.both((rt) => make(rt, 'limits', ['sleep', '1000'], LIMITS));
  for (const [rt, m] of [[d.rc, rc], [d.sk, sk]] as const) {
    t.equal(fs.readFileSync(`/proc/${m.pid}/cgroup`, 'utf8').trim(), `0::/system.slice/${m.unit}`, `${rt.name}: the init is in ${m.unit}`);
    t.same(cgFile(m.dir, 'cgroup.procs'), String(m.pid), `${rt.name}: and nothing else is`);
    t.equal(show(m.unit, ['ActiveState']).ActiveState, 'active', `${rt.name}: the unit is active`);
  }
  const want: Record<string, string> = {
    'memory.max': String(64 * MB), 'memory.low': String(16 * MB), 'memory.swap.max': String(32 * MB), 'pids.max': '32',
    'cpu.weight': String(sharesToWeight(512)), 'cpu.max': '20000 100000', 'cpuset.cpus': '0',
  };
  for (const f of FILES) {
    t.equal(cgFile(sk.dir, f), want[f], `skiff: ${f}`);
    t.equal(cgFile(sk.dir, f), cgFile(rc.dir, f), `${f} as runc's`);
  }
  const [pr, ps] = [show(rc.unit, PROPS), show(sk.unit, PROPS)];
  t.equal(ps.MemoryMax, String(64 * MB), 'MemoryMax');
  t.equal(ps.TasksMax, '32', 'TasksMax');
  t.equal(ps.CPUWeight, String(sharesToWeight(512)), 'CPUWeight');
  t.equal(ps.Delegate, 'yes', 'Delegate');
  t.equal(ps.ControlGroup, `/system.slice/${sk.unit}`, 'ControlGroup');
  for (const p of PROPS.filter((p) => p !== 'ControlGroup')) t.equal(ps[p], pr[p], `${p} as runc's (${ps[p]})`);
  // DeviceAllow is a list: systemctl prints one line per entry. Skiff's default devices
  // (src/cgroups/devices.ts) allow /dev/net/tun as runc 1.2 does; Debian's runc 1.1.5 does not.
  const tun = 'DeviceAllow=/dev/char/10:200 rwm';
  const deviceAllow = (unit: string) => systemctl('show', unit, '-p', 'DeviceAllow').split('\n').filter(Boolean).sort();
  t.ok(deviceAllow(sk.unit).includes(tun), 'skiff: /dev/net/tun allowed');
  t.same(deviceAllow(sk.unit).filter((l) => l !== tun), deviceAllow(rc.unit), `the rest of DeviceAllow as runc's (${deviceAllow(rc.unit).length} entries)`);
  // systemd re-writes a unit's cgroup from its properties when one changes: what it holds
  // must be what the config said.
  for (const m of [rc, sk]) systemctl('set-property', '--runtime', m.unit, 'TasksAccounting=yes');
  sleepMs(300);
  for (const f of FILES) t.equal(cgFile(sk.dir, f), want[f], `after systemd re-wrote the cgroup: ${f}`);
  gone(t, d.rc, rc);
  gone(t, d.sk, sk);
});

v2test('no cgroupsPath: system.slice, skiff-<id>.scope (runc: runc-<id>.scope)', async (t) => {
  const id = uniqueId('sd-default');
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { delete s.linux!.cgroupsPath; } });
  t.equal(sd(d.sk, ['run', '-d', '-b', b.dir, id]).code, 0, 'run -d');
  const pid = d.sk.state(id).pid as number;
  t.equal(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim(), `0::/system.slice/skiff-${id}.scope`);
  gone(t, d.sk, { id, unit: `skiff-${id}.scope`, dir: `/sys/fs/cgroup/system.slice/skiff-${id}.scope`, pid });
  const bad = makeBundle({ args: ['true'], edit: (s) => { s.linux!.cgroupsPath = '/plain/path'; } });
  const r = sd(d.sk, ['create', '-b', bad.dir, uniqueId('sd-bad')]);
  t.equal(r.code, 1, 'a plain path is refused, as runc does');
  t.match(r.stderr, /expected cgroupsPath to be of format \\?"slice:prefix:name\\?" for systemd cgroups/);
});

v2test('limits are enforced: OOM kill (with events), pids.max, cpu.max', async (t) => {
  for (const rt of [d.rc, d.sk]) {
    const m = make(rt, 'oom', ['sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=96M count=1; sleep 1'], { memory: { limit: 32 * MB, swap: 32 * MB } }, false);
    const ev = rt.spawn(['events', '--interval', '1s', m.id]);
    let text = '';
    ev.stdout.on('data', (b) => (text += b));
    const exited = new Promise<number | null>((resolve) => ev.on('exit', resolve));
    sleepMs(300);
    t.equal(sd(rt, ['start', m.id]).code, 0, `${rt.name}: start`);
    const oomKills = waitFor(() => Number(/^oom_kill (\d+)$/m.exec(cgFile(m.dir, 'memory.events') ?? '')?.[1] ?? 0), 30_000);
    t.ok(oomKills > 0, `${rt.name}: the kernel OOM-killed in the scope (memory.events oom_kill ${oomKills})`);
    if (rt === d.sk) {
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
      if (code === 'timeout') ev.kill();
      t.ok(text.split('\n').filter(Boolean).some((l) => JSON.parse(l).type === 'oom'), 'skiff events: an {"type":"oom"} event');
    } else ev.kill();
    sd(rt, ['delete', '-f', m.id]);
  }
  for (const rt of [d.rc, d.sk]) {
    const m = make(rt, 'pids', ['sh', '-c', '(while :; do sleep 100 & done) 2>/dev/null; exec sleep 100'], { pids: { limit: 16 } });
    const refused = waitFor(() => Number(/max (\d+)/.exec(cgFile(m.dir, 'pids.events') ?? '')?.[1] ?? 0), 30_000);
    t.ok(refused > 0, `${rt.name}: forks refused at TasksMax=16 (pids.events max ${refused})`);
    const current = Number(cgFile(m.dir, 'pids.current'));
    t.ok(current <= 16, `${rt.name}: pids.current ${current} <= 16`);
    gone(t, rt, m);
  }
  for (const rt of [d.rc, d.sk]) {
    const m = make(rt, 'cpu', ['sh', '-c', 'while :; do :; done'], { cpu: { quota: 5000, period: 50000 } });
    const throttled = waitFor(() => Number(/^nr_throttled (\d+)$/m.exec(cgFile(m.dir, 'cpu.stat') ?? '')?.[1] ?? 0) > 2, 30_000);
    t.ok(throttled, `${rt.name}: cpu.max throttles (CPUQuotaPerSecUSec ${show(m.unit, ['CPUQuotaPerSecUSec']).CPUQuotaPerSecUSec})`);
    gone(t, rt, m);
  }
});

v2test('update goes through systemd: the unit and the files agree, and stay', async (t) => {
  const [rc, sk] = d.both((rt) => make(rt, 'update', ['sleep', '1000'], { memory: { limit: 64 * MB, swap: 64 * MB }, pids: { limit: 50 }, cpu: { shares: 1024 } }));
  for (const [rt, m] of [[d.rc, rc], [d.sk, sk]] as const) {
    const r = sd(rt, ['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '77', '--cpu-share', '256', '--cpu-quota', '30000', '--cpu-period', '60000', m.id]);
    t.equal(r.code, 0, `${rt.name} update: ${r.stderr}`);
    systemctl('set-property', '--runtime', m.unit, 'TasksAccounting=yes');
  }
  sleepMs(300);
  const want: Record<string, string> = { 'memory.max': String(128 * MB), 'memory.swap.max': String(128 * MB), 'pids.max': '77', 'cpu.weight': String(sharesToWeight(256)), 'cpu.max': '30000 60000' };
  for (const [f, v] of Object.entries(want)) {
    t.equal(cgFile(sk.dir, f), v, `skiff: ${f} after update and systemd's re-write`);
    t.equal(cgFile(sk.dir, f), cgFile(rc.dir, f), `${f} as runc's`);
  }
  const props = ['MemoryMax', 'TasksMax', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec'];
  const [pr, ps] = [show(rc.unit, props), show(sk.unit, props)];
  t.equal(ps.MemoryMax, String(128 * MB), 'MemoryMax updated');
  t.equal(ps.TasksMax, '77', 'TasksMax updated');
  for (const p of props) t.equal(ps[p], pr[p], `${p} as runc's (${ps[p]})`);
  gone(t, d.rc, rc);
  gone(t, d.sk, sk);
});

v2test('pause, ps, exec and kill --all work on the scope', async (t) => {
  const m = make(d.sk, 'ops', ['sh', '-c', 'sleep 1000 & exec sleep 1000'], {});
  t.equal(sd(d.sk, ['pause', m.id]).code, 0, 'pause');
  t.equal(d.sk.state(m.id).status, 'paused');
  t.equal(cgFile(m.dir, 'cgroup.freeze'), '1', 'cgroup.freeze');
  t.equal(sd(d.sk, ['resume', m.id]).code, 0, 'resume');
  t.equal(d.sk.state(m.id).status, 'running');
  const ps = sd(d.sk, ['ps', '--format', 'json', m.id]);
  t.equal(JSON.parse(ps.stdout).length, 2, `ps lists both processes: ${ps.stdout.trim()}`);
  const ex = sd(d.sk, ['exec', m.id, 'cat', '/proc/self/cgroup']);
  t.equal(ex.code, 0, `exec: ${ex.stderr}`);
  t.ok(['0::/', `0::/system.slice/${m.unit}`].includes(ex.stdout.trim()), `exec runs in the container's scope (${ex.stdout.trim()})`);
  t.equal(sd(d.sk, ['kill', '--all', m.id, 'KILL']).code, 0, 'kill --all');
  await waitFor(() => cgFile(m.dir, 'cgroup.procs') === '' || !fs.existsSync(m.dir), 10_000);
  t.pass('every process of the scope is gone');
  gone(t, d.sk, m);
});

test('a create that fails leaves no unit and no cgroup', async (t) => {
  const id = uniqueId('sd-fail');
  const b = makeBundle({ args: ['/no/such/binary'], edit: (s) => { s.linux!.cgroupsPath = `system.slice:skiff:${id}`; } });
  const r = sd(d.sk, ['create', '-b', b.dir, id]);
  t.not(r.code, 0, 'create fails');
  for (const dir of unitDirs(`skiff-${id}.scope`)) t.notOk(fs.existsSync(dir), `no cgroup (${dir})`);
  t.notMatch(systemctl('list-units', '--all', '--no-legend', `skiff-${id}.scope`), id, 'no unit');
});

// runc's legacy manager: MemoryLimit and CPUShares where v2 has MemoryMax and CPUWeight; the
// rest are v1 files, written after the properties.
const V1_PROPS = ['MemoryLimit', 'MemoryMax', 'TasksMax', 'CPUShares', 'CPUWeight', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec', 'AllowedCPUs', 'Delegate', 'Slice', 'ControlGroup', 'DevicePolicy'];
const V1_FILES: Record<string, string> = {
  'memory.limit_in_bytes': String(64 * MB), 'memory.soft_limit_in_bytes': String(16 * MB), 'memory.memsw.limit_in_bytes': String(96 * MB),
  'pids.max': '32', 'cpu.shares': '512', 'cpu.cfs_quota_us': '20000', 'cpu.cfs_period_us': '100000', 'cpuset.cpus': '0',
};

v1test('cgroup v1 (systemd hybrid): the scope in every hierarchy, limits as unit properties and v1 files, as runc makes them', async (t) => {
  const [rc, sk] = d.both((rt) => make(rt, 'v1', ['sleep', '1000'], LIMITS));
  const cgroupsOf = (m: Made) => fs.readFileSync(`/proc/${m.pid}/cgroup`, 'utf8').trim().split(m.unit).join('UNIT');
  t.match(cgroupsOf(sk), /^1:name=systemd:\/system\.slice\/UNIT$/m, 'skiff: the init is in the scope (name=systemd)');
  // Skiff places the init in every mounted hierarchy; runc 1.1.5 knows no misc (kernel 5.13+).
  const withoutMisc = (text: string) => text.replace(/^\d+:misc:.*\n?/m, '');
  if (fs.existsSync('/sys/fs/cgroup/misc')) t.match(cgroupsOf(sk), /^\d+:misc:\/system\.slice\/UNIT$/m, 'skiff: in misc too (runc 1.1.5: not)');
  t.equal(withoutMisc(cgroupsOf(sk)), withoutMisc(cgroupsOf(rc)), "the init's cgroup in every other hierarchy as runc's");
  t.equal(show(sk.unit, ['ActiveState']).ActiveState, 'active', 'skiff: the unit is active');
  const [pr, ps] = [show(rc.unit, V1_PROPS), show(sk.unit, V1_PROPS)];
  t.equal(ps.MemoryLimit, String(64 * MB), 'MemoryLimit');
  t.equal(ps.CPUShares, '512', 'CPUShares');
  t.equal(ps.TasksMax, '32', 'TasksMax');
  t.equal(ps.ControlGroup, `/system.slice/${sk.unit}`, 'ControlGroup');
  for (const p of V1_PROPS.filter((p) => p !== 'ControlGroup')) t.equal(ps[p], pr[p], `${p} as runc's (${ps[p]})`);
  const files = () => Object.fromEntries(Object.keys(V1_FILES).map((f) => [f, readCg(sk.pid, f)]));
  t.same(files(), V1_FILES, 'skiff: the v1 files');
  t.same(files(), Object.fromEntries(Object.keys(V1_FILES).map((f) => [f, readCg(rc.pid, f)])), "the v1 files as runc's");
  for (const m of [rc, sk]) systemctl('set-property', '--runtime', m.unit, 'TasksAccounting=yes');
  sleepMs(300);
  t.same(files(), V1_FILES, 'after systemd re-wrote the cgroup: the v1 files');
  gone(t, d.rc, rc);
  gone(t, d.sk, sk);
});

test('nothing of ours is left: systemctl list-units \'skiff-*\' is empty', async (t) => {
  t.equal(systemctl('list-units', '--all', '--no-legend', 'skiff-*').trim(), '', 'no skiff units');
  t.equal(systemctl('list-units', '--all', '--no-legend', 'runc-*').trim(), '', 'no runc units');
});
