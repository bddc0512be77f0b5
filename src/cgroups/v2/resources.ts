// linux.resources into the container's cgroup2 directory, with runc's translations
// (libcontainer/cgroups/fs2). What v2 cannot do is refused by name, never dropped.
import * as fs from 'fs';
import * as path from 'path';
import type { Resources } from '../../oci/spec';
import { type ApplyOptions, type Section, Writer, cpuset, hugetlb, isSet, n, pids, sections, writeTail } from '../writer';
import type { V2Cgroups } from './cgroups';

// runc's cgroups.ConvertCPUSharesToCgroupV2Value (1.1): [2, 262144] -> [1, 10000].
export function sharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.trunc(((shares - 2) * 9999) / 262142); // Go's integer division
}

// runc's cgroups.ConvertBlkIOToIOWeightValue: [10, 1000] -> [1, 10000].
export function blkioToIoWeight(w: number): number {
  if (w === 0) return 0;
  return 1 + Math.trunc(((w - 10) * 9999) / 990);
}

// runc's cgroups.ConvertMemorySwapToCgroupV2Value: OCI's memory+swap total to v2's swap alone.
export function swapToV2(swap: number, memory: number): number {
  if (memory === -1 && swap === 0) return -1;
  if (swap === -1 || swap === 0) return swap;
  if (memory === 0 || memory === -1) throw new Error('unable to set swap limit without memory limit');
  if (memory < 0) throw new Error(`invalid memory value: ${memory}`);
  if (swap < memory) throw new Error('memory+swap limit should be >= memory limit');
  return swap - memory;
}

// fs2's numToStr: 0 is "unset", -1 is "max".
const v2num = (v: number | undefined): string => (!v ? '' : v === -1 ? 'max' : String(v));

// Every controller's files are in the one directory: `ctrl` only names it in messages.
class V2Writer extends Writer {
  constructor(readonly unified: string | undefined, opts: ApplyOptions) {
    super(opts);
  }

  dir(_ctrl: string, field: string): string {
    if (!this.unified) this.fail(field, 'no cgroup v2 directory for this container');
    return this.unified;
  }

  protected missing(_ctrl: string, file: string): string {
    return `the ${file.split('.')[0]} controller is not enabled for this cgroup (${file} is missing)`;
  }
}

function refuseMemory(w: V2Writer, m: Section): void {
  if (isSet(m.swappiness) && m.swappiness !== -1) {
    w.fail('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness; leave it unset');
  }
  if (m.disableOOMKiller === true) w.fail('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer for a cgroup');
  if (m.useHierarchy === false) w.fail('memory.useHierarchy', 'cgroup v2 is always hierarchical');
}

function memory(w: V2Writer, m: Section): void {
  const limit = n(m.limit);
  const swap = n(m.swap);
  refuseMemory(w, m);
  if (!limit && !swap && !n(m.reservation)) return;
  let v2swap: number;
  try {
    v2swap = swapToV2(swap, limit);
  } catch (e) {
    w.fail('memory.swap', (e as Error).message);
  }
  if (m.checkBeforeUpdate === true && limit > 0) {
    let usage = NaN;
    try {
      usage = Number(w.read('memory', 'memory.current', 'memory.limit'));
    } catch {
      // no memory.current: nothing to check against
    }
    if (usage > limit) w.fail('memory.limit', `rejecting memory limit ${limit} below current usage ${usage}`);
  }
  let swapStr = v2num(v2swap);
  if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0'; // memory == memory+swap: no swap
  if (swapStr !== '') {
    w.write('memory', 'memory.swap.max', swapStr, 'memory.swap', (e) => e.code === 'ENOENT' && (swapStr === 'max' || swapStr === '0'));
  }
  const lim = v2num(limit);
  if (lim) w.write('memory', 'memory.max', lim, 'memory.limit');
  const low = v2num(n(m.reservation));
  if (low) w.write('memory', 'memory.low', low, 'memory.reservation');
}

