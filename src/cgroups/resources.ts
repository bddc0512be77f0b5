// linux.resources: what is understood (checked at create and by `update -r`), and writing it
// into the container's cgroups with runc's translations (libcontainer/cgroups/fs for v1,
// fs2 for v2). Every error names the field it is about.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, errnoText } from '../errors';
import { logWarn } from '../log';
import type { Resources } from '../oci/spec';
import type { CgroupManager } from './manager';
import { I64, IntRange, U16, U32, U64, integerProblem } from '../oci/json';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- validation


class Checker {
  constructor(readonly file: string) {}
  fail(field: string, why: string): never {
    throw new SkiffError(`${this.file}: ${field}: ${why}`);
  }
  obj(v: Json, field: string): Record<string, Json> {
    if (!isObj(v)) this.fail(field, 'must be an object');
    return v;
  }
  arr(v: Json, field: string): Json[] {
    if (!Array.isArray(v)) this.fail(field, 'must be an array');
    return v;
  }
  // Cgroup values are written from JS numbers: one a double cannot hold exactly is refused.
  int(v: Json, field: string, range: IntRange): number {
    const why = integerProblem(v, range);
    if (why) this.fail(field, why);
    return v as number;
  }
  str(v: Json, field: string): string {
    if (typeof v !== 'string') this.fail(field, 'must be a string');
    return v;
  }
  bool(v: Json, field: string): boolean {
    if (typeof v !== 'boolean') this.fail(field, 'must be true or false');
    return v;
  }
  // Checks the keys of an object against a table of checkers; unknown keys are refused by name.
  keys(o: Record<string, Json>, field: string, table: Record<string, (v: Json, f: string) => unknown>): void {
    for (const [k, v] of Object.entries(o)) {
      const name = field ? `${field}.${k}` : k;
      const check = table[k];
      if (!check) this.fail(name, 'is not supported by skiff');
      if (v === undefined || v === null) continue;
      check(v, name);
    }
  }
}

const CPUSET_LIST = /^\s*(\d+(-\d+)?)(,\d+(-\d+)?)*\s*$/;

