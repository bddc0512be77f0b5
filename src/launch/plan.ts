// A checked Spec + the bundle + create's flags -> the NativePlan the addon turns into C
// structs before clone. Everything that can fail on bad input fails here, before anything
// exists on the host.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { ExecPlan, InitPlan, NativeDevice, NativeMount, NativePlan } from '../native';
import type { Spec, IdMapping, Linux, Process } from '../oci/spec';
import { processAttrs, timeOffsetsText } from '../oci/kernelattrs';
import { CLONE_NEW, NS_FILE } from '../oci/namespaces';
import { capLastCap, capMask, RLIMITS, rlimitValue } from '../oci/caps';
import type { Cgroups } from '../cgroups/manager';
import { nativeMounts, needsDevSetup } from './mounts';
import { PROPAGATION } from '../oci/mountopts';
import { compileSeccomp } from './seccomp';
import { sysctlPlan } from './sysctl';
import { DEFAULT_DEVICE_NODES } from '../oci/devices';
import { parsePasswd } from '../passwd';
import { PLAN_FILE_NAMES } from './statedir';
import { inUserNamespace } from '../rootless';

export { CLONE_NEW };

export interface CreateOptions {
  noPivot?: boolean;
  preserveFds?: number;
  noNewKeyring?: boolean;
}

const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;


function devices(spec: Spec): NativeDevice[] {
  const out = new Map<string, NativeDevice>();
  for (const { path: p, major, minor } of DEFAULT_DEVICE_NODES) {
    out.set(p, { path: p, mode: S_IFCHR | 0o666, major, minor, uid: 0, gid: 0, hostPath: p });
  }
  for (const d of spec.linux?.devices ?? []) {
    const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    out.set(path.normalize(d.path), {
      path: path.normalize(d.path), mode: type | (d.fileMode ?? 0o666), major: d.major ?? 0, minor: d.minor ?? 0,
      uid: d.uid ?? 0, gid: d.gid ?? 0, hostPath: d.path,
    });
  }
  return [...out.values()];
}

// The host id that container id `id` maps to (for chown of what the container must open).
export function hostIdFor(maps: IdMapping[] | undefined, id: number): number {
  if (!maps || maps.length === 0) return id;
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + (id - m.containerID);
  throw new SkiffError('config', `config.json: linux.uidMappings: container id ${id} is not mapped`);
}

function envValue(env: string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) if (env[i].startsWith(name + '=')) return env[i].slice(name.length + 1);
  return undefined;
}

// runc gives HOME from the container's /etc/passwd when the config does not set it. The file
// is read only if it resolves inside the rootfs.
function homeFor(rootfs: string, uid: number): string {
  try {
    const file = fs.realpathSync(path.join(rootfs, 'etc/passwd'));
    if (!file.startsWith(fs.realpathSync(rootfs) + '/')) return '/';
    const entry = parsePasswd(fs.readFileSync(file, 'utf8')).find((e) => e.uid === uid);
    if (entry) return entry.home || '/';
  } catch {
    // no passwd: "/" as runc does
  }
  return '/';
}

// linux.mountLabel (SELinux; validate.ts refuses it where SELinux is off): the context of
// each filesystem mounted for the container, as runc's label.FormatMountLabel gives it; not
// binds, nor the filesystems whose labels the kernel sets (proc, sysfs, cgroup, mqueue).
function withMountLabel(mounts: NativeMount[], label: string | undefined): NativeMount[] {
  if (!label) return mounts;
  const own = new Set(['proc', 'sysfs', 'cgroup', 'cgroup2', 'mqueue']);
  return mounts.map((m) => (m.bind || !m.fstype || own.has(m.fstype) ? m
    : { ...m, data: [m.data, `context="${label}"`].filter(Boolean).join(',') }));
}