function cpu(w: V2Writer, c: Section): void {
  if (n(c.realtimePeriod) || n(c.realtimeRuntime)) {
    w.fail(n(c.realtimeRuntime) ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod', 'cgroup v2 has no realtime group scheduling; leave it unset');
  }
  const weight = sharesToWeight(n(c.shares));
  if (weight) w.write('cpu', 'cpu.weight', String(weight), 'cpu.shares');
  if (isSet(c.idle)) w.write('cpu', 'cpu.idle', String(c.idle), 'cpu.idle');
  const quota = n(c.quota);
  const period = n(c.period);
  if (quota || period) {
    let v = quota > 0 ? String(quota) : 'max';
    if (period) v += ` ${period}`;
    w.write('cpu', 'cpu.max', v, quota ? 'cpu.quota' : 'cpu.period');
  }
  if (isSet(c.burst)) w.write('cpu', 'cpu.max.burst', String(c.burst), 'cpu.burst');
}

interface DevLimit { major: number; minor: number; rate?: number; weight?: number; leafWeight?: number }
const THROTTLES: [string, string][] = [
  ['throttleReadBpsDevice', 'rbps'], ['throttleWriteBpsDevice', 'wbps'],
  ['throttleReadIOPSDevice', 'riops'], ['throttleWriteIOPSDevice', 'wiops'],
];

function io(w: V2Writer, b: Section): void {
  const noLeaf = 'cgroup v2 has no leaf weights; leave it unset';
  if (n(b.leafWeight)) w.fail('blockIO.leafWeight', noLeaf);
  const devices = (b.weightDevice as DevLimit[] | undefined) ?? [];
  devices.forEach((d, i) => { if (d.leafWeight) w.fail(`blockIO.weightDevice[${i}].leafWeight`, noLeaf); });
  // With BFQ, weights go to io.bfq.weight as they are; without it, io.weight with a conversion.
  const bfq = (n(b.weight) || devices.length) && w.exists('io', 'io.bfq.weight', 'blockIO') ? 'io.bfq.weight' : undefined;
  // Per-device BFQ weights need kernel 5.4+, which shows "default N" in io.bfq.weight.
  const bfqDevices = !!bfq && /^default /.test(w.read('io', 'io.bfq.weight', 'blockIO'));
  if (n(b.weight)) {
    if (bfq) w.write('io', bfq, String(b.weight), 'blockIO.weight');
    else w.write('io', 'io.weight', String(blkioToIoWeight(n(b.weight))), 'blockIO.weight');
  }
  devices.forEach((d, i) => {
    if (!d.weight) return;
    const field = `blockIO.weightDevice[${i}].weight`;
    if (!bfqDevices) {
      w.fail(field, 'per-device weights need the BFQ I/O scheduler (io.bfq.weight with per-device support) on cgroup v2');
    }
    w.write('io', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, field);
  });
  for (const [key, name] of THROTTLES) {
    ((b[key] as DevLimit[] | undefined) ?? []).forEach((d, i) =>
      w.write('io', 'io.max', `${d.major}:${d.minor} ${name}=${d.rate}`, `blockIO.${key}[${i}]`));
  }
}

function network(w: V2Writer, net: Section): void {
  const k = net.classID !== undefined ? 'classID' : 'priorities';
  if (net.classID !== undefined || (net.priorities as unknown[] | undefined)?.length) {
    w.fail(`network.${k}`, 'cgroup v2 has no net_cls or net_prio controller');
  }
}

function unified(w: V2Writer, u: Record<string, string>): void {
  const dir = w.dir('', 'unified');
  const available = new Set(fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
  for (const [k, v] of Object.entries(u)) {
    const ctrl = k.split('.')[0];
    if (!fs.existsSync(path.join(dir, k))) {
      if (ctrl !== 'cgroup' && !available.has(ctrl)) w.fail(`unified.${k}`, `can't be set: controller ${JSON.stringify(ctrl)} not available`);
      w.fail(`unified.${k}`, `no such file in the container's cgroup`);
    }
    // runc's WriteFileByLine: one write per line (io.max, rdma.max take one entry a write).
    for (const line of v.split('\n')) if (line !== '') w.write(ctrl, k, line, `unified.${k}`);
  }
}

// No hugetlb.* file at all: the controller is off here, not the page size unknown.
const hugetlbOff = (w: V2Writer) => (field: string) => !fs.readdirSync(w.dir('', field)).some((f) => f.startsWith('hugetlb.'));

// runc's fs2 order: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma, unified.
export function applyResources(cg: V2Cgroups, r: Resources | undefined, opts: ApplyOptions): void {
  const w = new V2Writer(cg.record.unified, opts);
  const { res, mem, cpu: c } = sections(r, w);
  if (res.pids) pids(w, res.pids as { limit?: number });
  memory(w, mem);
  if (res.blockIO) io(w, res.blockIO as Section);
  cpu(w, c);
  if (!w.opts.skipDevices) cg.setDevices(r?.devices);
  cpuset(w, c);
  writeTail(w, res, {
    hugetlb: (limits) => hugetlb(w, limits, 'max', hugetlbOff(w)),
    network: (net) => network(w, net),
    unified: (u) => unified(w, u),
  });
}