// Validates the types of linux.resources (or, for `update -r`, of the LinuxResources object
// at `base`). `file` starts every message.
export function checkResources(r: Record<string, unknown>, file = 'config.json', base = 'linux.resources'): void {
  const c = new Checker(file);
  const i64 = (v: Json, f: string) => c.int(v, f, I64);
  const u64 = (v: Json, f: string) => c.int(v, f, U64);
  const u32 = (v: Json, f: string) => c.int(v, f, U32);
  const u16 = (v: Json, f: string) => c.int(v, f, U16);
  const bool = (v: Json, f: string) => c.bool(v, f);
  const cpuList = (v: Json, f: string) => {
    const s = c.str(v, f);
    if (s !== '' && !CPUSET_LIST.test(s)) c.fail(f, `must be a list such as "0-3,6", not ${JSON.stringify(s)}`);
  };
  const list = (each: (o: Record<string, Json>, f: string) => void) => (v: Json, f: string) =>
    c.arr(v, f).forEach((e, i) => each(c.obj(e, `${f}[${i}]`), `${f}[${i}]`));
  const throttle = list((o, f) => {
    c.keys(o, f, { major: i64, minor: i64, rate: u64 });
    for (const k of ['major', 'minor', 'rate']) if (o[k] === undefined) c.fail(`${f}.${k}`, 'is required');
  });
  c.keys(r, base, {
    devices: () => undefined, // checked by the config validator
    memory: (v, f) => c.keys(c.obj(v, f), f, {
      limit: i64, reservation: i64, swap: i64, kernel: i64, kernelTCP: i64,
      swappiness: (x, g) => {
        // -1 (unset) is accepted as runc's clients send it; otherwise 0..100.
        if (x !== -1 && c.int(x, g, U64) > 100) c.fail(g, 'must be between 0 and 100');
      },
      disableOOMKiller: bool, useHierarchy: bool, checkBeforeUpdate: bool,
    }),
    cpu: (v, f) => c.keys(c.obj(v, f), f, {
      shares: u64, quota: i64, burst: u64, period: u64, realtimeRuntime: i64, realtimePeriod: u64,
      cpus: cpuList, mems: cpuList, idle: i64,
    }),
    pids: (v, f) => {
      const o = c.obj(v, f);
      c.keys(o, f, { limit: i64 });
      if (o.limit === undefined) c.fail(`${f}.limit`, 'is required');
    },
    blockIO: (v, f) => c.keys(c.obj(v, f), f, {
      weight: (x, g) => { const n = u16(x, g); if (n !== 0 && (n < 10 || n > 1000)) c.fail(g, 'must be between 10 and 1000'); },
      leafWeight: (x, g) => { const n = u16(x, g); if (n !== 0 && (n < 10 || n > 1000)) c.fail(g, 'must be between 10 and 1000'); },
      weightDevice: list((o, g) => {
        c.keys(o, g, { major: i64, minor: i64, weight: u16, leafWeight: u16 });
        for (const k of ['major', 'minor']) if (o[k] === undefined) c.fail(`${g}.${k}`, 'is required');
      }),
      throttleReadBpsDevice: throttle, throttleWriteBpsDevice: throttle,
      throttleReadIOPSDevice: throttle, throttleWriteIOPSDevice: throttle,
    }),
    hugepageLimits: list((o, f) => {
      c.keys(o, f, {
        pageSize: (x, g) => { if (!/^\d+[KMG]B$/.test(c.str(x, g))) c.fail(g, `must be a size such as "2MB", not ${JSON.stringify(x)}`); },
        limit: u64,
      });
      for (const k of ['pageSize', 'limit']) if (o[k] === undefined) c.fail(`${f}.${k}`, 'is required');
    }),
    network: (v, f) => c.keys(c.obj(v, f), f, {
      classID: u32,
      priorities: list((o, g) => {
        c.keys(o, g, { name: (x, h) => c.str(x, h), priority: u32 });
        for (const k of ['name', 'priority']) if (o[k] === undefined) c.fail(`${g}.${k}`, 'is required');
      }),
    }),
    rdma: (v, f) => {
      for (const [dev, lim] of Object.entries(c.obj(v, f))) {
        if (!/^[\w.-]+$/.test(dev)) c.fail(`${f}.${dev}`, 'is not an RDMA device name');
        c.keys(c.obj(lim, `${f}.${dev}`), `${f}.${dev}`, { hcaHandles: u32, hcaObjects: u32 });
      }
    },
    unified: (v, f) => {
      for (const [k, x] of Object.entries(c.obj(v, f))) {
        c.str(x, `${f}.${k}`);
        if (k.includes('/') || k === '.' || k === '..') c.fail(`${f}.${k}`, 'must be a file name (no slashes)');
        if (!/^[a-z_0-9]+\.[\w.]+$/.test(k)) c.fail(`${f}.${k}`, 'must be in the form CONTROLLER.PARAMETER');
      }
    },
  });
}

// ---------------------------------------------------------------- translations

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
const v2num = (n: number | undefined): string => (!n ? '' : n === -1 ? 'max' : String(n));

// ---------------------------------------------------------------- writing

export interface ApplyOptions {
  file?: string;          // what messages start with: "config.json" (create) or "update"
  base?: string;          // the field prefix: "linux.resources" or "" for update
  skipDevices?: boolean;  // update leaves the device rules alone, as runc does
}

const V1_CONTROLLER: Record<string, string> = {
  memory: 'memory', cpu: 'cpu', cpuset: 'cpuset', pids: 'pids', blockIO: 'blkio', hugepageLimits: 'hugetlb',
  classID: 'net_cls', priorities: 'net_prio', rdma: 'rdma',
};


class Writer {
  constructor(readonly cg: CgroupManager, readonly opts: Required<ApplyOptions>) {}

  get v2(): boolean {
    return this.cg.record.kind === 'v2';
  }

  name(field: string): string {
    return this.opts.base ? `${this.opts.base}.${field}` : field;
  }

