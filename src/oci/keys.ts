// Object keys matched as runc's decoder (Go's encoding/json) matches them: a key that is not a
// field's exact name still fills the field whose name it equals without case ("CPU" is cpu,
// "Process" is process). Done once where a document comes in (config.json, an exec
// process.json, an update's resources), so everything after sees the spec's own names.
// Keys of maps (annotations, sysctl, unified) are data and stay as they are.
import { JsonNumber } from './json';

// 0: a value without fields of its own (a string, a number, an array of those).
// [s]: an array of s. { '*': s }: a map, its keys left alone, each value an s.
// Any other object: a struct, its fields by name.
export type Shape = 0 | readonly [Shape] | { readonly [field: string]: Shape };

const idMapping = { containerID: 0, hostID: 0, size: 0 } as const;
const deviceNumber = { major: 0, minor: 0, rate: 0 } as const;

export const RESOURCES_SHAPE: Shape = {
  devices: [{ allow: 0, type: 0, major: 0, minor: 0, access: 0 }],
  memory: { limit: 0, reservation: 0, swap: 0, kernel: 0, kernelTCP: 0, swappiness: 0, disableOOMKiller: 0, useHierarchy: 0, checkBeforeUpdate: 0 },
  cpu: { shares: 0, quota: 0, burst: 0, period: 0, realtimeRuntime: 0, realtimePeriod: 0, cpus: 0, mems: 0, idle: 0 },
  pids: { limit: 0 },
  blockIO: {
    weight: 0, leafWeight: 0, weightDevice: [{ major: 0, minor: 0, weight: 0, leafWeight: 0 }],
    throttleReadBpsDevice: [deviceNumber], throttleWriteBpsDevice: [deviceNumber],
    throttleReadIOPSDevice: [deviceNumber], throttleWriteIOPSDevice: [deviceNumber],
  },
  hugepageLimits: [{ pageSize: 0, limit: 0 }],
  network: { classID: 0, priorities: [{ name: 0, priority: 0 }] },
  rdma: { '*': { hcaHandles: 0, hcaObjects: 0 } },
  unified: { '*': 0 },
};

export const PROCESS_SHAPE: Shape = {
  terminal: 0, consoleSize: { height: 0, width: 0 },
  user: { uid: 0, gid: 0, umask: 0, additionalGids: 0, username: 0 },
  args: 0, commandLine: 0, env: 0, cwd: 0,
  capabilities: { bounding: 0, effective: 0, inheritable: 0, permitted: 0, ambient: 0 },
  rlimits: [{ type: 0, hard: 0, soft: 0 }],
  noNewPrivileges: 0, apparmorProfile: 0, oomScoreAdj: 0, selinuxLabel: 0,
  ioPriority: { class: 0, priority: 0 },
  scheduler: { policy: 0, nice: 0, priority: 0, flags: 0, runtime: 0, deadline: 0, period: 0 },
  execCPUAffinity: { initial: 0, final: 0 },
};

const hooks = [{ path: 0, args: 0, env: 0, timeout: 0 }] as const;

export const SPEC_SHAPE: Shape = {
  ociVersion: 0, process: PROCESS_SHAPE, root: { path: 0, readonly: 0 }, hostname: 0, domainname: 0,
  mounts: [{ destination: 0, type: 0, source: 0, options: 0, uidMappings: [idMapping], gidMappings: [idMapping] }],
  hooks: { prestart: hooks, createRuntime: hooks, createContainer: hooks, startContainer: hooks, poststart: hooks, poststop: hooks },
  annotations: { '*': 0 },
  linux: {
    uidMappings: [idMapping], gidMappings: [idMapping], sysctl: { '*': 0 }, resources: RESOURCES_SHAPE, cgroupsPath: 0,
    namespaces: [{ type: 0, path: 0 }],
    devices: [{ type: 0, path: 0, major: 0, minor: 0, fileMode: 0, uid: 0, gid: 0 }],
    seccomp: {
      defaultAction: 0, defaultErrnoRet: 0, architectures: 0, flags: 0, listenerPath: 0, listenerMetadata: 0,
      syscalls: [{ names: 0, action: 0, errnoRet: 0, args: [{ index: 0, value: 0, valueTwo: 0, op: 0 }] }],
    },
    rootfsPropagation: 0, maskedPaths: 0, readonlyPaths: 0, mountLabel: 0,
    intelRdt: { closID: 0, l3CacheSchema: 0, memBwSchema: 0, schemata: 0, enableMonitoring: 0, enableCMT: 0, enableMBM: 0 },
    personality: { domain: 0, flags: 0 },
    timeOffsets: { '*': { secs: 0, nanosecs: 0 } },
    memoryPolicy: { mode: 0, nodes: 0, flags: 0 },
    netDevices: { '*': { name: 0 } },
  },
};

// Go's fold for field names: ASCII letters without case, and the two non-ASCII letters that
// fold onto ASCII ones, the Kelvin sign (k) and the long s (s).
function fold(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/\u212a/g, 'k').replace(/\u017f/g, 's');
}

const byFold = new WeakMap<object, Map<string, string>>();
function fieldFor(struct: { readonly [field: string]: Shape }, key: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(struct, key)) return key;
  let names = byFold.get(struct);
  if (!names) {
    names = new Map(Object.keys(struct).map((f) => [fold(f), f]));
    byFold.set(struct, names);
  }
  return names.get(fold(key));
}

// v with every key of a known field spelled as the field is. Keys that name no field stay as
// they are (validation refuses or ignores them as before). Two keys for one field: the later
// one wins, as it does in Go.
export function foldKeys(v: unknown, shape: Shape): unknown {
  if (shape === 0 || typeof v !== 'object' || v === null || v instanceof JsonNumber) return v;
  if (Array.isArray(shape)) return Array.isArray(v) ? v.map((x) => foldKeys(x, shape[0])) : v;
  if (Array.isArray(v)) return v;
  const struct = shape as { readonly [field: string]: Shape };
  const isMap = Object.prototype.hasOwnProperty.call(struct, '*');
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const name = isMap ? k : fieldFor(struct, k) ?? k;
    const inner = isMap ? struct['*'] : Object.prototype.hasOwnProperty.call(struct, name) ? struct[name] : 0;
    // defineProperty: a key "__proto__" is data here, never the object's prototype.
    Object.defineProperty(out, name, { value: foldKeys(x, inner), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
