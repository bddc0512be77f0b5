// runc's types.Stats from the v1 hierarchies (libcontainer/cgroups/fs GetStats).
import * as fs from 'fs';
import * as path from 'path';
import { type BlkioEntry, type U, keyValues, memEntry, omit, pidsStats, rawStats, readFile, statsTail, u } from '../stats';

const USER_HZ = 100n;

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

function cpu(cpuacct: string | undefined, cpuDir: string | undefined): Record<string, unknown> {
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
  const cpuStat = keyValues(readFile(cpuDir, 'cpu.stat'));
  return {
    usage: {
      ...omit({ total: u(cpuacct, 'cpuacct.usage'), percpu, percpu_kernel: percpuKernel, percpu_user: percpuUser }),
      kernel: ((acctStat.get('system') ?? 0n) * 1_000_000_000n) / USER_HZ,
      user: ((acctStat.get('user') ?? 0n) * 1_000_000_000n) / USER_HZ,
    },
    throttling: omit({ periods: cpuStat.get('nr_periods'), throttledPeriods: cpuStat.get('nr_throttled'), throttledTime: cpuStat.get('throttled_time') }),
  };
}

function cpuset(dir: string | undefined): Record<string, unknown> {
  return {
    ...omit({ cpus: cpuList(readFile(dir, 'cpuset.cpus')) }),
    cpu_exclusive: u(dir, 'cpuset.cpu_exclusive'),
    ...omit({ mems: cpuList(readFile(dir, 'cpuset.mems')) }),
    mem_hardwall: u(dir, 'cpuset.mem_hardwall'),
    mem_exclusive: u(dir, 'cpuset.mem_exclusive'),
    memory_migrate: u(dir, 'cpuset.memory_migrate'),
    memory_spread_page: u(dir, 'cpuset.memory_spread_page'),
    memory_spread_slab: u(dir, 'cpuset.memory_spread_slab'),
    memory_pressure: u(dir, 'cpuset.memory_pressure'),
    sched_load_balance: u(dir, 'cpuset.sched_load_balance'),
    sched_relax_domain_level: BigInt((readFile(dir, 'cpuset.sched_relax_domain_level') ?? '0').trim() || '0'),
  };
}

function memory(dir: string | undefined): Record<string, unknown> {
  const raw = keyValues(readFile(dir, 'memory.stat'));
  const entry = (prefix: string) => {
    if (readFile(dir, `${prefix}.usage_in_bytes`) === undefined && prefix !== 'memory') return memEntry(0n, 0n, 0n, 0n);
    return memEntry(u(dir, `${prefix}.limit_in_bytes`), u(dir, `${prefix}.usage_in_bytes`), u(dir, `${prefix}.max_usage_in_bytes`), u(dir, `${prefix}.failcnt`));
  };
  return {
    ...omit({ cache: raw.get('cache') }),
    usage: entry('memory'),
    swap: entry('memory.memsw'),
    kernel: entry('memory.kmem'),
    kernelTCP: entry('memory.kmem.tcp'),
    ...rawStats(raw),
  };
}

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

const BLKIO_KEYS = ['ioServiceBytesRecursive', 'ioServicedRecursive', 'ioQueueRecursive', 'ioServiceTimeRecursive',
  'ioWaitTimeRecursive', 'ioMergedRecursive', 'ioTimeRecursive', 'sectorsRecursive'];
const BLKIO_FILES = ['io_service_bytes_recursive', 'io_serviced_recursive', 'io_queued_recursive', 'io_service_time_recursive',
  'io_wait_time_recursive', 'io_merged_recursive', 'time_recursive', 'sectors_recursive'];

// As runc: the CFQ files, else BFQ's, else the throttle counters alone.
function blkio(dir: string | undefined): Record<string, BlkioEntry[]> {
  const has = (f: string) => fs.existsSync(path.join(dir ?? '/nonexistent', f));
  const files: [string, string][] = has('blkio.io_serviced_recursive')
    ? BLKIO_KEYS.map((k, i) => [k, `blkio.${BLKIO_FILES[i]}`])
    : has('blkio.bfq.io_serviced_recursive')
      ? BLKIO_KEYS.map((k, i) => [k, `blkio.bfq.${BLKIO_FILES[i]}`])
      : [['ioServiceBytesRecursive', 'blkio.throttle.io_service_bytes_recursive'], ['ioServicedRecursive', 'blkio.throttle.io_serviced_recursive']];
  const out: Record<string, BlkioEntry[]> = {};
  for (const [key, file] of files) out[key] = blkioEntries(readFile(dir, file));
  return omit(out);
}

function hugetlb(dir: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!dir) return out;
  // sorted, as runc's Go map keys are written (see v2/stats.ts)
  for (const f of fs.readdirSync(dir).sort()) {
    const m = /^hugetlb\.(\w+)\.usage_in_bytes$/.exec(f);
    if (!m) continue;
    out[m[1]] = { ...omit({ usage: u(dir, f), max: u(dir, `hugetlb.${m[1]}.max_usage_in_bytes`) }), failcnt: u(dir, `hugetlb.${m[1]}.failcnt`) };
  }
  return out;
}

export function stats(dirs: Record<string, string>): Record<string, unknown> {
  return {
    cpu: cpu(dirs['cpuacct'], dirs['cpu']),
    cpuset: cpuset(dirs['cpuset']),
    memory: memory(dirs['memory']),
    pids: pidsStats(dirs['pids']),
    blkio: blkio(dirs['blkio']),
    hugetlb: hugetlb(dirs['hugetlb']),
    ...statsTail,
  };
}