  fail(field: string, why: string): never {
    throw new SkiffError(`${this.opts.file}: ${this.name(field)}: ${why}`);
  }

  // The directory a field's controller lives in, or a clear error when this host has none.
  dir(ctrl: string, field: string): string {
    if (this.v2) {
      const d = this.cg.record.dirs[''];
      if (!d) this.fail(field, 'no cgroup v2 directory for this container');
      return d;
    }
    const d = this.cg.record.dirs[ctrl];
    if (!d) this.fail(field, `the ${ctrl} cgroup controller is not available on this host (cgroup v1)`);
    return d;
  }

  exists(ctrl: string, file: string, field: string): boolean {
    return fs.existsSync(path.join(this.dir(ctrl, field), file));
  }

  read(ctrl: string, file: string, field: string): string {
    return fs.readFileSync(path.join(this.dir(ctrl, field), file), 'utf8').trim();
  }

  // Writes one value; the error names the field, the file and the kernel's answer.
  write(ctrl: string, file: string, value: string, field: string, onError?: (e: NodeJS.ErrnoException) => boolean): void {
    const p = path.join(this.dir(ctrl, field), file);
    try {
      // O_WRONLY without O_CREAT: a missing file is a missing controller, not a file to make.
      const fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
      try {
        fs.writeSync(fd, value);
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (onError?.(err)) return;
      if (err.code === 'ENOENT') {
        const c = this.v2 ? file.split('.')[0] : ctrl;
        this.fail(field, this.v2
          ? `the ${c} controller is not enabled for this cgroup (${file} is missing)`
          : `this host's ${c} cgroup has no ${file}`);
      }
      this.fail(field, `writing ${JSON.stringify(value)} to ${p}: ${errnoText(err)}`);
    }
  }
}

type Num = number | undefined;
const n = (v: unknown): number => (typeof v === 'number' ? v : 0);

function memoryV1(w: Writer, m: Record<string, unknown>): void {
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
  let done = false;
  if (limit !== 0 && swap !== 0) {
    // The kernel wants memory <= memory+swap at every step: raise swap first when growing.
    const cur = Number(w.read('memory', 'memory.limit_in_bytes', 'memory.limit'));
    if (swap === -1 || cur < swap) {
      setSwap();
      setLimit();
      done = true;
    }
  }
  if (!done) {
    setLimit();
    setSwap();
  }
  if (m.reservation) w.write('memory', 'memory.soft_limit_in_bytes', String(m.reservation), 'memory.reservation');
  if (m.disableOOMKiller === true) w.write('memory', 'memory.oom_control', '1', 'memory.disableOOMKiller');
  if (m.useHierarchy !== undefined && m.useHierarchy !== null) {
    w.write('memory', 'memory.use_hierarchy', m.useHierarchy ? '1' : '0', 'memory.useHierarchy');
  }
  const sw = m.swappiness as Num;
  if (sw !== undefined && sw !== null && sw !== -1) {
    if (sw > 100) w.fail('memory.swappiness', `invalid memory swappiness value: ${sw} (valid range is 0-100)`);
    w.write('memory', 'memory.swappiness', String(sw), 'memory.swappiness');
  }
}

function memoryV2(w: Writer, m: Record<string, unknown>): void {
  const limit = n(m.limit);
  const swap = n(m.swap);
  if (m.swappiness !== undefined && m.swappiness !== null && m.swappiness !== -1) {
    w.fail('memory.swappiness', 'cgroup v2 has no per-cgroup swappiness; leave it unset');
  }
  if (m.disableOOMKiller === true) w.fail('memory.disableOOMKiller', 'cgroup v2 cannot disable the OOM killer for a cgroup');
  if (m.useHierarchy === false) w.fail('memory.useHierarchy', 'cgroup v2 is always hierarchical');
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
      usage = Number(w.read('', 'memory.current', 'memory.limit'));
    } catch {
      // no memory.current: nothing to check against
    }
    if (usage > limit) w.fail('memory.limit', `rejecting memory limit ${limit} below current usage ${usage}`);
  }
  let swapStr = v2num(v2swap);
  if (swapStr === '' && v2swap === 0 && swap > 0) swapStr = '0'; // memory == memory+swap: no swap
  if (swapStr !== '') {
    w.write('', 'memory.swap.max', swapStr, 'memory.swap', (e) => e.code === 'ENOENT' && (swapStr === 'max' || swapStr === '0'));
  }
  const lim = v2num(limit);
  if (lim) w.write('', 'memory.max', lim, 'memory.limit');
  const low = v2num(n(m.reservation));
  if (low) w.write('', 'memory.low', low, 'memory.reservation');
}

