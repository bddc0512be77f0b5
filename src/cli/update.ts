// update: runc's flags (or a LinuxResources JSON with -r FILE|-): what it names is written to
// the cgroups (as runc 1.1 does) and merged into the resources recorded in state.json. Device
// rules are left alone, as runc does.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { logWarn } from '../log';
import { withContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import { checkResources } from '../cgroups/resources';
import type { Resources } from '../oci/spec';
import { parseJson } from '../oci/json';
import type { Invocation } from './main';

// docker/go-units RAMInBytes: "64m", "1.5GiB", "512k", plain bytes.
export function ramInBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp])?(i?b)?$/i.exec(s.trim());
  if (!m) throw new Error(`invalid size: '${s}'`);
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  return Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()] : 1));
}

type Flags = Invocation['flags'];

function fromFlags(f: Flags): Record<string, Record<string, unknown>> {
  const r: Record<string, Record<string, unknown>> = { memory: {}, cpu: {}, blockIO: {}, pids: {} };
  const str = (k: string) => (typeof f[k] === 'string' && f[k] !== '' ? (f[k] as string) : undefined);
  const uint = (flag: string, k: string) => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new SkiffError('usage', `invalid value for ${flag}: strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const int = (flag: string, k: string) => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new SkiffError('usage', `invalid value for ${flag}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    return Number(v);
  };
  const ram = (flag: string, k: string) => {
    const v = str(k);
    if (v === undefined) return undefined;
    if (v === '-1') return -1;
    try {
      return ramInBytes(v);
    } catch (e) {
      throw new SkiffError('usage', `invalid value for ${flag}: ${(e as Error).message}`);
    }
  };
  const set = (o: Record<string, unknown>, k: string, v: unknown) => { if (v !== undefined) o[k] = v; };
  const w = int('blkio-weight', 'blkioWeight');
  if (w) set(r.blockIO, 'weight', w);
  set(r.cpu, 'cpus', str('cpusetCpus'));
  set(r.cpu, 'mems', str('cpusetMems'));
  set(r.cpu, 'idle', int('cpu-idle', 'cpuIdle'));
  set(r.cpu, 'burst', uint('cpu-burst', 'cpuBurst'));
  set(r.cpu, 'period', uint('cpu-period', 'cpuPeriod'));
  set(r.cpu, 'realtimePeriod', uint('cpu-rt-period', 'cpuRtPeriod'));
  set(r.cpu, 'shares', uint('cpu-share', 'cpuShare') ?? uint('cpu-shares', 'cpuShares'));
  set(r.cpu, 'quota', int('cpu-quota', 'cpuQuota'));
  set(r.cpu, 'realtimeRuntime', int('cpu-rt-runtime', 'cpuRtRuntime'));
  set(r.memory, 'limit', ram('memory', 'memory'));
  set(r.memory, 'swap', ram('memory-swap', 'memorySwap'));
  set(r.memory, 'reservation', ram('memory-reservation', 'memoryReservation'));
  for (const [flag, k] of [['kernel-memory', 'kernelMemory'], ['kernel-memory-tcp', 'kernelMemoryTcp']]) {
    if (str(k) !== undefined) logWarn(`Setting --${flag} is ignored and will be removed`);
  }
  const pids = int('pids-limit', 'pidsLimit');
  if (pids) r.pids.limit = pids;
  for (const k of Object.keys(r)) if (Object.keys(r[k]).length === 0) delete r[k];
  return r;
}

function readResources(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new SkiffError('config', `open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
  }
  let r: unknown;
  try {
    r = parseJson(text);
  } catch (e) {
    throw new SkiffError('config', `${file === '-' ? 'stdin' : file}: ${(e as Error).message}`);
  }
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new SkiffError('config', `${file === '-' ? 'stdin' : file}: must be a JSON object`);
  return r as Record<string, unknown>;
}

// runc's merge (update.go): only what the update names changes; memory -1 without a swap
// value means both unlimited.
export function mergeResources(old: Resources | undefined, upd: Record<string, unknown>): Resources {
  const r = JSON.parse(JSON.stringify(old ?? {})) as Record<string, Record<string, unknown>>;
  const part = (k: string) => (upd[k] ?? {}) as Record<string, unknown>;
  const into = (k: string, fields: string[]) => {
    const src = part(k);
    for (const f of fields) {
      if (src[f] === undefined || src[f] === null) continue;
      r[k] = r[k] ?? {};
      r[k][f] = src[f];
    }
  };
  into('memory', ['limit', 'reservation', 'swap', 'checkBeforeUpdate']);
  const mem = part('memory');
  if (mem.limit === -1 && (mem.swap === undefined || mem.swap === null)) r.memory.swap = -1;
  into('cpu', ['shares', 'quota', 'burst', 'period', 'realtimeRuntime', 'realtimePeriod', 'cpus', 'mems', 'idle']);
  into('blockIO', ['weight']);
  const pids = part('pids');
  if (typeof pids.limit === 'number' && pids.limit !== 0) r.pids = { limit: pids.limit };
  if (upd.unified !== undefined && upd.unified !== null) r.unified = { ...(r.unified ?? {}), ...(upd.unified as Record<string, unknown>) };
  return r as Resources;
}

export default function update(inv: Invocation): void {
  const id = inv.args[0];
  const f = inv.flags;
  if (f.l3CacheSchema) throw new SkiffError('host', 'Intel RDT/CAT: l3 cache schema is not enabled');
  if (f.memBwSchema) throw new SkiffError('host', 'Intel RDT/MBA: memory bandwidth schema is not enabled');
  let upd: Record<string, unknown>;
  if (typeof f.resources === 'string' && f.resources !== '') {
    upd = readResources(f.resources);
    checkResources(upd, f.resources === '-' ? 'stdin' : f.resources, '');
  } else {
    upd = fromFlags(f);
    checkResources(upd, 'update', '');
  }
  withContainer(inv.store, id, (c) => {
    assertAllowed('update', c.status, id);
    const linux = (c.state.config.linux = c.state.config.linux ?? {});
    // runc 1.1 writes only what the update names (an unnamed value is 0, "leave alone"), so
    // the update alone goes to the cgroups; the record gets the merge, so it stays the truth.
    c.cgroups.update(mergeResources(undefined, upd));
    linux.resources = mergeResources(linux.resources, upd);
    inv.store.save(c.state, id);
  });
}
