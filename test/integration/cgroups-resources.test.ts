// linux.resources on real containers, on whichever hierarchy this machine has (v1/hybrid on
// the host, pure v2 inside test/vm/run-v2.sh): values written, limits enforced (OOM kill
// reported by `events`, a fork bomb stopped at pids.max, a CPU quota throttling), `update`,
// and clear errors for what the host cannot do.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, skiff, uniqueId, tmpDir } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';
import { sharesToWeight, blkioToIoWeight } from '../../src/cgroups/v2/resources';
import { blockDevice, cgroupDirOf, isV2, readCg, waitFor, sleepMs } from './cgroups-helpers';

const sk = skiff();
t.teardown(() => sk.cleanup());
const v2 = isV2();
const MB = 1024 * 1024;

type Res = NonNullable<NonNullable<Spec['linux']>['resources']>;
function withResources(args: string[], res: Res, edit?: (s: Spec) => void) {
  return makeBundle({ args, edit: (s) => { s.linux!.resources = { ...s.linux!.resources, ...res }; edit?.(s); } });
}

function createStarted(dir: string, id: string, start = true): number {
  const r = sk.run(['create', '-b', dir, id]);
  if (r.code !== 0) throw new Error(`create ${id}: ${r.stderr}`);
  if (start) {
    const s = sk.run(['start', id]);
    if (s.code !== 0) throw new Error(`start ${id}: ${s.stderr}`);
  }
  return sk.state(id).pid as number;
}

t.test('every supported resource lands in its cgroup file with runc\'s translation', async (t) => {
  const dev = blockDevice();
  const res: Res = {
    memory: { limit: 64 * MB, reservation: 32 * MB, swap: 128 * MB, ...(v2 ? {} : { swappiness: 30 }) },
    cpu: { shares: 512, quota: 20000, period: 100000, burst: 1000, cpus: '0', mems: '0' },
    pids: { limit: 64 },
    blockIO: { weight: 500, ...(dev ? { throttleReadBpsDevice: [{ ...dev, rate: MB }], throttleWriteIOPSDevice: [{ ...dev, rate: 100 }] } : {}) },
    // v2 guests have the hugetlb controller (this v1 host has it on the unified side only).
    ...(v2 ? { hugepageLimits: [{ pageSize: '2MB', limit: 4 * MB }], unified: { 'memory.high': String(60 * MB) } } : {}),
  };
  const b = withResources(['sleep', '1000'], res);
  const id = uniqueId('cg-write');
  const pid = createStarted(b.dir, id);
  const expect: Record<string, string> = v2
    ? {
      'memory.max': String(64 * MB), 'memory.low': String(32 * MB), 'memory.swap.max': String(64 * MB),
      'cpu.weight': String(sharesToWeight(512)), 'cpu.max': '20000 100000', 'cpuset.cpus': '0', 'cpuset.mems': '0', 'pids.max': '64',
      'hugetlb.2MB.max': String(4 * MB), 'memory.high': String(60 * MB), 'cpu.max.burst': '1000',
    }
    : {
      'memory.limit_in_bytes': String(64 * MB), 'memory.soft_limit_in_bytes': String(32 * MB),
      'memory.memsw.limit_in_bytes': String(128 * MB), 'memory.swappiness': '30',
      'cpu.shares': '512', 'cpu.cfs_quota_us': '20000', 'cpu.cfs_period_us': '100000', 'cpu.cfs_burst_us': '1000',
      'cpuset.cpus': '0', 'cpuset.mems': '0', 'pids.max': '64',
    };
  if (v2) {
    if (fs.existsSync(path.join(cgroupDirOf(pid, 'io')!, 'io.bfq.weight'))) expect['io.bfq.weight'] = 'default 500';
    else expect['io.weight'] = `default ${blkioToIoWeight(500)}`;
  } else {
    expect[fs.existsSync(path.join(cgroupDirOf(pid, 'blkio')!, 'blkio.weight')) ? 'blkio.weight' : 'blkio.bfq.weight'] = '500';
  }
  for (const [file, want] of Object.entries(expect)) { const got = readCg(pid, file); t.equal(got, want, `${file} = ${got}`); }
  if (dev) {
    const d = `${dev.major}:${dev.minor}`;
    if (v2) {
      t.match(readCg(pid, 'io.max'), new RegExp(`^${d} rbps=${MB} wbps=max riops=max wiops=100$`, 'm'), 'io.max');
    } else {
      t.equal(readCg(pid, 'blkio.throttle.read_bps_device'), `${d} ${MB}`, 'blkio.throttle.read_bps_device');
      t.equal(readCg(pid, 'blkio.throttle.write_iops_device'), `${d} 100`, 'blkio.throttle.write_iops_device');
    }
  }
  // And the container really is in those cgroups.
  t.ok(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id), 'init placed in the container\'s cgroup');
  sk.run(['delete', '-f', id]);
  // cpu.idle on its own: an idle group reads back the idle weight as its shares/weight.
  const bi = withResources(['sleep', '1000'], { cpu: { idle: 1 } });
  const idi = uniqueId('cg-idle');
  const pi = createStarted(bi.dir, idi, false);
  t.equal(readCg(pi, 'cpu.idle'), '1', 'cpu.idle');
  sk.run(['delete', '-f', idi]);
});

