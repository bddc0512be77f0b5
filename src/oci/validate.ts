// config.json in, a checked Spec out. Every error names the field, so a user can fix it;
// properties Skiff cannot honour yet are refused by name rather than ignored.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { Spec } from './spec';
import { checkResources } from '../cgroups/resources';
import { normalizeSeccomp } from '../launch/seccomp';

const invalid = (field: string, why: string) => new SkiffError(`config.json: ${field}: ${why}`);

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: Json) => typeof v === 'number' && Number.isInteger(v);

function obj(v: Json, field: string): Record<string, Json> {
  if (!isObj(v)) throw invalid(field, 'must be an object');
  return v;
}
function str(v: Json, field: string): string {
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  return v;
}
function int(v: Json, field: string, min = -Infinity, max = Infinity): number {
  if (!isInt(v)) throw invalid(field, 'must be an integer');
  const n = v as number;
  if (n < min || n > max) throw invalid(field, `must be between ${min} and ${max}`);
  return n;
}
function bool(v: Json, field: string): boolean {
  if (typeof v !== 'boolean') throw invalid(field, 'must be true or false');
  return v;
}
function strArray(v: Json, field: string): string[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be an array of strings');
  v.forEach((s, i) => str(s, `${field}[${i}]`));
  return v as string[];
}
function arr(v: Json, field: string): Json[] {
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v;
}
function opt<T>(o: Record<string, Json>, key: string, check: (v: Json, field: string) => T, prefix: string): T | undefined {
  return o[key] === undefined ? undefined : check(o[key], prefix + key);
}

// Fields Skiff does not act on yet. Refused by name: a kernel-feature test must never pass
// because a feature was silently dropped.
const UNSUPPORTED: Record<string, string[]> = {
  process: ['ioPriority', 'scheduler', 'execCPUAffinity'],
  linux: ['personality', 'timeOffsets', 'intelRdt', 'memoryPolicy', 'mountLabel'],
};
const NAMESPACE_TYPES = new Set(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);

function checkIdMappings(v: Json, field: string): void {
  arr(v, field).forEach((m, i) => {
    const f = `${field}[${i}]`;
    const o = obj(m, f);
    int(o.containerID, `${f}.containerID`, 0, 2 ** 32 - 1);
    int(o.hostID, `${f}.hostID`, 0, 2 ** 32 - 1);
    int(o.size, `${f}.size`, 1, 2 ** 32 - 1);
  });
}

