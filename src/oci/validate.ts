// config.json in, a checked Spec out. Every error names the field, so a user can fix it;
// properties Skiff cannot honour yet are refused by name rather than ignored.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, goQuote } from '../errors';
import type { Spec } from './spec';
import { HOOK_KINDS } from './spec';
import { CLONE_NEW } from './namespaces';
import { IntRange, U16, U32, U64, exactInteger, integerProblem, parseJson } from './json';
import { checkResources } from '../cgroups/resources';
import { normalizeSeccomp } from './seccomp';
import { checkLinuxAttrs, checkProcessAttrs } from './kernelattrs';
import { netDevicePairs } from './netdevices';
import { checkIntelRdt } from '../launch/resctrl';
import { SPEC_SHAPE, foldKeys } from './keys';

const invalid = (field: string, why: string) => new SkiffError('config', `config.json: ${field}: ${why}`);

type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: Json, field: string): Record<string, Json> {
  if (!isObj(v)) throw invalid(field, 'must be an object');
  return v;
}
function str(v: Json, field: string): string {
  if (typeof v !== 'string') throw invalid(field, 'must be a string');
  return v;
}
// An integer in `range` that a JS number holds exactly: what reaches the kernel is what the
// config says, never a rounded or wrapped value.
function int(v: Json, field: string, range: IntRange): number {
  const why = integerProblem(v, range);
  if (why) throw invalid(field, why);
  return Number(v);
}
const ID: IntRange = [0n, 2n ** 32n - 2n]; // (uid_t)-1 means "leave unchanged" to the kernel
const DEVICE_NUMBER: IntRange = [-1n, U32[1]]; // -1: any, in device cgroup rules
// Hook timeouts become milliseconds in an int (poll) and a Node timer.
const HOOK_TIMEOUT: IntRange = [1n, 2147483n];
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
  process: ['execCPUAffinity'],
  linux: [],
};
const NAMESPACE_TYPES = new Set(Object.keys(CLONE_NEW));

function checkIdMappings(v: Json, field: string): void {
  arr(v, field).forEach((m, i) => {
    const f = `${field}[${i}]`;
    const o = obj(m, f);
    const size = int(o.size, `${f}.size`, [1n, U32[1]]);
    // The kernel refuses a range that runs past 2^32-1 (EINVAL on the map write).
    for (const k of ['containerID', 'hostID']) {
      if (int(o[k], `${f}.${k}`, U32) + size > 2 ** 32) throw invalid(`${f}.${k}`, `${o[k]} + size ${size} runs past 4294967295`);
    }
  });
}

// runc's rules for an environment entry (libcontainer prepareEnv), in its words.
export function envProblem(e: string): string | undefined {
  const eq = e.indexOf('=');
  if (eq < 0) return `invalid environment variable: ${goQuote(e)}`;
  if (eq === 0) return `environment variable name can't be empty: ${goQuote(e)}`;
  if (e.slice(0, eq).includes('\0')) return `environment variable name can't contain null(\\x00): ${goQuote(e)}`;
  if (e.includes('\0')) return `environment variable value can't contain null(\\x00): ${goQuote(e)}`;
  return undefined;
}

// Every string the runtime hands on ends up a C string (argv, paths, mount data, sysctls) or
// a Node path, where a NUL byte would silently cut it short. Annotations never leave JSON.
function refuseNul(v: Json, field: string): void {
  if (typeof v === 'string') {
    if (v.includes('\0')) throw invalid(field, `must not contain a NUL byte: ${goQuote(v)}`);
  } else if (Array.isArray(v)) {
    v.forEach((x, i) => refuseNul(x, `${field}[${i}]`));
  } else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      const name = field ? `${field}.${k}` : k;
      if (k.includes('\0')) throw invalid(name, `the key must not contain a NUL byte: ${goQuote(k)}`);
      if (name !== 'annotations') refuseNul(x, name);
    }
  }
}