function cpuV1(w: Writer, c: Record<string, unknown>): void {
  const shares = n(c.shares);
  if (shares) {
    w.write('cpu', 'cpu.shares', String(shares), 'cpu.shares');
    const read = Number(w.read('cpu', 'cpu.shares', 'cpu.shares'));
    if (shares > read) w.fail('cpu.shares', `the maximum allowed cpu-shares is ${read}`);
    if (shares < read) w.fail('cpu.shares', `the minimum allowed cpu-shares is ${read}`);
  }
  // A period smaller than the current one can be refused (EINVAL) until the quota is set:
  // retry it afterwards, as runc does.
  let period = n(c.period) ? String(c.period) : '';
  if (period) {
    let retry = false;
    w.write('cpu', 'cpu.cfs_period_us', period, 'cpu.period', (e) => (retry = e.code === 'EINVAL'));
    if (!retry) period = '';
  }
  let burst = c.burst !== undefined && c.burst !== null ? String(c.burst) : '';
  if (burst) {
    let retry = false;
    w.write('cpu', 'cpu.cfs_burst_us', burst, 'cpu.burst', (e) => (retry = e.code === 'EINVAL'));
    if (!retry) burst = '';
  }
  if (n(c.quota)) {
    w.write('cpu', 'cpu.cfs_quota_us', String(c.quota), 'cpu.quota');
    if (period) w.write('cpu', 'cpu.cfs_period_us', period, 'cpu.period');
    if (burst) w.write('cpu', 'cpu.cfs_burst_us', burst, 'cpu.burst');
  } else {
    if (period) w.write('cpu', 'cpu.cfs_period_us', period, 'cpu.period');
    if (burst) w.write('cpu', 'cpu.cfs_burst_us', burst, 'cpu.burst');
  }
  if (n(c.realtimePeriod)) w.write('cpu', 'cpu.rt_period_us', String(c.realtimePeriod), 'cpu.realtimePeriod');
  if (n(c.realtimeRuntime)) w.write('cpu', 'cpu.rt_runtime_us', String(c.realtimeRuntime), 'cpu.realtimeRuntime');
  if (c.idle !== undefined && c.idle !== null) w.write('cpu', 'cpu.idle', String(c.idle), 'cpu.idle');
}

function cpuV2(w: Writer, c: Record<string, unknown>): void {
  if (n(c.realtimePeriod) || n(c.realtimeRuntime)) {
    w.fail(n(c.realtimeRuntime) ? 'cpu.realtimeRuntime' : 'cpu.realtimePeriod', 'cgroup v2 has no realtime group scheduling; leave it unset');
  }
  const weight = sharesToWeight(n(c.shares));
  if (weight) w.write('', 'cpu.weight', String(weight), 'cpu.shares');
  if (c.idle !== undefined && c.idle !== null) w.write('', 'cpu.idle', String(c.idle), 'cpu.idle');
  const quota = n(c.quota);
  const period = n(c.period);
  if (quota || period) {
    let v = quota > 0 ? String(quota) : 'max';
    if (period) v += ` ${period}`;
    w.write('', 'cpu.max', v, quota ? 'cpu.quota' : 'cpu.period');
  }
  if (c.burst !== undefined && c.burst !== null) w.write('', 'cpu.max.burst', String(c.burst), 'cpu.burst');
}

function cpuset(w: Writer, c: Record<string, unknown>): void {
  const ctrl = 'cpuset';
  if (c.cpus) w.write(ctrl, 'cpuset.cpus', String(c.cpus), 'cpu.cpus');
  if (c.mems) w.write(ctrl, 'cpuset.mems', String(c.mems), 'cpu.mems');
}

