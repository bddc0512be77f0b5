// The per-process kernel attributes of runtime-spec 1.2/1.3: process.scheduler,
// process.ioPriority, linux.personality, linux.memoryPolicy and linux.timeOffsets. One table
// per field: validate.ts checks a config against them, launch/plan.ts turns them into the
// numbers the addon applies in the child (native/process_attrs.cc), and `skiff features`
// lists them, so the three cannot disagree.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { I32, I64, IntRange, U32, U64, exactInteger, integerProblem } from './json';
import type { Linux, Process } from './spec';
import type { NativeProcessAttrs } from '../native';

const invalid = (field: string, why: string) => new SkiffError('config', `config.json: ${field}: ${why}`);
type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

// <linux/sched.h>, <uapi/linux/sched/types.h>
export const SCHED_POLICIES: Record<string, number> = {
  SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6,
};
export const SCHED_FLAGS: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01, SCHED_FLAG_RECLAIM: 0x02, SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08, SCHED_FLAG_KEEP_PARAMS: 0x10, SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};
// <linux/ioprio.h>: the class sits above 13 bits of level.
export const IOPRIO_CLASSES: Record<string, number> = { IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 };
// <linux/personality.h>: the domains runc accepts, and the flag bits of the upper bytes.
export const PERSONALITY_DOMAINS: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };
export const PERSONALITY_FLAGS: Record<string, number> = {
  UNAME26: 0x0020000, ADDR_NO_RANDOMIZE: 0x0040000, FDPIC_FUNCPTRS: 0x0080000, MMAP_PAGE_ZERO: 0x0100000,
  ADDR_COMPAT_LAYOUT: 0x0200000, READ_IMPLIES_EXEC: 0x0400000, ADDR_LIMIT_32BIT: 0x0800000,
  SHORT_INODE: 0x1000000, WHOLE_SECONDS: 0x2000000, STICKY_TIMEOUTS: 0x4000000, ADDR_LIMIT_3GB: 0x8000000,
};
// <uapi/linux/mempolicy.h>
export const MPOL_MODES: Record<string, number> = {
  MPOL_DEFAULT: 0, MPOL_PREFERRED: 1, MPOL_BIND: 2, MPOL_INTERLEAVE: 3, MPOL_LOCAL: 4,
  MPOL_PREFERRED_MANY: 5, MPOL_WEIGHTED_INTERLEAVE: 6,
};
export const MPOL_FLAGS: Record<string, number> = {
  MPOL_F_NUMA_BALANCING: 1 << 13, MPOL_F_RELATIVE_NODES: 1 << 14, MPOL_F_STATIC_NODES: 1 << 15,
};
// The clocks a time namespace offsets (time_namespaces(7)).
export const TIME_CLOCKS = ['boottime', 'monotonic'];
// set_mempolicy's node mask: room for this many nodes (the kernel's MAX_NUMNODES is at most 1024).
const MAX_NODES = 1024;

function int(v: Json, field: string, range: IntRange): number {
  const why = integerProblem(v, range);
  if (why) throw invalid(field, why);
  return Number(v);
}
function big(v: Json, field: string, range: IntRange): bigint {
  const why = integerProblem(v, range, true);
  if (why) throw invalid(field, why);
  return exactInteger(v) as bigint;
}
function obj(v: Json, field: string): Record<string, Json> {
  if (!isObj(v)) throw invalid(field, 'must be an object');
  return v;
}
function onlyKeys(o: Record<string, Json>, field: string, keys: string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw invalid(`${field}.${k}`, 'is not a field of ' + field);
}
function name(v: Json, field: string, table: Record<string, number>): number {
  if (typeof v !== 'string' || !(v in table)) {
    throw invalid(field, `must be one of ${Object.keys(table).join(', ')}, not ${JSON.stringify(v)}`);
  }
  return table[v];
}
function flags(v: Json, field: string, table: Record<string, number>): number {
  if (v === undefined) return 0;
  if (!Array.isArray(v)) throw invalid(field, 'must be an array of strings');
  return v.reduce((acc: number, f, i) => acc | name(f, `${field}[${i}]`, table), 0);
}

