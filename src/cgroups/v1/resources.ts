// linux.resources into the v1 hierarchies, with runc's translations (libcontainer/cgroups/fs).
import type { Resources } from '../../oci/spec';
import { SkiffError } from '../../errors';
import { type ApplyOptions, type Section, Writer, cpuset, hugetlb, isSet, n, pids, sections, writeTail } from '../writer';
import type { V1Cgroups } from './cgroups';

class V1Writer extends Writer {
  constructor(readonly dirs: Record<string, string>, opts: ApplyOptions) {
    super(opts);
  }

  dir(ctrl: string, field: string): string {
    const d = this.dirs[ctrl];
    if (!d) this.fail(field, `the ${ctrl} cgroup controller is not available on this host (cgroup v1)`);
    return d;
  }

  protected missing(ctrl: string, file: string): string {
    return `this host's ${ctrl} cgroup has no ${file}`;
  }
}

function memoryLimits(w: V1Writer, m: Section): void {
  const limit = n(m.limit);
  let swap = n(m.swap);
  const setLimit = () => {
    if (!limit) return;
    w.write('memory', 'memory.limit_in_bytes', String(limit), 'memory.limit', (e) => {
      if (e.code !== 'EBUSY') return false;
      const usage = w.read('memory', 'memory.usage_in_bytes', 'memory.limit');
      const max = w.read('memory', 'memory.max_usage_in_bytes', 'memory.limit');
      w.fail('memory.limit', `unable to set memory limit to ${limit} (current usage: ${usage}, peak usage: ${max})`);
    });
  };
  const setSwap = () => { if (swap) w.write('memory', 'memory.memsw.limit_in_bytes', String(swap), 'memory.swap'); };
  if (limit === -1 && swap === 0 && w.exists('memory', 'memory.memsw.limit_in_bytes', 'memory.limit')) swap = -1;
  if (limit !== 0 && swap !== 0) {
    // The kernel wants memory <= memory+swap at every step: raise swap first when growing.
    const cur = Number(w.read('memory', 'memory.limit_in_bytes', 'memory.limit'));
    if (swap === -1 || cur < swap) {
      setSwap();
      setLimit();
      return;
    }
  }
  setLimit();
  setSwap();
}

function memory(w: V1Writer, m: Section): void {
  memoryLimits(w, m);
  if (m.reservation) w.write('memory', 'memory.soft_limit_in_bytes', String(m.reservation), 'memory.reservation');
  if (m.disableOOMKiller === true) w.write('memory', 'memory.oom_control', '1', 'memory.disableOOMKiller');
  if (isSet(m.useHierarchy)) w.write('memory', 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', 'memory.useHierarchy');
  const sw = m.swappiness as number | undefined;
  if (isSet(sw) && sw !== -1) {
    if (sw! > 100) w.fail('memory.swappiness', `invalid memory swappiness value: ${sw} (valid range is 0-100)`);
    w.write('memory', 'memory.swappiness', String(sw), 'memory.swappiness');
  }
}

// Writes a value the kernel may refuse (EINVAL) until the quota is set; returns it when it
// has to be written again afterwards.
function early(w: V1Writer, file: string, value: string, field: string): string {
  if (!value) return '';
  let retry = false;
  w.write('cpu', file, value, field, (e) => (retry = e.code === 'EINVAL'));
  return retry ? value : '';
}

function cpu(w: V1Writer, c: Section): void {
  const shares = n(c.shares);
  if (shares) {
    w.write('cpu', 'cpu.shares', String(shares), 'cpu.shares');
    const read = Number(w.read('cpu', 'cpu.shares', 'cpu.shares'));
    if (shares > read) w.fail('cpu.shares', `the maximum allowed cpu-shares is ${read}`);
    if (shares < read) w.fail('cpu.shares', `the minimum allowed cpu-shares is ${read}`);
  }
  // A period smaller than the current one can be refused until the quota is set: retry it
  // afterwards, as runc does (and the burst with it).
  const period = early(w, 'cpu.cfs_period_us', n(c.period) ? String(c.period) : '', 'cpu.period');
  const burst = early(w, 'cpu.cfs_burst_us', isSet(c.burst) ? String(c.burst) : '', 'cpu.burst');
  if (n(c.quota)) w.write('cpu', 'cpu.cfs_quota_us', String(c.quota), 'cpu.quota');
  if (period) w.write('cpu', 'cpu.cfs_period_us', period, 'cpu.period');
  if (burst) w.write('cpu', 'cpu.cfs_burst_us', burst, 'cpu.burst');
  if (n(c.realtimePeriod)) w.write('cpu', 'cpu.rt_period_us', String(c.realtimePeriod), 'cpu.realtimePeriod');
  if (n(c.realtimeRuntime)) w.write('cpu', 'cpu.rt_runtime_us', String(c.realtimeRuntime), 'cpu.realtimeRuntime');
  if (isSet(c.idle)) w.write('cpu', 'cpu.idle', String(c.idle), 'cpu.idle');
}

interface DevLimit { major: number; minor: number; rate?: number; weight?: number; leafWeight?: number }
const THROTTLES: [string, string][] = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
];

function blkio(w: V1Writer, b: Section): void {
  const classic = w.exists('blkio', 'blkio.weight', 'blockIO');
  const [weightFile, deviceFile] = classic ? ['blkio.weight', 'blkio.weight_device'] : ['blkio.bfq.weight', 'blkio.bfq.weight_device'];
  if (n(b.weight)) w.write('blkio', weightFile, String(b.weight), 'blockIO.weight');
  if (n(b.leafWeight)) w.write('blkio', 'blkio.leaf_weight', String(b.leafWeight), 'blockIO.leafWeight');
  ((b.weightDevice as DevLimit[] | undefined) ?? []).forEach((d, i) => {
    if (d.weight) w.write('blkio', deviceFile, `${d.major}:${d.minor} ${d.weight}`, `blockIO.weightDevice[${i}].weight`);
    if (d.leafWeight) w.write('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`, `blockIO.weightDevice[${i}].leafWeight`);
  });
  for (const [key, file] of THROTTLES) {
    ((b[key] as DevLimit[] | undefined) ?? []).forEach((d, i) =>
      w.write('blkio', file, `${d.major}:${d.minor} ${d.rate}`, `blockIO.${key}[${i}]`));
  }
}

function network(w: V1Writer, net: Section): void {
  if (isSet(net.classID)) w.write('net_cls', 'net_cls.classid', String(net.classID), 'network.classID');
  ((net.priorities as { name: string; priority: number }[] | undefined) ?? []).forEach((p, i) =>
    w.write('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`));
}

// runc's fs order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
export function applyResources(cg: V1Cgroups, r: Resources | undefined, opts: ApplyOptions): void {
  const w = new V1Writer(cg.record.dirs, opts);
  const { res, mem, cpu: c } = sections(r, w);
  cpuset(w, c);
  if (!w.opts.skipDevices) cg.setDevices(r?.devices);
  if (Object.keys(mem).length) memory(w, mem);
  if (Object.keys(c).length) cpu(w, c);
  if (res.pids) pids(w, res.pids as { limit?: number });
  if (res.blockIO) blkio(w, res.blockIO as Section);
  writeTail(w, res, {
    hugetlb: (limits) => hugetlb(w, limits, 'limit_in_bytes', () => false),
    network: (net) => network(w, net),
    // runc's words first ("invalid configuration: ..."), which its callers match.
    unified: () => { throw new SkiffError('config', `invalid configuration: ${w.opts.file}: ${w.name('unified')}: cannot use unified on cgroup v1`); },
  });
}
