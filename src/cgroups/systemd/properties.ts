// linux.resources as systemd unit properties, with runc's conversions
// (libcontainer/cgroups/systemd/{common,v1,v2}.go, cgroups/devices/systemd.go). systemd owns
// these on the unit: if only the files held them, systemd would write its own values back
// the next time it realizes the cgroup. Everything else goes to the files (the cgroupfs
// driver writes all of it after, as runc's Set does).
import * as fs from 'fs';
import type { DeviceRule, Resources } from '../../oci/spec';
import { effectiveRules } from '../devices';
import { emulate } from '../v2/bpf';
import { sharesToWeight, swapToV2, blkioToIoWeight } from '../v2/resources';
import { n } from '../writer';

// One D-Bus property: its name, its signature, its value (uint64 as bigint).
export type Property = [name: string, signature: string, value: unknown];

// USEC_INFINITY / CGROUP_LIMIT_MAX: systemd's "no limit".
export const INFINITY = 2n ** 64n - 1n;
const DEFAULT_PERIOD = 100000;

// -1 is "unlimited" in the OCI config; systemd reads (uint64)-1 as infinity, as runc sends it.
const u64 = (v: number): bigint => (v === -1 ? INFINITY : BigInt(v));

// runc's addCpuQuota: a quota per second, rounded up to 10 ms (systemd keeps whole percents).
export function cpuQuotaProperties(quota: number, period: number): Property[] {
  const out: Property[] = [];
  if (period) out.push(['CPUQuotaPeriodUSec', 't', BigInt(period)]);
  if (quota || period) {
    let perSec = INFINITY;
    if (quota > 0) {
      const p = BigInt(period || DEFAULT_PERIOD);
      perSec = (BigInt(quota) * 1000000n) / p;
      if (perSec % 10000n !== 0n) perSec = (perSec / 10000n + 1n) * 10000n;
    }
    out.push(['CPUQuotaPerSecUSec', 't', perSec]);
  }
  return out;
}

// runc's RangeToBits: "0-2,7" -> the little-endian bit mask systemd's AllowedCPUs takes.
export function rangeToBits(list: string): Buffer {
  const bytes: number[] = [];
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const [a, b] = part.split('-').map((x) => Number(x.trim()));
    const hi = b ?? a;
    if (!Number.isInteger(a) || !Number.isInteger(hi) || hi < a) throw new Error(`invalid range ${JSON.stringify(part)}`);
    for (let i = a; i <= hi; i++) {
      while (bytes.length <= i >> 3) bytes.push(0);
      bytes[i >> 3] |= 1 << (i & 7);
    }
  }
  return Buffer.from(bytes.length ? bytes : [0]);
}

function cpusetProperties(cpus: unknown, mems: unknown): Property[] {
  const out: Property[] = [];
  if (cpus) out.push(['AllowedCPUs', 'ay', rangeToBits(String(cpus))]);
  if (mems) out.push(['AllowedMemoryNodes', 'ay', rangeToBits(String(mems))]);
  return out;
}

// The device group /proc/devices gives a major ("char-pts" for 136), as runc 1.1 names a
// wildcard-minor rule; "char-136" (systemd 240+ reads it too) where the kernel lists none.
export function deviceGroup(type: 'b' | 'c', major: number, procDevices?: string): string {
  const prefix = type === 'b' ? 'block-' : 'char-';
  let text = procDevices;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/devices', 'utf8');
    } catch {
      text = '';
    }
  }
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === 'Character devices:' || line === 'Block devices:') section = line[0] === 'C' ? 'c' : 'b';
    const m = /^(\d+) (.+)$/.exec(line);
    if (m && section === type && Number(m[1]) === major) return prefix + m[2];
  }
  return prefix + major;
}

// runc's systemdProperties for devices: strict whitelist of the emulated rules; a rule set
// that allows everything is DevicePolicy=auto; a blacklist systemd cannot say becomes
// deny-all here (the BPF program written after says the rest). "*:n" rules are skipped.
export function deviceProperties(rules: DeviceRule[] | undefined, procDevices?: string): Property[] {
  const { defaultAllow, rules: clean } = emulate(effectiveRules(rules));
  if (defaultAllow) {
    if (clean.length === 0) return [['DevicePolicy', 's', 'auto'], ['DeviceAllow', 'a(ss)', []]];
    return [['DevicePolicy', 's', 'strict'], ['DeviceAllow', 'a(ss)', []]];
  }
  const allow: [string, string][] = [];
  for (const r of clean) {
    const group = r.type === 'b' ? 'block-' : 'char-';
    if (r.major < 0) {
      if (r.minor < 0) allow.push([`${group}*`, r.access]);
    } else if (r.minor < 0) {
      allow.push([deviceGroup(r.type, r.major, procDevices), r.access]);
    } else {
      allow.push([`/dev/${r.type === 'b' ? 'block' : 'char'}/${r.major}:${r.minor}`, r.access]);
    }
  }
  return [['DevicePolicy', 's', 'strict'], ['DeviceAllow', 'a(ss)', []], ['DeviceAllow', 'a(ss)', allow]];
}

interface Throttle { major: number; minor: number; rate: number }
const IO_LIMITS: [string, string][] = [
  ['throttleReadBpsDevice', 'IOReadBandwidthMax'], ['throttleWriteBpsDevice', 'IOWriteBandwidthMax'],
  ['throttleReadIOPSDevice', 'IOReadIOPSMax'], ['throttleWriteIOPSDevice', 'IOWriteIOPSMax'],
];

