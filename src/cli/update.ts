// update: runc's flags (or a LinuxResources JSON with -r FILE|-): what it names is written to
// the cgroups (as runc 1.1 does) and merged into the resources recorded in state.json. Device
// rules are left alone, as runc does.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { logWarn } from '../log';
import { withContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import { checkResources, mergeResources } from '../cgroups/resources';
import { ramInBytes } from './values';
import { parseJson } from '../oci/json';
import { RESOURCES_SHAPE, foldKeys } from '../oci/keys';
import type { Invocation } from './main';


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
  // runc decodes with Go's encoding/json: keys match the fields without case.
  return foldKeys(r, RESOURCES_SHAPE) as Record<string, unknown>;
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