t.test('a process over its memory limit is OOM-killed and events reports it', async (t) => {
  const b = withResources(['sh', '-c', 'sleep 1; dd if=/dev/zero of=/dev/null bs=96M count=1; sleep 1'], {
    memory: { limit: 32 * MB, swap: 32 * MB },
  });
  const id = uniqueId('cg-oom');
  createStarted(b.dir, id, false);
  const ev = sk.spawn(['events', '--interval', '1s', id]);
  let text = '';
  ev.stdout.on('data', (d) => (text += d));
  const exited = new Promise<number | null>((resolve) => ev.on('exit', resolve));
  sleepMs(300);
  t.equal(sk.run(['start', id]).code, 0, 'start');
  const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 60_000))]);
  if (code === 'timeout') ev.kill();
  const lines = text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.ok(lines.some((e) => e.type === 'oom' && e.id === id), 'an {"type":"oom"} event');
  t.ok(lines.some((e) => e.type === 'stats' && e.id === id && e.data.memory), 'stats events too');
  t.equal(code, 0, 'events ends when the container is gone');
  sk.run(['delete', '-f', id]);
});

t.test('a fork bomb stops at pids.max', async (t) => {
  // A subshell forks sleepers until fork fails (and then dies of it); the init survives by
  // exec'ing. The kernel refuses every fork past the limit.
  const b = withResources(['sh', '-c', '(while :; do sleep 100 & done) 2>/dev/null; exec sleep 100'], { pids: { limit: 16 } });
  const id = uniqueId('cg-pids');
  const pid = createStarted(b.dir, id);
  const refused = waitFor(() => Number(/max (\d+)/.exec(readCg(pid, 'pids.events') ?? '')?.[1] ?? 0), 20_000);
  t.ok(refused > 0, `the kernel refused forks at the limit (pids.events max ${refused})`);
  const current = Number(readCg(pid, 'pids.current'));
  t.ok(current >= 14 && current <= 16, `pids.current ${current} stays at or under 16`);
  const stats = JSON.parse(sk.run(['events', '--stats', id]).stdout);
  t.equal(stats.data.pids.limit, 16, 'events --stats pids.limit');
  t.equal(stats.data.pids.current, current, 'events --stats pids.current');
  t.equal(sk.state(id).status, 'running', 'the container lives on');
  sk.run(['delete', '-f', id]);
});

t.test('a CPU quota throttles', async (t) => {
  const b = withResources(['sh', '-c', 'while :; do :; done'], { cpu: { quota: 5000, period: 50000 } });
  const id = uniqueId('cg-cpu');
  const pid = createStarted(b.dir, id);
  const stat = () => Object.fromEntries((readCg(pid, 'cpu.stat') ?? '').split('\n').map((l) => l.split(' ')).map(([k, v]) => [k, Number(v)]));
  const throttled = waitFor(() => stat().nr_throttled > 2, 20_000);
  t.ok(throttled, `nr_throttled > 2 (${JSON.stringify(stat())})`);
  const s = JSON.parse(sk.run(['events', '--stats', id]).stdout);
  t.ok(s.data.cpu.throttling.throttledPeriods > 0, 'events --stats reports throttled periods');
  sk.run(['delete', '-f', id]);
});