function pids(w: Writer, p: { limit?: number }): void {
  const limit = n(p.limit);
  if (limit) w.write('pids', 'pids.max', limit > 0 ? String(limit) : 'max', 'pids.limit');
}

interface DevLimit { major: number; minor: number; rate?: number; weight?: number; leafWeight?: number }
const THROTTLES: [string, string, string][] = [
  ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device', 'wiops'],
];

function blkioV1(w: Writer, b: Record<string, unknown>): void {
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

function blkioV2(w: Writer, b: Record<string, unknown>): void {
  if (n(b.leafWeight)) w.fail('blockIO.leafWeight', 'cgroup v2 has no leaf weights; leave it unset');
  const devices = (b.weightDevice as DevLimit[] | undefined) ?? [];
  devices.forEach((d, i) => { if (d.leafWeight) w.fail(`blockIO.weightDevice[${i}].leafWeight`, 'cgroup v2 has no leaf weights; leave it unset'); });
  // With BFQ, weights go to io.bfq.weight as they are; without it, io.weight with a conversion.
  const bfq = (n(b.weight) || devices.length) && w.exists('', 'io.bfq.weight', 'blockIO') ? 'io.bfq.weight' : undefined;
  // Per-device BFQ weights need kernel 5.4+, which shows "default N" in io.bfq.weight.
  const bfqDevices = !!bfq && /^default /.test(w.read('', 'io.bfq.weight', 'blockIO'));
  if (n(b.weight)) {
    if (bfq) w.write('', bfq, String(b.weight), 'blockIO.weight');
    else w.write('', 'io.weight', String(blkioToIoWeight(n(b.weight))), 'blockIO.weight');
  }
  devices.forEach((d, i) => {
    if (!d.weight) return;
    const field = `blockIO.weightDevice[${i}].weight`;
    if (!bfqDevices) {
      w.fail(field, 'per-device weights need the BFQ I/O scheduler (io.bfq.weight with per-device support) on cgroup v2');
    }
    w.write('', 'io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`, field);
  });
  for (const [key, , name] of THROTTLES) {
    ((b[key] as DevLimit[] | undefined) ?? []).forEach((d, i) =>
      w.write('', 'io.max', `${d.major}:${d.minor} ${name}=${d.rate}`, `blockIO.${key}[${i}]`));
  }
}

function hugetlb(w: Writer, limits: { pageSize: string; limit: number }[]): void {
  let skipRsvd = false;
  limits.forEach((h, i) => {
    const field = `hugepageLimits[${i}]`;
    const prefix = `hugetlb.${h.pageSize}`;
    const [limitFile, rsvdFile] = w.v2 ? [`${prefix}.max`, `${prefix}.rsvd.max`] : [`${prefix}.limit_in_bytes`, `${prefix}.rsvd.limit_in_bytes`];
    if (!w.exists('hugetlb', limitFile, field)) {
      if (w.v2 && !fs.readdirSync(w.dir('', field)).some((f) => f.startsWith('hugetlb.'))) {
        w.fail(field, 'the hugetlb controller is not enabled for this cgroup');
      }
      w.fail(`${field}.pageSize`, `this host has no ${h.pageSize} huge pages`);
    }
    w.write('hugetlb', limitFile, String(h.limit), `${field}.limit`);
    if (skipRsvd) return;
    w.write('hugetlb', rsvdFile, String(h.limit), `${field}.limit`, (e) => (skipRsvd = e.code === 'ENOENT'));
  });
}

function network(w: Writer, net: Record<string, unknown>): void {
  if (w.v2) {
    const k = net.classID !== undefined ? 'classID' : 'priorities';
    if (net.classID !== undefined || (net.priorities as unknown[] | undefined)?.length) {
      w.fail(`network.${k}`, 'cgroup v2 has no net_cls or net_prio controller');
    }
    return;
  }
  if (net.classID !== undefined && net.classID !== null) {
    w.write('net_cls', 'net_cls.classid', String(net.classID), 'network.classID');
  }
  ((net.priorities as { name: string; priority: number }[] | undefined) ?? []).forEach((p, i) =>
    w.write('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`, `network.priorities[${i}]`));
}

function rdma(w: Writer, r: Record<string, { hcaHandles?: number; hcaObjects?: number }>): void {
  for (const [dev, lim] of Object.entries(r)) {
    const parts = [dev];
    if (lim.hcaHandles !== undefined && lim.hcaHandles !== null) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (lim.hcaObjects !== undefined && lim.hcaObjects !== null) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length === 1) continue;
    w.write('rdma', 'rdma.max', parts.join(' '), `rdma.${dev}`);
  }
}

function unified(w: Writer, u: Record<string, string>): void {
  if (!w.v2) w.fail('unified', 'cannot use unified on cgroup v1');
  const dir = w.dir('', 'unified');
  const available = new Set(fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/));
  for (const [k, v] of Object.entries(u)) {
    const ctrl = k.split('.')[0];
    if (!fs.existsSync(path.join(dir, k))) {
      if (ctrl !== 'cgroup' && !available.has(ctrl)) w.fail(`unified.${k}`, `can't be set: controller ${JSON.stringify(ctrl)} not available`);
      w.fail(`unified.${k}`, `no such file in the container's cgroup`);
    }
    // runc's WriteFileByLine: one write per line (io.max, rdma.max take one entry a write).
    for (const line of v.split('\n')) if (line !== '') w.write('', k, line, `unified.${k}`);
  }
}

let warnedKernel = false;

// Writes every resource in `r` into the container's cgroups, in runc's order: cpuset, devices,
// memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma on v1; pids, memory, io, cpu,
// devices, cpuset, hugetlb, rdma, unified on v2.
export function applyResources(cgroups: CgroupManager, r: Resources | undefined, opts: ApplyOptions = {}): void {
  const w = new Writer(cgroups, { file: opts.file ?? 'config.json', base: opts.base ?? 'linux.resources', skipDevices: !!opts.skipDevices });
  const res = (r ?? {}) as Record<string, unknown>;
  const mem = (res.memory ?? {}) as Record<string, unknown>;
  const cpu = (res.cpu ?? {}) as Record<string, unknown>;
  if ((n(mem.kernel) || n(mem.kernelTCP)) && !warnedKernel && !w.opts.skipDevices) {
    warnedKernel = true;
    logWarn('Kernel memory settings are ignored and will be removed');
  }
  if (w.v2) {
    if (res.pids) pids(w, res.pids as { limit?: number });
    memoryV2(w, mem);
    if (res.blockIO) blkioV2(w, res.blockIO as Record<string, unknown>);
    cpuV2(w, cpu);
    // The BPF emulator is only for v2 hosts: v1 never loads it.
    if (!w.opts.skipDevices) (require('./bpf') as typeof import('./bpf')).attachDeviceFilter(cgroups.record.dirs[''], r?.devices);
    cpuset(w, cpu);
  } else {
    cpuset(w, cpu);
    if (!w.opts.skipDevices) cgroups.applyDevices(r?.devices);
    if (Object.keys(mem).length) memoryV1(w, mem);
    if (Object.keys(cpu).length) cpuV1(w, cpu);
    if (res.pids) pids(w, res.pids as { limit?: number });
    if (res.blockIO) blkioV1(w, res.blockIO as Record<string, unknown>);
  }
  if ((res.hugepageLimits as unknown[] | undefined)?.length) hugetlb(w, res.hugepageLimits as { pageSize: string; limit: number }[]);
  if (res.network) network(w, res.network as Record<string, unknown>);
  if (res.rdma && Object.keys(res.rdma).length) rdma(w, res.rdma as Record<string, { hcaHandles?: number; hcaObjects?: number }>);
  if (res.unified && Object.keys(res.unified).length) unified(w, res.unified as Record<string, string>);
}

// Which v1 hierarchy a resources key needs (for messages and tests).
export const v1ControllerFor = (key: string): string | undefined => V1_CONTROLLER[key];
