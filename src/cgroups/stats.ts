// Container statistics in runc's `events` shape (types.Stats as runc 1.1 encodes it: Go field
// order, omitempty where runc has it). Counters are uint64 in the kernel: they are kept as
// bigint and printed exactly (a memory limit of 2^63-4096 does not survive a double).
import * as fs from 'fs';
import * as path from 'path';
import type { CgroupRecord } from './manager';

type U = bigint;
const MAX_U64 = 2n ** 64n - 1n;

function readFile(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

function u(dir: string | undefined, file: string): U {
  const t = readFile(dir, file)?.trim();
  if (!t) return 0n;
  if (t === 'max') return MAX_U64;
  try {
    return BigInt(t.split(/\s+/)[0]);
  } catch {
    return 0n;
  }
}

// "key value" lines (memory.stat, cpu.stat, memory.events) as a map.
function keyValues(text: string | undefined): Map<string, U> {
  const m = new Map<string, U>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

// "0-2,5" -> [0, 1, 2, 5]
function cpuList(text: string | undefined): number[] {
  const out: number[] = [];
  for (const part of (text ?? '').trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.push(i);
  }
  return out;
}

const omit = <T extends object>(o: T): T => {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === 0n || (Array.isArray(v) && v.length === 0)) delete (o as Record<string, unknown>)[k];
  }
  return o;
};

interface MemoryEntry { limit: U; usage?: U; max?: U; failcnt: U }
const memEntry = (limit: U, usage: U, max: U, failcnt: U): MemoryEntry => ({ limit, ...omit({ usage, max }), failcnt });

interface BlkioEntry { major?: U; minor?: U; op?: string; value?: U }

function blkioEntries(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(/[ :]/).filter(Boolean);
    if (f.length < 3) continue; // "Total N" and blank lines
    const op = f.length === 4 ? f[2] : '';
    const value = BigInt(f[f.length === 4 ? 3 : 2]);
    out.push(omit({ major: BigInt(f[0]), minor: BigInt(f[1]), op: op || undefined, value }));
  }
  return out;
}

