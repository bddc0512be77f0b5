// linux.intelRdt: the container's tasks in a resctrl group (Intel RDT / AMD QoS), as the
// runtime-spec says: the group is closID (or the container id), its schemata written when
// the config gives one; a group Skiff made goes with the container. A host without resctrl
// is told so by name, before anything is made.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { Spec } from '../oci/spec';

export interface RdtRecord {
  dir: string;       // the group's directory
  created: boolean;  // made by this container: removed with it
}

const hostErr = (why: string) => new SkiffError('host', `linux.intelRdt: ${why}`);

// Where resctrl is mounted, from our mount table; undefined when it is not.
export function resctrlMount(): string | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.split(' ')[0] === 'resctrl') return pre.split(' ')[4];
  }
  return undefined;
}

// Why this host cannot take an intelRdt config, or undefined when it can.
export function resctrlMissing(): string | undefined {
  if (resctrlMount()) return undefined;
  const known = fs.readFileSync('/proc/filesystems', 'utf8').split('\n').some((l) => l.trim().endsWith('resctrl'));
  return known
    ? 'no resctrl filesystem is mounted (mount -t resctrl resctrl /sys/fs/resctrl)'
    : 'this kernel has no resctrl filesystem (Intel RDT / AMD QoS needs CONFIG_X86_CPU_RESCTRL and a CPU that has it)';
}

// config.json's shape (runtime-spec config-linux.md, IntelRdt).
export function checkIntelRdt(v: unknown): void {
  const bad = (f: string, why: string) => new SkiffError('config', `config.json: linux.intelRdt${f}: ${why}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('', 'must be an object');
  const o = v as Record<string, unknown>;
  for (const [k, x] of Object.entries(o)) {
    if (['closID', 'l3CacheSchema', 'memBwSchema', 'schemata'].includes(k)) {
      if (typeof x !== 'string') throw bad(`.${k}`, 'must be a string');
    } else if (['enableCMT', 'enableMBM'].includes(k)) {
      if (typeof x !== 'boolean') throw bad(`.${k}`, 'must be true or false');
    } else throw bad(`.${k}`, 'is not a field of linux.intelRdt');
  }
  if (o.closID !== undefined && (!/^[^/\s]+$/.test(o.closID as string) || ['.', '..', 'info', 'mon_groups', 'mon_data'].includes(o.closID as string)))
    throw bad('.closID', `${JSON.stringify(o.closID)} is not a resctrl group name`);
  if (typeof o.memBwSchema === 'string' && (!o.memBwSchema.startsWith('MB:') || o.memBwSchema.includes('\n')))
    throw bad('.memBwSchema', 'must start with MB: and be one line');
  if (typeof o.l3CacheSchema === 'string' && o.l3CacheSchema.includes('\n') && !o.l3CacheSchema.split('\n').every((l) => /^(L3|L2|MB)/.test(l)))
    throw bad('.l3CacheSchema', 'must be schemata lines');
}

// Before clone: the group, made or found, its schemata written. Throws naming what is wrong.
export function setupRdt(spec: Spec, id: string): RdtRecord | undefined {
  const rdt = spec.linux?.intelRdt as Record<string, string | boolean | undefined> | undefined;
  if (!rdt) return undefined;
  const missing = resctrlMissing();
  if (missing) throw hostErr(missing);
  const root = resctrlMount()!;
  const dir = path.join(root, (rdt.closID as string | undefined) ?? id);
  // The non-MB lines of l3CacheSchema, then memBwSchema, then schemata (the spec's order).
  const l3 = (rdt.l3CacheSchema as string | undefined)?.split('\n').filter((l) => l && !(rdt.memBwSchema && l.startsWith('MB:')));
  const lines = [...(l3 ?? []), ...(rdt.memBwSchema ? [rdt.memBwSchema as string] : [])];
  const writes = rdt.schemata ? [...lines, rdt.schemata as string] : lines;
  const exists = fs.existsSync(dir);
  if (!exists && rdt.closID && writes.length === 0) throw hostErr(`the resctrl group ${dir} does not exist (closID without a schema names a group made beforehand)`);
  if ((rdt.enableCMT || rdt.enableMBM) && !fs.existsSync(path.join(root, 'info', 'L3_MON')))
    throw hostErr('monitoring (enableCMT/enableMBM) is not available: no info/L3_MON in resctrl');
  if (!exists) fs.mkdirSync(dir);
  const rec = { dir, created: !exists };
  try {
    for (const w of writes) fs.writeFileSync(path.join(dir, 'schemata'), w.endsWith('\n') ? w : w + '\n');
  } catch (e) {
    removeRdt(rec);
    throw hostErr(`write ${path.join(dir, 'schemata')}: ${(e as Error).message}`);
  }
  return rec;
}

// Between clone and GO: the init into the group (its children follow it).
export function joinRdt(rec: RdtRecord | undefined, pid: number): void {
  if (!rec) return;
  try {
    fs.writeFileSync(path.join(rec.dir, 'tasks'), String(pid));
  } catch (e) {
    throw hostErr(`join ${rec.dir}: ${(e as Error).message}`);
  }
}

// With the container: a group it made is removed (the kernel moves any task left to the default group).
export function removeRdt(rec: RdtRecord | undefined): void {
  if (!rec?.created) return;
  try {
    fs.rmdirSync(rec.dir);
  } catch {
    // already gone
  }
}