export function checkProcess(p: Record<string, Json>): void {
  const f = 'process.';
  const args = opt(p, 'args', strArray, f);
  if (!args || args.length === 0) throw invalid('process.args', 'must name the program to run (a non-empty array)');
  if (p.cwd === undefined) throw invalid('process.cwd', 'is required');
  const cwd = str(p.cwd, 'process.cwd');
  if (!path.isAbsolute(cwd)) throw invalid('process.cwd', `must be an absolute path, not ${JSON.stringify(cwd)}`);
  opt(p, 'env', strArray, f);
  opt(p, 'terminal', bool, f);
  if (p.user === undefined) throw invalid('process.user', 'is required');
  const user = obj(p.user, 'process.user');
  int(user.uid, 'process.user.uid', 0, 2 ** 32 - 2);
  int(user.gid, 'process.user.gid', 0, 2 ** 32 - 2);
  opt(user, 'umask', (v, n) => int(v, n, 0, 0o777), 'process.user.');
  if (user.additionalGids !== undefined)
    arr(user.additionalGids, 'process.user.additionalGids').forEach((g, i) => int(g, `process.user.additionalGids[${i}]`, 0, 2 ** 32 - 2));
  if (user.username !== undefined) str(user.username, 'process.user.username');
  opt(p, 'noNewPrivileges', bool, f);
  opt(p, 'oomScoreAdj', (v, n) => int(v, n, -1000, 1000), f);
  if (p.capabilities !== undefined) {
    const caps = obj(p.capabilities, 'process.capabilities');
    for (const k of Object.keys(caps)) {
      if (!['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].includes(k))
        throw invalid(`process.capabilities.${k}`, 'is not a capability set');
      strArray(caps[k], `process.capabilities.${k}`);
    }
  }
  if (p.rlimits !== undefined) {
    arr(p.rlimits, 'process.rlimits').forEach((r, i) => {
      const n = `process.rlimits[${i}]`;
      const o = obj(r, n);
      str(o.type, `${n}.type`);
      int(o.soft, `${n}.soft`, 0);
      int(o.hard, `${n}.hard`, 0);
      if ((o.soft as number) > (o.hard as number)) throw invalid(n, `soft limit ${o.soft} is above hard limit ${o.hard}`);
    });
  }
  if (p.consoleSize !== undefined) {
    const c = obj(p.consoleSize, 'process.consoleSize');
    int(c.height, 'process.consoleSize.height', 0);
    int(c.width, 'process.consoleSize.width', 0);
  }
  for (const k of UNSUPPORTED.process) if (p[k] !== undefined) throw invalid(`process.${k}`, 'is not supported by skiff yet');
  // An LSM label the host cannot apply is an error, never a silent skip (runc's words).
  if (p.apparmorProfile !== undefined && str(p.apparmorProfile, 'process.apparmorProfile') !== '') {
    if (!fs.existsSync('/sys/kernel/security/apparmor')) throw new SkiffError('apparmor: config provided but apparmor not supported');
  }
  if (p.selinuxLabel !== undefined && str(p.selinuxLabel, 'process.selinuxLabel') !== '') {
    if (!fs.existsSync('/sys/fs/selinux/enforce')) throw new SkiffError('selinux: config provided but selinux not supported');
  }
}

function checkMounts(v: Json): void {
  arr(v, 'mounts').forEach((m, i) => {
    const f = `mounts[${i}]`;
    const o = obj(m, f);
    const dest = str(o.destination, `${f}.destination`);
    if (!path.isAbsolute(dest)) throw invalid(`${f}.destination`, `must be an absolute path, not ${JSON.stringify(dest)}`);
    opt(o, 'type', str, `${f}.`);
    opt(o, 'source', str, `${f}.`);
    opt(o, 'options', strArray, `${f}.`);
    if (o.uidMappings !== undefined || o.gidMappings !== undefined)
      throw invalid(`${f}.uidMappings`, 'idmapped mounts are not supported by skiff yet');
  });
}

function checkLinux(l: Record<string, Json>): void {
  const f = 'linux.';
  if (l.namespaces !== undefined) {
    const seen = new Set<string>();
    arr(l.namespaces, 'linux.namespaces').forEach((n, i) => {
      const o = obj(n, `linux.namespaces[${i}]`);
      const type = str(o.type, `linux.namespaces[${i}].type`);
      if (!NAMESPACE_TYPES.has(type)) throw invalid(`linux.namespaces[${i}].type`, `unknown namespace type ${JSON.stringify(type)}`);
      if (seen.has(type)) throw invalid(`linux.namespaces[${i}]`, `namespace ${type} is listed twice`);
      seen.add(type);
      if (o.path !== undefined) {
        const p = str(o.path, `linux.namespaces[${i}].path`);
        if (!path.isAbsolute(p)) throw invalid(`linux.namespaces[${i}].path`, 'must be an absolute path');
      }
      if (type === 'time') throw invalid(`linux.namespaces[${i}]`, 'time namespaces are not supported by skiff yet');
    });
  }
  if (l.uidMappings !== undefined) checkIdMappings(l.uidMappings, 'linux.uidMappings');
  if (l.gidMappings !== undefined) checkIdMappings(l.gidMappings, 'linux.gidMappings');
  if (l.sysctl !== undefined) {
    const s = obj(l.sysctl, 'linux.sysctl');
    for (const [k, v] of Object.entries(s)) {
      str(v, `linux.sysctl.${k}`);
      if (!/^[\w-]+([./][\w-]+)*$/.test(k)) throw invalid(`linux.sysctl.${k}`, 'is not a sysctl name');
    }
  }
  opt(l, 'cgroupsPath', str, f);
  opt(l, 'rootfsPropagation', str, f);
  if (l.rootfsPropagation !== undefined &&
      !['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'].includes(l.rootfsPropagation as string))
    throw invalid('linux.rootfsPropagation', `unknown propagation ${JSON.stringify(l.rootfsPropagation)}`);
  opt(l, 'maskedPaths', strArray, f);
  opt(l, 'readonlyPaths', strArray, f);
  if (l.devices !== undefined) {
    arr(l.devices, 'linux.devices').forEach((d, i) => {
      const n = `linux.devices[${i}]`;
      const o = obj(d, n);
      const type = str(o.type, `${n}.type`);
      if (!['c', 'u', 'b', 'p'].includes(type)) throw invalid(`${n}.type`, `must be c, u, b or p, not ${JSON.stringify(type)}`);
      const p = str(o.path, `${n}.path`);
      if (!path.isAbsolute(p)) throw invalid(`${n}.path`, 'must be an absolute path');
      if (type !== 'p') {
        int(o.major, `${n}.major`, 0);
        int(o.minor, `${n}.minor`, 0);
      }
      opt(o, 'fileMode', (v, x) => int(v, x, 0, 0o7777), `${n}.`);
      opt(o, 'uid', (v, x) => int(v, x, 0), `${n}.`);
      opt(o, 'gid', (v, x) => int(v, x, 0), `${n}.`);
    });
  }
  if (l.resources !== undefined) {
    const r = obj(l.resources, 'linux.resources');
    checkResources(r);
    if (r.devices !== undefined) {
      arr(r.devices, 'linux.resources.devices').forEach((d, i) => {
        const n = `linux.resources.devices[${i}]`;
        const o = obj(d, n);
        bool(o.allow, `${n}.allow`);
        if (o.type !== undefined && !['a', 'c', 'b'].includes(o.type as string)) throw invalid(`${n}.type`, 'must be a, c or b');
        if (o.access !== undefined && !/^[rwm]+$/.test(str(o.access, `${n}.access`))) throw invalid(`${n}.access`, 'must be made of r, w and m');
        if (o.major !== undefined && o.major !== null) int(o.major, `${n}.major`, -1);
        if (o.minor !== undefined && o.minor !== null) int(o.minor, `${n}.minor`, -1);
      });
    }
  }
  if (l.seccomp !== undefined) normalizeSeccomp(l.seccomp);
  for (const k of UNSUPPORTED.linux) if (l[k] !== undefined) throw invalid(`linux.${k}`, 'is not supported by skiff yet');
}

export function validateSpec(raw: Json): Spec {
  const s = obj(raw, '(top level)');
  str(s.ociVersion, 'ociVersion');
  if (s.process === undefined) throw invalid('process', 'is required to create a container');
  checkProcess(obj(s.process, 'process'));
  if (s.root === undefined) throw invalid('root', 'is required');
  const root = obj(s.root, 'root');
  str(root.path, 'root.path');
  opt(root, 'readonly', bool, 'root.');
  opt(s, 'hostname', str, '');
  opt(s, 'domainname', str, '');
  if (s.mounts !== undefined) checkMounts(s.mounts);
  if (s.annotations !== undefined) {
    for (const [k, v] of Object.entries(obj(s.annotations, 'annotations'))) str(v, `annotations.${k}`);
  }
  if (s.hooks !== undefined) {
    const hooks = obj(s.hooks, 'hooks');
    for (const [kind, list] of Object.entries(hooks)) {
      if (!['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].includes(kind))
        throw invalid(`hooks.${kind}`, 'is not a hook kind');
      arr(list, `hooks.${kind}`).forEach((h, i) => {
        const f = `hooks.${kind}[${i}]`;
        const o = obj(h, f);
        if (!path.isAbsolute(str(o.path, `${f}.path`))) throw invalid(`${f}.path`, 'must be an absolute path');
        opt(o, 'args', strArray, `${f}.`);
        opt(o, 'env', strArray, `${f}.`);
        opt(o, 'timeout', (v, n) => int(v, n, 1), `${f}.`);
      });
    }
  }
  if (s.linux !== undefined) checkLinux(obj(s.linux, 'linux'));
  else throw invalid('linux', 'is required on Linux');
  return s as unknown as Spec;
}

// Reads BUNDLE/config.json; errors say what is wrong with which file.
export function loadSpec(bundle: string): Spec {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new SkiffError(`JSON specification file config.json not found in bundle ${bundle}`);
    throw new SkiffError(`read ${file}: ${err.message}`);
  }
  let raw: Json;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new SkiffError(`config.json: invalid JSON: ${(e as Error).message}`);
  }
  return validateSpec(raw);
}