export function checkProcess(p: Record<string, Json>): void {
  const f = 'process.';
  const args = opt(p, 'args', strArray, f);
  if (!args || args.length === 0) throw invalid('process.args', 'must name the program to run (a non-empty array)');
  if (p.cwd === undefined) throw invalid('process.cwd', 'is required');
  const cwd = str(p.cwd, 'process.cwd');
  if (!path.isAbsolute(cwd)) throw invalid('process.cwd', `must be an absolute path, not ${JSON.stringify(cwd)}`);
  opt(p, 'env', strArray, f)?.forEach((e, i) => {
    const why = envProblem(e);
    if (why) throw invalid(`process.env[${i}]`, why);
  });
  opt(p, 'terminal', bool, f);
  if (p.user === undefined) throw invalid('process.user', 'is required');
  const user = obj(p.user, 'process.user');
  int(user.uid, 'process.user.uid', ID);
  int(user.gid, 'process.user.gid', ID);
  opt(user, 'umask', (v, n) => int(v, n, [0n, 0o777n]), 'process.user.');
  if (user.additionalGids !== undefined)
    arr(user.additionalGids, 'process.user.additionalGids').forEach((g, i) => int(g, `process.user.additionalGids[${i}]`, ID));
  if (user.username !== undefined) str(user.username, 'process.user.username');
  opt(p, 'noNewPrivileges', bool, f);
  opt(p, 'oomScoreAdj', (v, n) => int(v, n, [-1000n, 1000n]), f);
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
      // Kept as bigints all the way to setrlimit: 18446744073709551615 is RLIM_INFINITY.
      const [soft, hard] = ['soft', 'hard'].map((k) => {
        const why = integerProblem(o[k], U64, true);
        if (why) throw invalid(`${n}.${k}`, why);
        return exactInteger(o[k]) as bigint;
      });
      if (soft > hard) throw invalid(n, `soft limit ${soft} is above hard limit ${hard}`);
    });
  }
  if (p.consoleSize !== undefined) {
    const c = obj(p.consoleSize, 'process.consoleSize');
    int(c.height, 'process.consoleSize.height', U16);
    int(c.width, 'process.consoleSize.width', U16);
  }
  for (const k of UNSUPPORTED.process) if (p[k] !== undefined) throw invalid(`process.${k}`, 'is not supported by skiff yet');
  checkProcessAttrs(p);
  refuseNul(p, 'process');
  // An LSM label the host cannot apply is an error, never a silent skip (runc's words).
  if (p.apparmorProfile !== undefined && str(p.apparmorProfile, 'process.apparmorProfile') !== '') {
    if (!fs.existsSync('/sys/kernel/security/apparmor')) throw new SkiffError('config', 'apparmor: config provided but apparmor not supported');
  }
  if (p.selinuxLabel !== undefined && str(p.selinuxLabel, 'process.selinuxLabel') !== '') {
    if (!fs.existsSync('/sys/fs/selinux/enforce')) throw new SkiffError('config', 'selinux: config provided but selinux not supported');
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
    if (o.uidMappings !== undefined) checkIdMappings(o.uidMappings, `${f}.uidMappings`);
    if (o.gidMappings !== undefined) checkIdMappings(o.gidMappings, `${f}.gidMappings`);
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
        int(o.major, `${n}.major`, U32);
        int(o.minor, `${n}.minor`, U32);
      }
      opt(o, 'fileMode', (v, x) => int(v, x, [0n, 0o7777n]), `${n}.`);
      opt(o, 'uid', (v, x) => int(v, x, U32), `${n}.`);
      opt(o, 'gid', (v, x) => int(v, x, U32), `${n}.`);
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
        // runc ignores letters other than r, w and m ("rwa"); none of them is no access at all.
        if (o.access !== undefined && !/[rwm]/.test(str(o.access, `${n}.access`))) throw invalid(`${n}.access`, 'must hold at least one of r, w and m');
        if (o.major !== undefined && o.major !== null) int(o.major, `${n}.major`, DEVICE_NUMBER);
        if (o.minor !== undefined && o.minor !== null) int(o.minor, `${n}.minor`, DEVICE_NUMBER);
      });
    }
  }
  if (l.seccomp !== undefined) normalizeSeccomp(l.seccomp);
  for (const k of UNSUPPORTED.linux) if (l[k] !== undefined) throw invalid(`linux.${k}`, 'is not supported by skiff yet');
  checkLinuxAttrs(l);
  netDevicePairs(l);
  if (l.intelRdt !== undefined) checkIntelRdt(l.intelRdt);
  // An SELinux mount label the host cannot apply is an error, never a silent skip.
  if (l.mountLabel !== undefined && str(l.mountLabel, 'linux.mountLabel') !== '' && !fs.existsSync('/sys/fs/selinux/enforce'))
    throw new SkiffError('config', 'config.json: linux.mountLabel: SELinux is not enabled on this host (no /sys/fs/selinux): a mount label cannot be applied');
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
      if (!(HOOK_KINDS as readonly string[]).includes(kind))
        throw invalid(`hooks.${kind}`, 'is not a hook kind');
      arr(list, `hooks.${kind}`).forEach((h, i) => {
        const f = `hooks.${kind}[${i}]`;
        const o = obj(h, f);
        if (!path.isAbsolute(str(o.path, `${f}.path`))) throw invalid(`${f}.path`, 'must be an absolute path');
        opt(o, 'args', strArray, `${f}.`);
        opt(o, 'env', strArray, `${f}.`);
        opt(o, 'timeout', (v, n) => int(v, n, HOOK_TIMEOUT), `${f}.`);
      });
    }
  }
  if (s.linux !== undefined) checkLinux(obj(s.linux, 'linux'));
  else throw invalid('linux', 'is required on Linux');
  refuseNul(s, '');
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
    if (err.code === 'ENOENT') throw new SkiffError('config', `JSON specification file config.json not found in bundle ${bundle}`);
    throw new SkiffError('config', `read ${file}: ${err.message}`);
  }
  return parseSpec(text);
}

// config.json's text to a checked Spec; numbers are judged by their literal (json.ts).
export function parseSpec(text: string): Spec {
  let raw: Json;
  try {
    raw = parseJson(text);
  } catch (e) {
    throw new SkiffError('config', `config.json: invalid JSON: ${(e as Error).message}`);
  }
  return validateSpec(foldKeys(raw, SPEC_SHAPE));
}