export function buildPlan(spec: Spec, bundle: string, rootfs: string, stateDir: string, id: string,
  cgroups: Cgroups, opts: CreateOptions): InitPlan {
  const linux = spec.linux ?? {};
  const proc = spec.process!;
  const namespaces = linux.namespaces ?? [];
  let cloneFlags = 0;
  const joins: { type: number; path: string }[] = [];
  for (const ns of namespaces) {
    if (ns.path) joins.push({ type: CLONE_NEW[ns.type], path: ns.path });
    else cloneFlags |= CLONE_NEW[ns.type];
  }
  const has = (t: string) => namespaces.some((n) => n.type === t);
  // No mount namespace at all: the container shares the runtime's, as runc allows.
  const hostMountNs = !has('mount');
  if (hostMountNs) refuseWithoutMountNs(spec);
  if (spec.hostname && !has('uts')) throw new SkiffError('config', 'config.json: hostname: setting the hostname needs a uts namespace');
  if (spec.domainname && !has('uts')) throw new SkiffError('config', 'config.json: domainname: setting the domainname needs a uts namespace');
  const inUserns = has('user');
  const userns = inUserns ? { uid: linux.uidMappings, gid: linux.gidMappings } : {};
  if (inUserns && !linux.uidMappings?.length && !namespaces.find((n) => n.type === 'user')?.path)
    throw new SkiffError('config', 'config.json: linux.uidMappings: a new user namespace needs uid and gid mappings');
  if (!inUserns && (linux.uidMappings?.length || linux.gidMappings?.length))
    throw new SkiffError('config', 'config.json: linux.uidMappings: mappings are given but there is no user namespace');

  const proc_ = processPlan(proc, linux, rootfs, opts.preserveFds ?? 0);
  const seccomp = linux.seccomp ? compileSeccomp(linux.seccomp) : undefined;
  const sysctls = sysctlPlan(linux.sysctl, namespaces);

  return {
    execMode: false, cloneFlags, joins, newMountNs: !hostMountNs, hostMountNs, rootfs,
    rootfsReadonly: spec.root?.readonly === true,
    // 0: rslave before pivot_root and nothing after it (runc's default)
    rootfsPropagation: linux.rootfsPropagation ? PROPAGATION[linux.rootfsPropagation] : 0,
    noPivot: opts.noPivot === true,
    mounts: withMountLabel(nativeMounts(spec.mounts, bundle, cgroups, (cloneFlags & CLONE_NEW.cgroup) !== 0, userns), linux.mountLabel),
    setupDev: needsDevSetup(spec.mounts),
    devices: needsDevSetup(spec.mounts) ? devices(spec) : [],
    maskedPaths: linux.maskedPaths ?? [],
    readonlyPaths: linux.readonlyPaths ?? [],
    // Devices are bound, not made, in a user namespace: the config's, or the one Skiff itself
    // runs in (rootless Podman runs the runtime as root in its own), where mknod is refused.
    sysctls, inUserns: inUserns || inUserNamespace(),
    hostname: spec.hostname, domainname: spec.domainname,
    keyringName: opts.noNewKeyring ? undefined : `_ses.${id}`,
    timeOffsets: linux.timeOffsets ? timeOffsetsText(linux.timeOffsets) : undefined,
    ...proc_, stateDir, ...PLAN_FILE_NAMES,
    seccompFilter: seccomp?.filter, seccompFlags: seccomp?.flags,
  };
}

// Without a mount namespace of its own the container's mounts land in the runtime's (and stay
// there after it, as with runc); what would change the host's own mounts is refused.
function refuseWithoutMountNs(spec: Spec): void {
  const linux = spec.linux ?? {};
  const no = (field: string, what: string) => new SkiffError('config', `config.json: ${field}: ${what} needs a mount namespace of its own (linux.namespaces has no "mount")`);
  // runc's words for the masked and read-only paths
  if (linux.maskedPaths?.length || linux.readonlyPaths?.length)
    throw new SkiffError('config', 'config.json: linux.maskedPaths: unable to restrict sys entries without a private MNT namespace');
  if (spec.root?.readonly) throw no('root.readonly', 'a read-only root');
  if (linux.rootfsPropagation) throw no('linux.rootfsPropagation', 'a rootfs propagation');
}

