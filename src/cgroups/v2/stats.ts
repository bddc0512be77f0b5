// runc's types.Stats from the container's cgroup2 directory (libcontainer/cgroups/fs2), in
// the v1 shape runc keeps on v2.
import * as fs from 'fs';
import { type BlkioEntry, MAX_U64, keyValues, memEntry, omit, pidsStats, rawStats, readFile, statsTail, u } from '../stats';

function cpu(dir: string): Record<string, unknown> {
  const cpuStat = keyValues(readFile(dir, 'cpu.stat'));
  return {
    usage: {
      ...omit({ total: (cpuStat.get('usage_usec') ?? 0n) * 1000n }),
      kernel: (cpuStat.get('system_usec') ?? 0n) * 1000n,
      user: (cpuStat.get('user_usec') ?? 0n) * 1000n,
    },
    throttling: omit({ periods: cpuStat.get('nr_periods'), throttledPeriods: cpuStat.get('nr_throttled'), throttledTime: (cpuStat.get('throttled_usec') ?? 0n) * 1000n }),
  };
}

const CPUSET = {
  cpu_exclusive: 0n, mem_hardwall: 0n, mem_exclusive: 0n, memory_migrate: 0n, memory_spread_page: 0n,
  memory_spread_slab: 0n, memory_pressure: 0n, sched_load_balance: 0n, sched_relax_domain_level: 0n,
};

function memory(dir: string): Record<string, unknown> {
  const raw = keyValues(readFile(dir, 'memory.stat'));
  const memCurrent = u(dir, 'memory.current');
  const memMax = readFile(dir, 'memory.max') === undefined ? 0n : u(dir, 'memory.max');
  const swapCurrent = u(dir, 'memory.swap.current');
  let swapLimit = readFile(dir, 'memory.swap.max') === undefined ? 0n : u(dir, 'memory.swap.max');
  // v1 reports memory+swap: so does runc on v2.
  if (swapLimit !== MAX_U64) swapLimit += memMax;
  return {
    ...omit({ cache: raw.get('file') }),
    usage: memEntry(memMax, memCurrent, 0n, 0n),
    swap: memEntry(swapLimit, swapCurrent + memCurrent, 0n, 0n),
    kernel: memEntry(0n, 0n, 0n, 0n),
    kernelTCP: memEntry(0n, 0n, 0n, 0n),
    ...rawStats(raw),
  };
}

function blkio(dir: string): Record<string, BlkioEntry[]> {
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
  return omit({ ioServiceBytesRecursive: read, ioServicedRecursive: ios });
}

function hugetlb(dir: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // sorted: runc's JSON is a Go map, whose keys encoding/json writes in order; readdir's order
  // is the filesystem's (and differs between Node and Bun)
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const m = /^hugetlb\.(\w+)\.current$/.exec(f);
    if (!m) continue;
    out[m[1]] = { ...omit({ usage: u(dir, f) }), failcnt: keyValues(readFile(dir, `hugetlb.${m[1]}.events`)).get('max') ?? 0n };
  }
  return out;
}

export function stats(dir: string): Record<string, unknown> {
  return {
    cpu: cpu(dir),
    cpuset: { ...CPUSET },
    memory: memory(dir),
    pids: pidsStats(dir),
    blkio: blkio(dir),
    hugetlb: hugetlb(dir),
    ...statsTail,
  };
}
