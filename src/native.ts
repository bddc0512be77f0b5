// The only import of the compiled addon (design.md section 5), typed.
import * as path from 'path';

export interface NativeMount {
  source?: string;
  destination: string;
  fstype?: string;
  data?: string;
  flags: number;
  propagation: number;
  remount: number;
  // mount_setattr(AT_RECURSIVE) once mounted: MOUNT_ATTR_* to set and clear (rro, rnosuid, ...)
  recAttrSet: number;
  recAttrClr: number;
  // an idmapped bind: the addon makes a user namespace from these uid_map/gid_map texts and an
  // idmapped detached copy of the source before clone; the init attaches it (move_mount)
  idmap?: { uidMap: string; gidMap: string; recursive: boolean };
  bind: boolean;
  sourceIsDir: boolean;
}

export interface NativeDevice {
  path: string;
  mode: number;
  major: number;
  minor: number;
  uid: number;
  gid: number;
  hostPath?: string;
}

export interface NativeRlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
  name: string;
}

export interface NativeCaps {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

// The per-process kernel attributes (src/oci/kernelattrs.ts), applied by the child before
// READY (native/process_attrs.cc); absent: left as the runtime's.
export interface NativeProcessAttrs {
  // `what`: the words an error names it with
  scheduler?: { policy: number; nice: number; priority: number; flags: bigint; runtime: bigint; deadline: bigint; period: bigint; what: string };
  ioPriority?: number;
  personality?: number;
  // set_mempolicy(mode | flags, nodemask, maxnode): nodemask as little-endian 64-bit words
  memoryPolicy?: { mode: number; nodemask: Buffer; maxnode: number };
}

// What the init and an exec process share (native/plan.h's struct LaunchPlan, checked key by
// key by native/plan_build.cc).
interface PlanCommon {
  cloneFlags: number;
  processAttrs: NativeProcessAttrs;
  joins: { type: number; path: string }[];
  rootfs: string;
  inUserns: boolean;
  rlimits: NativeRlimit[];
  oomScoreAdj?: number;
  uid: number;
  gid: number;
  gids: number[];
  umask?: number;
  caps?: NativeCaps;
  capLastCap: number;
  noNewPrivs: boolean;
  apparmorProfile?: string;
  selinuxLabel?: string;
  cwd: string;
  args: string[];
  env: string[];
  pathEnv?: string;
  preserveFds: number;
  // the state dir's files (src/launch/statedir.ts)
  fifoName: string;
  hookStateName: string;
  seccompStateName: string;
  cgroupFd?: number;
  seccompFilter?: Buffer;
  seccompFlags?: number;
  seccompListenerFd?: number;
  terminal?: boolean;
  consoleFd?: number;
  consoleRows?: number;
  consoleCols?: number;
}

// create: a new container, its rootfs, mounts and devices, waiting on the exec fifo.
export interface InitPlan extends PlanCommon {
  execMode: false;
  // the init sets up the rootfs in a mount namespace of its own (made at clone or joined by path)
  newMountNs: boolean;
  // no mount namespace: mounts in the runtime's, chroot instead of pivot_root
  hostMountNs: boolean;
  rootfsReadonly: boolean;
  rootfsPropagation: number;
  noPivot: boolean;
  mounts: NativeMount[];
  setupDev: boolean;
  devices: NativeDevice[];
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctls: { path: string; value: string }[];
  hostname?: string;
  domainname?: string;
  keyringName?: string;
  // the new time namespace's clock offsets, as /proc/self/timens_offsets takes them
  timeOffsets?: string;
  stateDir: string;
  createContainerHooks?: { path: string; args: string[]; env: string[]; timeout: number }[];
  startContainerHooks?: { path: string; args: string[]; env: string[]; timeout: number }[];
}

// exec: join a running container; it makes nothing, so its container half is inert (the
// addon still wants every key, so a misspelt one cannot hide).
export interface ExecPlan extends PlanCommon {
  execMode: true;
  cloneFlags: 0;
  newMountNs: false;
  // the container has no mount namespace: chroot into its rootfs
  hostMountNs: boolean;
  rootfsReadonly: false;
  rootfsPropagation: 0;
  noPivot: false;
  mounts: [];
  setupDev: false;
  devices: [];
  maskedPaths: [];
  readonlyPaths: [];
  sysctls: [];
  // '' unless a seccomp agent's state file is there (the container's state dir)
  stateDir: string;
}

export type NativePlan = InitPlan | ExecPlan;

// Mirrors enum SyncType in native/sync.h.
export const enum Sync {
  Go = 1,
  CreateRuntime = 2,
  HooksDone = 3,
  Ready = 4,
  Error = 5,
  Commit = 6,
  Pid = 7,
}

export interface SyncMessage {
  type: Sync;
  errno: number;
  step: string;
  detail: string;
  message: string;
}

export interface ExitStatus {
  code: number | null;
  signal: number | null;
}

// The cgroup part of the addon (native/cgroup_bpf.cc).
export interface CgroupNative {
  // Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup directory,
  // replacing the device programs attached there before.
  attachDeviceFilter(dir: string, insns: Buffer): void;
  // How many device programs are attached directly to the directory.
  deviceFilterCount(dir: string): number;
  // A close-on-exec eventfd, for cgroup.event_control.
  eventfd(): number;
  // A child of ours that waits, killed by SIGKILL or our exit: what a systemd scope is
  // started around before the init exists. The caller kills and reaps it.
  spawnPlaceholder(): number;
}

export interface Addon {
  cgroups: CgroupNative;
  spawnInit(plan: NativePlan): { pid: number; syncFd: number };
  syncSend(fd: number, type: Sync): void;
  syncRecv(fd: number): SyncMessage | null;
  mkfifo(path: string, mode: number): void;
  openExecFifo(path: string, pid: number): boolean;
  flock(fd: number, op: number): void;
  waitPidSync(pid: number): ExitStatus | null;
  waitPid(pid: number): Promise<ExitStatus | null>;
  waitExited(pids: number[]): void;
  compileSeccomp(profile: object): Buffer;
  // The version of the libseccomp the addon runs with, "2.5.4".
  seccompVersion(): string;
  connectUnix(path: string, what?: string): number;
  socketPair(): [number, number];
  recvFd(sock: number): { fd: number; name: string };
  // --pidfd-socket: a pidfd of pid over the connected socket (native/pidfd.cc)
  sendPidfd(sock: number, pid: number): void;
  // linux.netDevices: [name, new name] links from our netns (or fromNsPath's) into toNsPath's (native/netdev.cc)
  moveLinks(toNsPath: string, links: [string, string][], fromNsPath?: string): void;
  // `skiff check` probes (native/probe.cc): errno of a harmless call (ENOSYS: not there)
  syscallErrno(name: 'clone3' | 'open_tree' | 'mount_setattr' | 'pidfd_open' | 'pidfd_send_signal' | 'sched_setattr' | 'set_mempolicy' | 'ioprio_set'): number;
  // EFAULT: the kernel knows the seccomp filter flag; EINVAL: it does not
  seccompFlagErrno(flag: number): number;
  // per path, the errno of an idmapped mount of a detached clone of its mount (0: it works)
  idmapProbe(paths: string[]): number[];
  setWinsize(fd: number, rows: number, cols: number): void;
  dup(fd: number): number;
  closeFd(fd: number): void;
}

let addon: Addon | undefined;

// Tests that exercise a sequence without root (the sync handshake) put a scripted addon here.
export function useAddonForTests(fake: Addon | undefined): void {
  addon = fake;
}

// Whether this runs inside the compiled bin/skiff (scripts/build-bin.js), whose modules live in
// Bun's embedded file system rather than in dist/ on disk.
export function inCompiledExecutable(): boolean {
  return process.argv[1]?.startsWith('/$bunfs/') === true;
}

// dist/src/native.js -> build/Release/skiff.node. The compiled bin/skiff (build/skiff, made by
// scripts/build-bin.js) is one file whose modules' __dirname is where they were bundled from,
// gone if the install moves: its addon is the one beside it.
function addonPath(): string {
  if (inCompiledExecutable()) return path.join(path.dirname(process.execPath), 'Release', 'skiff.node');
  return path.join(__dirname, '..', '..', 'build', 'Release', 'skiff.node');
}

// process.dlopen, not require: Bun's resolver would read every directory from / down to the
// working directory and to the addon's (a containerd shim's bundle dir sits beside one
// directory per container), for a path that is absolute already.
export function native(): Addon {
  if (!addon) {
    const m = { exports: {} as Addon };
    process.dlopen(m as unknown as NodeJS.Module, addonPath());
    addon = m.exports;
  }
  return addon;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_UN = 8;
