// linux.resources: what is understood, checked at create and by `update -r` before anything
// is written (the drivers' translations are in v1/resources.ts and v2/resources.ts). Every
// error names the field it is about.
import { SkiffError } from '../errors';
import { I64, IntRange, U16, U32, U64, integerProblem, parseJson, toJson } from '../oci/json';
import type { Resources } from '../oci/spec';

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);


class Checker {
  constructor(readonly file: string) {}
  fail(field: string, why: string): never {
    throw new SkiffError('config', `${this.file}: ${field}: ${why}`);
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

// runc's merge (update.go): only what the update names changes; memory -1 without a swap
// value means both unlimited.
export function mergeResources(old: Resources | undefined, upd: Record<string, unknown>): Resources {
  const r = parseJson(toJson(old ?? {})) as Record<string, Record<string, unknown>>;
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