// exec: a process that joins every namespace of the running init `pid` (the user namespace
// first: the addon orders it; pid is entered by the parent for the clone) and follows the
// init's tail: rlimits, user, capabilities, seccomp, no host fd, execve.
export function buildExecPlan(config: Spec, initPid: number, rootfs: string, proc: Process, preserveFds: number): ExecPlan {
  const namespaces = config.linux?.namespaces ?? [];
  const seccomp = config.linux?.seccomp ? compileSeccomp(config.linux.seccomp) : undefined;
  return {
    execMode: true, cloneFlags: 0, newMountNs: false, rootfs, rootfsReadonly: false,
    // no mount namespace to join: the exec chroots into the rootfs as the init did
    hostMountNs: !namespaces.some((n) => n.type === 'mount'),
    joins: namespaces.map((ns) => ({ type: CLONE_NEW[ns.type], path: `/proc/${initPid}/ns/${NS_FILE[ns.type]}` })),
    rootfsPropagation: 0, noPivot: false, mounts: [], setupDev: false, devices: [], maskedPaths: [], readonlyPaths: [],
    sysctls: [], inUserns: namespaces.some((n) => n.type === 'user'),
    ...processPlan(proc, config.linux, rootfs, preserveFds),
    stateDir: '', ...PLAN_FILE_NAMES, seccompFilter: seccomp?.filter, seccompFlags: seccomp?.flags,
  };
}

export type ProcessPlan = Pick<NativePlan, 'rlimits' | 'oomScoreAdj' | 'uid' | 'gid' | 'gids' | 'umask' | 'caps' |
  'capLastCap' | 'noNewPrivs' | 'apparmorProfile' | 'selinuxLabel' | 'cwd' | 'args' | 'env' | 'pathEnv' | 'preserveFds' |
  'processAttrs'>;

// The process half of a plan: shared by create (the init) and exec.
// linux.personality and linux.memoryPolicy hold for every process of the container.
export function processPlan(proc: Process, linux: Linux | undefined, rootfs: string, preserve: number): ProcessPlan {
  const rlimits = (proc.rlimits ?? []).map((r, i) => {
    const resource = RLIMITS[r.type];
    if (resource === undefined) throw new SkiffError('config', `config.json: process.rlimits[${i}].type: unknown rlimit ${JSON.stringify(r.type)}`);
    return { resource, soft: rlimitValue(r.soft), hard: rlimitValue(r.hard), name: r.type };
  });
  const c = proc.capabilities;
  const caps = c ? {
    bounding: capMask(c.bounding, 'process.capabilities.bounding'),
    effective: capMask(c.effective, 'process.capabilities.effective'),
    permitted: capMask(c.permitted, 'process.capabilities.permitted'),
    inheritable: capMask(c.inheritable, 'process.capabilities.inheritable'),
    ambient: capMask(c.ambient, 'process.capabilities.ambient'),
  } : undefined;
  let env = [...(proc.env ?? [])];
  if (envValue(env, 'HOME') === undefined) env.push(`HOME=${homeFor(rootfs, proc.user.uid)}`);
  let preserveFds = preserve;
  // systemd socket activation: runc passes LISTEN_FDS through, renumbered for pid 1.
  const listenFds = Number(process.env.LISTEN_FDS ?? 0);
  if (listenFds > 0) {
    preserveFds += listenFds;
    env = env.filter((e) => !e.startsWith('LISTEN_FDS=') && !e.startsWith('LISTEN_PID='));
    env.push(`LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1');
  }
  return {
    rlimits, oomScoreAdj: proc.oomScoreAdj,
    uid: proc.user.uid, gid: proc.user.gid, gids: proc.user.additionalGids ?? [], umask: proc.user.umask,
    caps, capLastCap: capLastCap(), noNewPrivs: proc.noNewPrivileges === true,
    apparmorProfile: proc.apparmorProfile || undefined, selinuxLabel: proc.selinuxLabel || undefined,
    cwd: proc.cwd, args: proc.args!, env, // No PATH in the env means no search path, as with runc (exec.LookPath on an empty PATH).
    pathEnv: envValue(env, 'PATH') ?? '', preserveFds, processAttrs: processAttrs(proc, linux),
  };
}
