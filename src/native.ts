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

// What the init and an exec process share (native/plan.h's struct LaunchPlan, checked key by
// key by native/plan_build.cc).
interface PlanCommon {
  cloneFlags: number;
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
  newMountNs: boolean;
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
  rootfsReadonly: false;
  rootfsPropagation: 0;
  noPivot: false;
  mounts: [];
  setupDev: false;
  devices: [];
  maskedPaths: [];
  readonlyPaths: [];
  sysctls: [];
  stateDir: '';
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
  connectUnix(path: string): number;
  socketPair(): [number, number];
  recvFd(sock: number): { fd: number; name: string };
  setWinsize(fd: number, rows: number, cols: number): void;
  dup(fd: number): number;
  closeFd(fd: number): void;
}

let addon: Addon | undefined;

// Tests that exercise a sequence without root (the sync handshake) put a scripted addon here.
export function useAddonForTests(fake: Addon | undefined): void {
  addon = fake;
}

export function native(): Addon {
  if (!addon) {
    // dist/src/native.js -> build/Release/skiff.node
    addon = require(path.join(__dirname, '..', '..', 'build', 'Release', 'skiff.node')) as Addon;
  }
  return addon;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_UN = 8;
