// Container statistics in runc's `events` shape (types.Stats as runc 1.1 encodes it: Go field
// order, omitempty where runc has it): the reading and shaping both drivers share. Counters
// are uint64 in the kernel: they are kept as bigint and printed exactly (a memory limit of
// 2^63-4096 does not survive a double).
import * as fs from 'fs';
import * as path from 'path';

export type U = bigint;
export const MAX_U64 = 2n ** 64n - 1n;

export function readFile(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

export function u(dir: string | undefined, file: string): U {
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
export function keyValues(text: string | undefined): Map<string, U> {
  const m = new Map<string, U>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) m.set(k, BigInt(v));
  }
  return m;
}

export const omit = <T extends object>(o: T): T => {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === 0n || (Array.isArray(v) && v.length === 0)) delete (o as Record<string, unknown>)[k];
  }
  return o;
};

export interface MemoryEntry { limit: U; usage?: U; max?: U; failcnt: U }
export const memEntry = (limit: U, usage: U, max: U, failcnt: U): MemoryEntry => ({ limit, ...omit({ usage, max }), failcnt });

export interface BlkioEntry { major?: U; minor?: U; op?: string; value?: U }

// memory.stat as runc prints it: sorted by key, left out when empty.
export const rawStats = (raw: Map<string, U>): { raw?: Record<string, U> } =>
  (raw.size ? { raw: Object.fromEntries([...raw].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) } : {});

// pids as runc reports them: "max" is no limit (0).
export function pidsStats(dir: string | undefined): Record<string, U> {
  const max = readFile(dir, 'pids.max')?.trim();
  return omit({ current: u(dir, 'pids.current'), limit: max === 'max' ? 0n : u(dir, 'pids.max') });
}

// The sections after the version's own, as runc ends every Stats.
export const statsTail = { intel_rdt: {}, network_interfaces: null };

