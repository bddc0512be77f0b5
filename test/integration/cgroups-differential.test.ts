// The same linux.resources under Debian's runc and under Skiff: the value of every cgroup
// file each one writes, read back from each container's own cgroup, must be the same; so must
// the keys of `events --stats`, and the outcome (success or failure) of a few edge cases.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, differential, uniqueId, Runtime } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';
import { blockDevice, cgroupDirOf, ctrlOf, isV2 } from './cgroups-helpers';

const { both, cleanup } = differential();
t.teardown(cleanup);
const v2 = isV2();
const MB = 1024 * 1024;
type Res = NonNullable<NonNullable<Spec['linux']>['resources']>;

// The files compared: everything either runtime may write for the resources used below.
const V1_FILES = [
  'memory.limit_in_bytes', 'memory.soft_limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.swappiness',
  'memory.oom_control', 'memory.kmem.limit_in_bytes', 'memory.kmem.tcp.limit_in_bytes',
  'cpu.shares', 'cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.rt_runtime_us', 'cpu.rt_period_us',
  'cpuset.cpus', 'cpuset.mems', 'pids.max',
  'blkio.weight', 'blkio.bfq.weight', 'blkio.throttle.read_bps_device', 'blkio.throttle.write_bps_device',
  'blkio.throttle.read_iops_device', 'blkio.throttle.write_iops_device', 'devices.list',
];
const V2_FILES = [
  'memory.max', 'memory.low', 'memory.high', 'memory.swap.max', 'cpu.weight', 'cpu.max', 'cpuset.cpus', 'cpuset.mems',
  'pids.max', 'io.weight', 'io.bfq.weight', 'io.max', 'cgroup.subtree_control', 'cgroup.type',
];

function files(rt: Runtime, id: string): Record<string, string> {
  const pid = rt.state(id).pid as number;
  const out: Record<string, string> = {};
  for (const f of v2 ? V2_FILES : V1_FILES) {
    const dir = cgroupDirOf(pid, ctrlOf(f === 'devices.list' ? 'devices.list' : f));
    if (!dir) continue;
    try {
      const text = fs.readFileSync(path.join(dir, f), 'utf8').trim();
      // The kernel lists device rules in the order they were written: compare the set.
      out[f] = f === 'devices.list' ? text.split('\n').sort().join('\n') : text;
    } catch {
      out[f] = '(none)';
    }
  }
  return out;
}


const dev = blockDevice();
const configs: [string, Res][] = [
  ['memory', { memory: { limit: 64 * MB, reservation: 16 * MB, swap: 96 * MB, ...(v2 ? {} : { swappiness: 20, kernel: 32 * MB, kernelTCP: 8 * MB }) } }],
  ['memory unlimited', { memory: { limit: -1 } }],
  ['memory = swap', { memory: { limit: 48 * MB, swap: 48 * MB } }],
  ['oom killer off', v2 ? { memory: { limit: 40 * MB } } : { memory: { disableOOMKiller: true, limit: 40 * MB } }],
  ['cpu', { cpu: { shares: 700, quota: 25000, period: 50000, cpus: '0', mems: '0' } }],
  ['cpu quota only', { cpu: { quota: 30000 } }],
  ['cpu period only', { cpu: { period: 200000 } }],
  ['cpu unlimited quota', { cpu: { quota: -1, period: 100000 } }],
  ['cpu max shares', { cpu: { shares: 262144 } }],
  ['pids', { pids: { limit: 123 } }],
  ['pids unlimited', { pids: { limit: -1 } }],
  ['blkio', { blockIO: { weight: 300, ...(dev ? {
    throttleReadBpsDevice: [{ ...dev, rate: 2 * MB }], throttleWriteBpsDevice: [{ ...dev, rate: 3 * MB }],
    throttleReadIOPSDevice: [{ ...dev, rate: 200 }], throttleWriteIOPSDevice: [{ ...dev, rate: 300 }],
  } : {}) } }],
  ['devices', { devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: 7, access: 'r' }] }],
];
if (!v2) configs.push(['cpu realtime', { cpu: { realtimePeriod: 100000, realtimeRuntime: 1000 } }]);
if (v2) configs.push(['unified', { unified: { 'memory.high': String(50 * MB), 'pids.max': '77' } }]);

// Under emulation (test/vm) every process start costs a second or more: merge the configs
// that touch different files into three, keeping the ones that conflict apart.
function merged(): [string, Res][] {
  const pick = (...names: string[]) => Object.assign({}, ...names.map((n) => configs.find(([m]) => m === n)![1])) as Res;
  return [
    ['memory, cpu, pids, blkio, devices', pick('memory', 'cpu', 'pids', 'blkio', 'devices')],
    ['memory = swap, cpu quota only, pids unlimited, unified', pick('memory = swap', 'cpu quota only', 'pids unlimited', ...(v2 ? ['unified'] : []))],
    ['memory unlimited, cpu period only, max shares', { memory: { limit: -1 }, cpu: { period: 200000, shares: 262144 } }],
  ];
}