t.test('update writes new limits and records them in state.json', async (t) => {
  const b = withResources(['sleep', '1000'], { memory: { limit: 64 * MB, swap: 64 * MB }, pids: { limit: 50 }, cpu: { shares: 1024 } });
  const id = uniqueId('cg-update');
  const pid = createStarted(b.dir, id);
  let r = sk.run(['update', '--memory', '128m', '--memory-swap', '256m', '--pids-limit', '77', '--cpu-share', '256', '--cpu-quota', '30000', '--cpu-period', '60000', id]);
  t.equal(r.code, 0, `update flags: ${r.stderr}`);
  if (v2) {
    t.equal(readCg(pid, 'memory.max'), String(128 * MB));
    t.equal(readCg(pid, 'memory.swap.max'), String(128 * MB));
    t.equal(readCg(pid, 'cpu.weight'), String(sharesToWeight(256)));
    t.equal(readCg(pid, 'cpu.max'), '30000 60000');
  } else {
    t.equal(readCg(pid, 'memory.limit_in_bytes'), String(128 * MB));
    t.equal(readCg(pid, 'memory.memsw.limit_in_bytes'), String(256 * MB));
    t.equal(readCg(pid, 'cpu.shares'), '256');
    t.equal(readCg(pid, 'cpu.cfs_quota_us'), '30000');
    t.equal(readCg(pid, 'cpu.cfs_period_us'), '60000');
  }
  t.equal(readCg(pid, 'pids.max'), '77');
  r = sk.run(['update', '-r', '-', id], { input: JSON.stringify({ memory: { limit: 96 * MB, swap: 200 * MB }, pids: { limit: 40 } }) });
  t.equal(r.code, 0, `update -r -: ${r.stderr}`);
  t.equal(readCg(pid, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(96 * MB));
  t.equal(readCg(pid, 'pids.max'), '40');
  const file = path.join(tmpDir('upd'), 'r.json');
  fs.writeFileSync(file, JSON.stringify({ cpu: { shares: 2048 } }));
  t.equal(sk.run(['update', '-r', file, id]).code, 0, 'update -r FILE');
  const state = JSON.parse(fs.readFileSync(path.join(sk.root, id, 'state.json'), 'utf8'));
  const rec = state.config.linux.resources;
  t.equal(rec.memory.limit, 96 * MB, 'recorded memory.limit');
  t.equal(rec.memory.swap, 200 * MB, 'recorded memory.swap');
  t.equal(rec.pids.limit, 40, 'recorded pids.limit');
  t.equal(rec.cpu.shares, 2048, 'recorded cpu.shares');
  t.equal(rec.cpu.quota, 30000, 'earlier update kept');
  // Errors: a bad value names the field, a limit below usage names the limit.
  r = sk.run(['update', '-r', '-', id], { input: '{"memory":{"limit":"lots"}}' });
  t.equal(r.code, 1);
  t.match(r.stderr, 'memory.limit: must be an integer');
  r = sk.run(['update', '--memory', 'lots', id]);
  t.not(r.code, 0);
  t.match(r.stderr, 'invalid value for memory');
  // v1: the kernel refuses (EBUSY); v2 would reclaim or OOM-kill, so memory.checkBeforeUpdate
  // asks for the check first.
  r = v2
    ? sk.run(['update', '-r', '-', id], { input: JSON.stringify({ memory: { limit: 4096, swap: 4096, checkBeforeUpdate: true } }) })
    : sk.run(['update', '--memory', '4096', '--memory-swap', '4096', id]);
  t.not(r.code, 0, 'a limit below current usage is refused');
  t.match(r.stderr, v2 ? /memory\.limit: rejecting memory limit 4096 below current usage \d+/ : /unable to set memory limit to 4096 \(current usage: \d+, peak usage: \d+\)/);
  t.equal(readCg(pid, v2 ? 'memory.max' : 'memory.limit_in_bytes'), String(96 * MB), 'and the old limit stays');
  sk.run(['delete', '-f', id]);
  r = sk.run(['update', '--memory', '1m', id]);
  t.equal(r.code, 1, 'update of a deleted container fails');
});

t.test('errors name the field and the reason', async (t) => {
  const cases: [string, Res, RegExp][] = [
    ['type', { memory: { limit: '1g' as unknown as number } }, /config\.json: linux\.resources\.memory\.limit: must be an integer/],
    ['unknown key', { memory: { limits: 1 } as never }, /linux\.resources\.memory\.limits: is not supported/],
    ['swappiness range', { memory: { swappiness: 200 } }, /linux\.resources\.memory\.swappiness: must be between 0 and 100/],
    ['cpus syntax', { cpu: { cpus: 'zero' } }, /linux\.resources\.cpu\.cpus: must be a list/],
    ['blkio weight range', { blockIO: { weight: 5 } }, /linux\.resources\.blockIO\.weight: must be between 10 and 1000/],
  ];
  if (!v2) cases.push(['shares too small', { cpu: { shares: 1 } }, /linux\.resources\.cpu\.shares: the minimum allowed cpu-shares is 2/]);
  if (v2) {
    cases.push(['network', { network: { classID: 1 } }, /linux\.resources\.network\.classID: cgroup v2 has no net_cls/]);
    cases.push(['realtime', { cpu: { realtimeRuntime: 1000 } }, /linux\.resources\.cpu\.realtimeRuntime: cgroup v2 has no realtime/]);
    cases.push(['swappiness on v2', { memory: { swappiness: 10 } }, /linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/]);
  } else {
    cases.push(['unified on v1', { unified: { 'memory.high': '1' } }, /linux\.resources\.unified: cannot use unified on cgroup v1/]);
    const l = (await import('../../src/cgroups/layout')).detectLayout();
    if (!l.v1.has('hugetlb')) cases.push(['hugetlb', { hugepageLimits: [{ pageSize: '2MB', limit: 2 * MB }] }, /linux\.resources\.hugepageLimits\[0\]: the hugetlb cgroup controller is not available on this host/]);
    if (!l.v1.has('net_cls')) cases.push(['net_cls', { network: { classID: 1 } }, /linux\.resources\.network\.classID: the net_cls cgroup controller is not available/]);
    if (!l.v1.has('rdma')) cases.push(['rdma', { rdma: { mlx5_0: { hcaHandles: 1 } } }, /linux\.resources\.rdma\.mlx5_0: the rdma cgroup controller is not available/]);
  }
  for (const [name, res, want] of cases) {
    const b = withResources(['true'], res);
    const id = uniqueId('cg-err');
    const r = sk.run(['create', '-b', b.dir, id]);
    t.equal(r.code, 1, `${name}: create fails`);
    t.match(r.stderr, want, `${name}: ${r.stderr.trim().slice(0, 160)}`);
    t.equal(sk.run(['state', id]).code, 1, `${name}: no state left behind`);
    t.same(cgroupDirsNamed(id), [], `${name}: no cgroup left behind`);
  }
});

t.test('device rules are enforced (v1 devices cgroup, v2 BPF program)', async (t) => {
  // /dev/fuse is made in the container but not allowed by the cgroup: opening it fails,
  // while /dev/null (a default rule) works.
  const b = makeBundle({
    args: ['sh', '-c', 'echo x > /dev/null && echo null-ok; cat /dev/fuse 2>&1; echo done'],
    edit: (s) => {
      s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
    },
  });
  const id = uniqueId('cg-dev');
  const r = sk.run(['run', '-b', b.dir, id]);
  t.match(r.stdout, 'null-ok', 'a default device works');
  t.match(r.stdout, /can't open '\/dev\/fuse': Operation not permitted/, `a device outside the rules is refused: ${r.stdout}`);
  // Allowed explicitly, it opens (reading /dev/fuse unmounted gives EPERM from fuse itself,
  // so only check the cgroup does not refuse the open: the error changes).
  const b2 = makeBundle({
    args: ['sh', '-c', 'cat /dev/fuse 2>&1; echo done'],
    edit: (s) => {
      s.linux!.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }];
      s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
    },
  });
  const r2 = sk.run(['run', '-b', b2.dir, uniqueId('cg-dev')]);
  t.notMatch(r2.stdout, /can't open/, `allowed: ${r2.stdout}`);
  if (v2) {
    const { native } = await import('../../src/native');
    const b3 = makeBundle({ args: ['sleep', '100'] });
    const id3 = uniqueId('cg-dev');
    const pid = createStarted(b3.dir, id3, false);
    t.equal(native().cgroups.deviceFilterCount(cgroupDirOf(pid, '')!), 1, 'one device program attached');
    sk.run(['delete', '-f', id3]);
  }
});

t.test('events --stats shape', async (t) => {
  const b = withResources(['sleep', '1000'], { memory: { limit: 64 * MB }, pids: { limit: 30 } });
  const id = uniqueId('cg-stats');
  createStarted(b.dir, id);
  const r = sk.run(['events', '--stats', id]);
  t.equal(r.code, 0);
  const e = JSON.parse(r.stdout);
  t.equal(e.type, 'stats');
  t.equal(e.id, id);
  t.same(Object.keys(e.data), ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces']);
  t.equal(e.data.memory.usage.limit, 64 * MB - (v2 ? 0 : 0), 'memory limit');
  t.ok(e.data.memory.usage.usage > 0, 'memory usage');
  t.equal(e.data.pids.limit, 30);
  t.ok(e.data.cpu.usage.total > 0, 'cpu usage');
  t.equal(r.stdout.split('\n').filter(Boolean).length, 1, 'one line');
  t.equal(sk.run(['events', '--interval', 'x', id]).code, 1, 'bad interval');
  sk.run(['kill', id, 'KILL']);
  waitFor(() => sk.state(id).status === 'stopped');
  const s = sk.run(['events', '--stats', id]);
  t.equal(s.code, 1);
  t.match(s.stderr, `container with id ${id} is not running`);
  sk.run(['delete', '-f', id]);
});