// "0-3,7" -> the node numbers; what the kernel's nodelist syntax (cpuset.mems) allows.
export function parseNodes(text: string, field: string): number[] {
  const nodes = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!m) throw invalid(field, `${JSON.stringify(text)} is not a node list such as "0-3,7"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi >= MAX_NODES) throw invalid(field, `${JSON.stringify(part.trim())} is not a node range below ${MAX_NODES}`);
    for (let n = lo; n <= hi; n++) nodes.add(n);
  }
  return [...nodes].sort((a, b) => a - b);
}

// The checks of runc's validator (libcontainer/configs/validate), field by field.
export function schedulerAttrs(v: Json): NonNullable<NativeProcessAttrs['scheduler']> {
  const f = 'process.scheduler';
  const s = obj(v, f);
  onlyKeys(s, f, ['policy', 'nice', 'priority', 'flags', 'runtime', 'deadline', 'period']);
  if (s.policy === undefined) throw invalid(`${f}.policy`, 'is required');
  const policy = name(s.policy, `${f}.policy`, SCHED_POLICIES);
  const nice = s.nice === undefined ? 0 : int(s.nice, `${f}.nice`, I32);
  if (nice < -20 || nice > 19) throw invalid(`${f}.nice`, `${nice} is outside -20..19`);
  const priority = s.priority === undefined ? 0 : int(s.priority, `${f}.priority`, I32);
  const realtime = s.policy === 'SCHED_FIFO' || s.policy === 'SCHED_RR';
  if (priority !== 0 && !realtime) throw invalid(`${f}.priority`, 'can only be set for SCHED_FIFO or SCHED_RR');
  const [runtime, deadline, period] = ['runtime', 'deadline', 'period'].map((k) => (s[k] === undefined ? 0n : big(s[k], `${f}.${k}`, U64)));
  if (s.policy !== 'SCHED_DEADLINE' && (runtime || deadline || period))
    throw invalid(f, 'runtime, deadline and period can only be set for SCHED_DEADLINE');
  return { policy, nice, priority, flags: BigInt(flags(s.flags, `${f}.flags`, SCHED_FLAGS)), runtime, deadline, period, what: f };
}

// With RT_GROUP_SCHED on cgroup v1 a new cpu group has no realtime time: the kernel's bare
// EPERM gets the way out beside it.
function schedulerWhat(proc: Process, linux: Linux | undefined): string {
  const rt = proc.scheduler?.policy === 'SCHED_FIFO' || proc.scheduler?.policy === 'SCHED_RR' || proc.scheduler?.policy === 'SCHED_DEADLINE';
  if (!rt || linux?.resources?.cpu?.realtimeRuntime !== undefined || !fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us')) return 'process.scheduler';
  return 'process.scheduler (a realtime policy in a cgroup v1 cpu group needs linux.resources.cpu.realtimeRuntime)';
}

export function ioPriorityValue(v: Json): number {
  const f = 'process.ioPriority';
  const o = obj(v, f);
  onlyKeys(o, f, ['class', 'priority']);
  if (o.class === undefined) throw invalid(`${f}.class`, 'is required');
  const cls = name(o.class, `${f}.class`, IOPRIO_CLASSES);
  const level = o.priority === undefined ? 0 : int(o.priority, `${f}.priority`, I32);
  if (level < 0 || level > 7) throw invalid(`${f}.priority`, `${level} is outside 0..7`);
  return (cls << 13) | level;
}

export function personalityValue(v: Json): number {
  const f = 'linux.personality';
  const o = obj(v, f);
  onlyKeys(o, f, ['domain', 'flags']);
  if (o.domain === undefined) throw invalid(`${f}.domain`, 'is required');
  return name(o.domain, `${f}.domain`, PERSONALITY_DOMAINS) | flags(o.flags, `${f}.flags`, PERSONALITY_FLAGS);
}

export function memoryPolicyAttrs(v: Json): NonNullable<NativeProcessAttrs['memoryPolicy']> {
  const f = 'linux.memoryPolicy';
  const o = obj(v, f);
  onlyKeys(o, f, ['mode', 'nodes', 'flags']);
  if (o.mode === undefined) throw invalid(`${f}.mode`, 'is required');
  const mode = name(o.mode, `${f}.mode`, MPOL_MODES);
  if (o.nodes !== undefined && typeof o.nodes !== 'string') throw invalid(`${f}.nodes`, 'must be a string');
  const nodes = o.nodes ? parseNodes(o.nodes as string, `${f}.nodes`) : [];
  // set_mempolicy(2): DEFAULT and LOCAL take no nodes; every other mode but PREFERRED needs some.
  if ((o.mode === 'MPOL_DEFAULT' || o.mode === 'MPOL_LOCAL') && nodes.length) throw invalid(`${f}.nodes`, `must be empty for ${o.mode}`);
  if (!['MPOL_DEFAULT', 'MPOL_LOCAL', 'MPOL_PREFERRED'].includes(o.mode as string) && !nodes.length)
    throw invalid(`${f}.nodes`, `${o.mode} needs at least one node`);
  const words = nodes.length ? Math.floor(nodes[nodes.length - 1] / 64) + 1 : 0;
  const mask = Buffer.alloc(words * 8);
  for (const n of nodes) mask.writeBigUInt64LE(mask.readBigUInt64LE(Math.floor(n / 64) * 8) | (1n << BigInt(n % 64)), Math.floor(n / 64) * 8);
  return { mode: mode | flags(o.flags, `${f}.flags`, MPOL_FLAGS), nodemask: mask, maxnode: words * 64 };
}

// The text /proc/PID/timens_offsets takes: "monotonic SECS NANOSECS" per clock.
export function timeOffsetsText(v: Json): string {
  const f = 'linux.timeOffsets';
  const o = obj(v, f);
  const lines: string[] = [];
  for (const [clock, off] of Object.entries(o)) {
    if (!TIME_CLOCKS.includes(clock)) throw invalid(`${f}.${clock}`, `is not a clock a time namespace offsets (${TIME_CLOCKS.join(', ')})`);
    const e = obj(off, `${f}.${clock}`);
    onlyKeys(e, `${f}.${clock}`, ['secs', 'nanosecs']);
    const secs = e.secs === undefined ? 0n : big(e.secs, `${f}.${clock}.secs`, I64);
    const nanos = e.nanosecs === undefined ? 0 : int(e.nanosecs, `${f}.${clock}.nanosecs`, U32);
    if (nanos >= 1e9) throw invalid(`${f}.${clock}.nanosecs`, `${nanos} is not below 1000000000`);
    lines.push(`${clock} ${secs} ${nanos}`);
  }
  return lines.join('\n');
}

// config.json's view: each field checked as the plan will use it, so a bad one fails before
// anything exists on the host.
export function checkProcessAttrs(p: Record<string, Json>): void {
  if (p.scheduler !== undefined) schedulerAttrs(p.scheduler);
  if (p.ioPriority !== undefined) ioPriorityValue(p.ioPriority);
}

export function checkLinuxAttrs(l: Record<string, Json>): void {
  if (l.personality !== undefined) personalityValue(l.personality);
  if (l.memoryPolicy !== undefined) memoryPolicyAttrs(l.memoryPolicy);
  if (l.timeOffsets !== undefined) {
    timeOffsetsText(l.timeOffsets);
    const ns = Array.isArray(l.namespaces) ? (l.namespaces as Record<string, Json>[]).find((n) => isObj(n) && n.type === 'time') : undefined;
    if (!ns) throw invalid('linux.timeOffsets', 'needs a time namespace in linux.namespaces');
    if (ns.path !== undefined) throw invalid('linux.timeOffsets', 'cannot be set for a time namespace joined by path (its clocks are already set)');
  }
}

// The plan's half: what the child applies to the process (init and exec alike).
export function processAttrs(proc: Process, linux: Linux | undefined): NativeProcessAttrs {
  return {
    scheduler: proc.scheduler ? { ...schedulerAttrs(proc.scheduler), what: schedulerWhat(proc, linux) } : undefined,
    ioPriority: proc.ioPriority ? ioPriorityValue(proc.ioPriority) : undefined,
    personality: linux?.personality ? personalityValue(linux.personality) : undefined,
    memoryPolicy: linux?.memoryPolicy ? memoryPolicyAttrs(linux.memoryPolicy) : undefined,
  };
}