for (const [name, res] of process.env.SKIFF_IN_VM ? merged() : configs) {
  t.test(`${name}: the same values in the same files`, async (t) => {
    const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }], ...res }; } });
    const id = uniqueId('cgd');
    const [a, c] = both((rt) => {
      const r = rt.run(['create', '-b', b.dir, id]);
      if (r.code !== 0) return { error: r.stderr };
      const f = files(rt, id);
      rt.run(['delete', '-f', id]);
      return f;
    });
    t.same(c, a, `skiff (second) matches runc (first): ${JSON.stringify(a).slice(0, 300)}`);
  });
}

t.test('edge cases fail (or not) as runc does', async (t) => {
  const cases: [string, Res][] = [
    ['limit below usage', { memory: { limit: 4096 } }],
    ['swap below limit', { memory: { limit: 100 * MB, swap: 50 * MB } }],
    ['swap without limit', { memory: { swap: 100 * MB } }],
    ['cpus out of range', { cpu: { cpus: '64' } }],
    ['period too small', { cpu: { period: 500 } }],
    ['unified', { unified: { 'memory.high': '1000000' } }],
  ];
  if (!v2) cases.push(['shares too small', { cpu: { shares: 1 } }], ['shares too large', { cpu: { shares: 300000 } }]);
  for (const [name, res] of cases) {
    const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }], ...res }; } });
    const id = uniqueId('cge');
    const [a, c] = both((rt) => {
      const r = rt.run(['create', '-b', b.dir, id]);
      rt.run(['delete', '-f', id]);
      return r;
    });
    t.equal(c.code === 0, a.code === 0, `${name}: runc ${a.code === 0 ? 'succeeds' : `fails (${a.stderr.trim().slice(-120)})`}; skiff ${c.code === 0 ? 'succeeds' : `fails (${c.stderr.trim().slice(-160)})`}`);
  }
});

t.test('update: the same files after the same update', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 64 * MB, swap: 64 * MB }, pids: { limit: 20 }, cpu: { shares: 1024 } }; } });
  const id = uniqueId('cgu');
  const steps: [string, string[], string?][] = [
    ['flags', ['--memory', '128m', '--memory-swap', '256m', '--cpu-share', '512', '--cpu-quota', '40000', '--cpu-period', '80000', '--pids-limit', '30']],
    ['-r -', ['-r', '-'], JSON.stringify({ memory: { limit: 96 * MB }, cpu: { cpus: '0' }, pids: { limit: 25 }, blockIO: { weight: 600 } })],
    ['memory -1', ['--memory', '-1']],
  ];
  both((rt) => rt.run(['create', '-b', b.dir, id]));
  for (const [name, args, input] of steps) {
    const [a, c] = both((rt) => {
      const r = rt.run(['update', ...args, id], { input });
      return { code: r.code, files: files(rt, id) };
    });
    t.same(c, a, `${name}: skiff matches runc`);
  }
  both((rt) => rt.run(['delete', '-f', id]));
});

// Keys only: values are live counters. Zero-valued counters are omitted by runc (omitempty),
// so the comparison is on a quiet, started container read at the same moment.
function keyPaths(v: unknown, prefix = '', out: string[] = []): string[] {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) {
      out.push(prefix + k);
      keyPaths(x, `${prefix}${k}.`, out);
    }
  }
  return out;
}

t.test('events --stats: the same JSON keys', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 64 * MB }, pids: { limit: 40 }, cpu: { quota: 50000, period: 100000 } }; } });
  const id = uniqueId('cgs');
  const [a, c] = both((rt) => {
    rt.run(['create', '-b', b.dir, id]);
    rt.run(['start', id]);
    const r = rt.run(['events', '--stats', id]);
    rt.run(['delete', '-f', id]);
    return JSON.parse(r.stdout);
  });
  t.equal(c.type, a.type);
  t.same(Object.keys(c), Object.keys(a), 'event keys');
  t.same(Object.keys(c.data), Object.keys(a.data), 'data keys, in order');
  // Counters that may be zero in one and not the other (cpu throttling, percpu) are dropped.
  const stable = (p: string[]) => p.filter((k) => !/^cpu\.(throttling\.|usage\.(percpu|kernel|user))|^memory\.(cache|.*\.(usage|max))$|^blkio\./.test(k));
  t.same(stable(keyPaths(c.data)), stable(keyPaths(a.data)), 'key paths');
  t.same(Object.keys(c.data.memory.raw ?? {}), Object.keys(a.data.memory.raw ?? {}), 'memory.raw keys (sorted, as Go prints maps)');
  t.same(c.data.memory.usage.limit, a.data.memory.usage.limit, 'memory limit value');
  t.same(c.data.pids.limit, a.data.pids.limit, 'pids limit value');
  t.same(c.data.cpuset.cpus, a.data.cpuset.cpus, 'cpuset.cpus value');
});