function statsV1(dirs: Record<string, string>): Record<string, unknown> {
  const cpuacct = dirs['cpuacct'];
  const cpu = dirs['cpu'];
  const ticks = 100n; // USER_HZ
  const acctStat = keyValues(readFile(cpuacct, 'cpuacct.stat'));
  const percpuKernel: U[] = [];
  const percpuUser: U[] = [];
  for (const line of (readFile(cpuacct, 'cpuacct.usage_all') ?? '').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length === 3) {
      percpuUser.push(BigInt(f[1]));
      percpuKernel.push(BigInt(f[2]));
    }
  }
  const percpu = (readFile(cpuacct, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(BigInt);
  const cpuStat = keyValues(readFile(cpu, 'cpu.stat'));
  const cpuset = dirs['cpuset'];
  const mem = dirs['memory'];
  const raw = keyValues(readFile(mem, 'memory.stat'));
  const entry = (prefix: string) => {
    if (readFile(mem, `${prefix}.usage_in_bytes`) === undefined && prefix !== 'memory') return memEntry(0n, 0n, 0n, 0n);
    return memEntry(u(mem, `${prefix}.limit_in_bytes`), u(mem, `${prefix}.usage_in_bytes`), u(mem, `${prefix}.max_usage_in_bytes`), u(mem, `${prefix}.failcnt`));
  };
  const pidsMax = readFile(dirs['pids'], 'pids.max')?.trim();
  const blk = dirs['blkio'];
  const blkio: Record<string, BlkioEntry[]> = {};
  const blkFiles: [string, string][] = fs.existsSync(path.join(blk ?? '/nonexistent', 'blkio.io_serviced_recursive'))
    ? [['ioServiceBytesRecursive', 'blkio.io_service_bytes_recursive'], ['ioServicedRecursive', 'blkio.io_serviced_recursive'],
      ['ioQueueRecursive', 'blkio.io_queued_recursive'], ['ioServiceTimeRecursive', 'blkio.io_service_time_recursive'],
      ['ioWaitTimeRecursive', 'blkio.io_wait_time_recursive'], ['ioMergedRecursive', 'blkio.io_merged_recursive'],
      ['ioTimeRecursive', 'blkio.time_recursive'], ['sectorsRecursive', 'blkio.sectors_recursive']]
    : fs.existsSync(path.join(blk ?? '/nonexistent', 'blkio.bfq.io_serviced_recursive'))
      ? [['ioServiceBytesRecursive', 'blkio.bfq.io_service_bytes_recursive'], ['ioServicedRecursive', 'blkio.bfq.io_serviced_recursive'],
        ['ioQueueRecursive', 'blkio.bfq.io_queued_recursive'], ['ioServiceTimeRecursive', 'blkio.bfq.io_service_time_recursive'],
        ['ioWaitTimeRecursive', 'blkio.bfq.io_wait_time_recursive'], ['ioMergedRecursive', 'blkio.bfq.io_merged_recursive'],
        ['ioTimeRecursive', 'blkio.bfq.time_recursive'], ['sectorsRecursive', 'blkio.bfq.sectors_recursive']]
      : [['ioServiceBytesRecursive', 'blkio.throttle.io_service_bytes_recursive'], ['ioServicedRecursive', 'blkio.throttle.io_serviced_recursive']];
  for (const [key, file] of blkFiles) blkio[key] = blkioEntries(readFile(blk, file));
  const hugetlb: Record<string, unknown> = {};
  const hdir = dirs['hugetlb'];
  if (hdir) {
    for (const f of fs.readdirSync(hdir)) {
      const m = /^hugetlb\.(\w+)\.usage_in_bytes$/.exec(f);
      if (!m) continue;
      hugetlb[m[1]] = { ...omit({ usage: u(hdir, f), max: u(hdir, `hugetlb.${m[1]}.max_usage_in_bytes`) }), failcnt: u(hdir, `hugetlb.${m[1]}.failcnt`) };
    }
  }
  return {
    cpu: {
      usage: {
        ...omit({ total: u(cpuacct, 'cpuacct.usage'), percpu, percpu_kernel: percpuKernel, percpu_user: percpuUser }),
        kernel: ((acctStat.get('system') ?? 0n) * 1_000_000_000n) / ticks,
        user: ((acctStat.get('user') ?? 0n) * 1_000_000_000n) / ticks,
      },
      throttling: omit({ periods: cpuStat.get('nr_periods'), throttledPeriods: cpuStat.get('nr_throttled'), throttledTime: cpuStat.get('throttled_time') }),
    },
    cpuset: {
      ...omit({ cpus: cpuList(readFile(cpuset, 'cpuset.cpus')) }),
      cpu_exclusive: u(cpuset, 'cpuset.cpu_exclusive'),
      ...omit({ mems: cpuList(readFile(cpuset, 'cpuset.mems')) }),
      mem_hardwall: u(cpuset, 'cpuset.mem_hardwall'),
      mem_exclusive: u(cpuset, 'cpuset.mem_exclusive'),
      memory_migrate: u(cpuset, 'cpuset.memory_migrate'),
      memory_spread_page: u(cpuset, 'cpuset.memory_spread_page'),
      memory_spread_slab: u(cpuset, 'cpuset.memory_spread_slab'),
      memory_pressure: u(cpuset, 'cpuset.memory_pressure'),
      sched_load_balance: u(cpuset, 'cpuset.sched_load_balance'),
      sched_relax_domain_level: BigInt((readFile(cpuset, 'cpuset.sched_relax_domain_level') ?? '0').trim() || '0'),
    },
    memory: {
      ...omit({ cache: raw.get('cache') }),
      usage: entry('memory'),
      swap: entry('memory.memsw'),
      kernel: entry('memory.kmem'),
      kernelTCP: entry('memory.kmem.tcp'),
      ...(raw.size ? { raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {}),
    },
    pids: omit({ current: u(dirs['pids'], 'pids.current'), limit: pidsMax === 'max' ? 0n : u(dirs['pids'], 'pids.max') }),
    blkio: omit(blkio),
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

function statsV2(dir: string): Record<string, unknown> {
  const cpuStat = keyValues(readFile(dir, 'cpu.stat'));
  const raw = keyValues(readFile(dir, 'memory.stat'));
  const memCurrent = u(dir, 'memory.current');
  const memMax = readFile(dir, 'memory.max') === undefined ? 0n : u(dir, 'memory.max');
  const swapCurrent = u(dir, 'memory.swap.current');
  let swapLimit = readFile(dir, 'memory.swap.max') === undefined ? 0n : u(dir, 'memory.swap.max');
  // v1 reports memory+swap: so does runc on v2.
  if (swapLimit !== MAX_U64) swapLimit += memMax;
  const read: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (readFile(dir, 'io.stat') ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    const kv = new Map(f.slice(1).map((x) => x.split('=') as [string, string]));
    const e = (op: string, v: string | undefined) => omit({ major: BigInt(dev[1]), minor: BigInt(dev[2]), op, value: BigInt(v ?? '0') });
    read.push(e('Read', kv.get('rbytes')), e('Write', kv.get('wbytes')));
    ios.push(e('Read', kv.get('rios')), e('Write', kv.get('wios')));
  }
  const hugetlb: Record<string, unknown> = {};
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const m = /^hugetlb\.(\w+)\.current$/.exec(f);
    if (!m) continue;
    hugetlb[m[1]] = { ...omit({ usage: u(dir, f) }), failcnt: keyValues(readFile(dir, `hugetlb.${m[1]}.events`)).get('max') ?? 0n };
  }
  const pidsMax = readFile(dir, 'pids.max')?.trim();
  return {
    cpu: {
      usage: {
        ...omit({ total: (cpuStat.get('usage_usec') ?? 0n) * 1000n }),
        kernel: (cpuStat.get('system_usec') ?? 0n) * 1000n,
        user: (cpuStat.get('user_usec') ?? 0n) * 1000n,
      },
      throttling: omit({ periods: cpuStat.get('nr_periods'), throttledPeriods: cpuStat.get('nr_throttled'), throttledTime: (cpuStat.get('throttled_usec') ?? 0n) * 1000n }),
    },
    cpuset: {
      cpu_exclusive: 0n, mem_hardwall: 0n, mem_exclusive: 0n, memory_migrate: 0n, memory_spread_page: 0n,
      memory_spread_slab: 0n, memory_pressure: 0n, sched_load_balance: 0n, sched_relax_domain_level: 0n,
    },
    memory: {
      ...omit({ cache: raw.get('file') }),
      usage: memEntry(memMax, memCurrent, 0n, 0n),
      swap: memEntry(swapLimit, swapCurrent + memCurrent, 0n, 0n),
      kernel: memEntry(0n, 0n, 0n, 0n),
      kernelTCP: memEntry(0n, 0n, 0n, 0n),
      ...(raw.size ? { raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {}),
    },
    pids: omit({ current: u(dir, 'pids.current'), limit: pidsMax === 'max' ? 0n : u(dir, 'pids.max') }),
    blkio: omit({ ioServiceBytesRecursive: read, ioServicedRecursive: ios }),
    hugetlb,
    intel_rdt: {},
    network_interfaces: null,
  };
}

export function containerStats(rec: CgroupRecord): Record<string, unknown> {
  return rec.kind === 'v1' ? statsV1(rec.dirs) : statsV2(rec.dirs[''] ?? '');
}