// IO on v2: the weight (converted as for io.weight) and the per-device limits, named by
// the /dev/block/MAJ:MIN path systemd resolves.
function ioProperties(b: Record<string, unknown>): Property[] {
  const out: Property[] = [];
  if (n(b.weight)) out.push(['IOWeight', 't', BigInt(blkioToIoWeight(n(b.weight)))]);
  for (const [key, prop] of IO_LIMITS) {
    const list = (b[key] as Throttle[] | undefined) ?? [];
    if (list.length) out.push([prop, 'a(st)', list.map((d) => [`/dev/block/${d.major}:${d.minor}`, BigInt(d.rate)])]);
  }
  return out;
}

// runc's unifiedResToSystemdProps: the unified keys systemd has a property for.
const UNIFIED_MEMORY: Record<string, string> = {
  'memory.high': 'MemoryHigh', 'memory.low': 'MemoryLow', 'memory.min': 'MemoryMin',
  'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax',
};

function maxOrNumber(v: string): bigint {
  return v === 'max' ? INFINITY : BigInt(v);
}

export function unifiedProperties(u: Record<string, string>): Property[] {
  const out: Property[] = [];
  for (const [k, raw] of Object.entries(u)) {
    const v = raw.trim();
    try {
      if (k === 'cpu.max') {
        const [q, p] = v.split(/\s+/);
        out.push(...cpuQuotaProperties(q === 'max' ? 0 : Number(q), p ? Number(p) : DEFAULT_PERIOD));
      } else if (k === 'cpu.weight') out.push(['CPUWeight', 't', BigInt(v)]);
      else if (k === 'cpuset.cpus') out.push(['AllowedCPUs', 'ay', rangeToBits(v)]);
      else if (k === 'cpuset.mems') out.push(['AllowedMemoryNodes', 'ay', rangeToBits(v)]);
      else if (UNIFIED_MEMORY[k]) out.push([UNIFIED_MEMORY[k], 't', maxOrNumber(v)]);
      else if (k === 'pids.max') out.push(['TasksMax', 't', maxOrNumber(v)]);
      // anything else is only a file (the cgroupfs driver writes it)
    } catch {
      throw new Error(`unified.${k}: ${JSON.stringify(raw)} is not a value systemd can take`);
    }
  }
  return out;
}

export interface PropertyOptions {
  version: 'v1' | 'v2';
  skipDevices?: boolean;
}

type Sec = Record<string, unknown>;

// genV2ResourcesProperties / genV1ResourcesProperties of runc 1.1, plus IO on v2.
export function resourceProperties(r: Resources | undefined, opts: PropertyOptions): Property[] {
  const res = (r ?? {}) as Sec;
  const mem = (res.memory ?? {}) as Sec;
  const cpu = (res.cpu ?? {}) as Sec;
  const out: Property[] = opts.skipDevices ? [] : deviceProperties(r?.devices);
  const limit = n(mem.limit);
  const v2 = opts.version === 'v2';
  if (limit) out.push([v2 ? 'MemoryMax' : 'MemoryLimit', 't', u64(limit)]);
  if (v2) {
    if (n(mem.reservation)) out.push(['MemoryLow', 't', u64(n(mem.reservation))]);
    const swap = swapToV2(n(mem.swap), limit);
    // memory+swap equal to the limit is "no swap" (memory.swap.max 0). runc sends nothing
    // then, and systemd writes its default (max) back at the next realize: Skiff says 0.
    if (swap || (limit > 0 && n(mem.swap) === limit)) out.push(['MemorySwapMax', 't', u64(swap)]);
    const weight = sharesToWeight(n(cpu.shares));
    if (weight) out.push(['CPUWeight', 't', BigInt(weight)]);
  } else if (n(cpu.shares)) out.push(['CPUShares', 't', BigInt(n(cpu.shares))]);
  out.push(...cpuQuotaProperties(n(cpu.quota), n(cpu.period)));
  const blkio = (res.blockIO ?? {}) as Sec;
  if (v2) out.push(...ioProperties(blkio));
  else if (n(blkio.weight)) out.push(['BlockIOWeight', 't', BigInt(n(blkio.weight))]);
  const pids = n((res.pids as Sec | undefined)?.limit);
  if (pids > 0 || pids === -1) out.push(['TasksMax', 't', u64(pids)]);
  out.push(...cpusetProperties(cpu.cpus, cpu.mems));
  if (v2 && res.unified) out.push(...unifiedProperties(res.unified as Record<string, string>));
  return out;
}

// What every container's scope gets (runc's Apply): the slice, delegation, accounting on for
// every controller (so systemd enables them), no default dependencies.
export function scopeProperties(slice: string, description: string, pid: number, version: 'v1' | 'v2'): Property[] {
  return [
    ['Description', 's', description],
    ['Slice', 's', slice],
    ['PIDs', 'au', [pid]],
    ['Delegate', 'b', true],
    ['MemoryAccounting', 'b', true],
    ['CPUAccounting', 'b', true],
    [version === 'v2' ? 'IOAccounting' : 'BlockIOAccounting', 'b', true],
    ['TasksAccounting', 'b', true],
    ['DefaultDependencies', 'b', false],
  ];
}

// Whether this host's init is systemd (sd_booted: /run/systemd/system is a directory).
export function systemdBooted(): boolean {
  try {
    return fs.lstatSync('/run/systemd/system').isDirectory();
  } catch {
    return false;
  }
}
