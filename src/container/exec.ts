// exec: a new process in a running container. It joins every namespace and the cgroup of
// the container's init, and follows the init's tail: rlimits, user, capabilities, seccomp,
// no host fd, execve. Setup errors come back over the sync socket; EOF means execve ran.
import { SkiffError } from '../errors';
import { native, Sync } from '../native';
import type { NativePlan, SyncMessage } from '../native';
import type { Process } from '../oci/spec';
import { processPlan } from '../launch/plan';
import { compileSeccomp } from '../launch/seccomp';
import { writePidFile, describeChildError } from './create';
import { withContainer } from './ops';
import type { Loaded } from './ops';
import { assertAllowed } from './status';
import { killAndReap } from './proc';
import { attachConsole } from '../launch/console';
import { crashPoint } from './crash';
import type { Store } from './store';

export interface ExecRequest {
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  ignorePaused: boolean;
  preserveFds: number;
}

const NS_FILE: Record<string, string> = { network: 'net', mount: 'mnt', pid: 'pid', ipc: 'ipc', uts: 'uts', user: 'user', cgroup: 'cgroup' };
const NS_FLAG: Record<string, number> = {
  mount: 0x00020000, cgroup: 0x02000000, uts: 0x04000000, ipc: 0x08000000, user: 0x10000000, pid: 0x20000000, network: 0x40000000,
};

// Under the container's lock until the process is set up; not while it runs.
export function execProcess(store: Store, req: ExecRequest): { pid: number; ptyMaster?: number } {
  return withContainer(store, req.id, (c) => spawnExec(c, req));
}

function spawnExec(c: Loaded, req: ExecRequest): { pid: number; ptyMaster?: number } {
  if (!(req.ignorePaused && c.status === 'paused')) assertAllowed('exec', c.status, req.id);
  const config = c.state.config;
  const proc = req.process;
  if (proc.terminal && !req.consoleSocket && req.detach) {
    throw new SkiffError('cannot allocate tty if skiff will detach without setting console socket');
  }
  const namespaces = config.linux?.namespaces ?? [];
  // The user namespace first (the addon orders it); pid is entered by the parent for the clone.
  const joins = namespaces.map((ns) => ({ type: NS_FLAG[ns.type], path: `/proc/${c.state.pid}/ns/${NS_FILE[ns.type]}` }));
  const seccomp = config.linux?.seccomp ? compileSeccomp(config.linux.seccomp) : undefined;
  const plan: NativePlan & { execMode: boolean } = {
    execMode: true, cloneFlags: 0, joins, newMountNs: false, rootfs: c.state.rootfs, rootfsReadonly: false,
    rootfsPropagation: 0, noPivot: false, mounts: [], setupDev: false, devices: [], maskedPaths: [], readonlyPaths: [],
    sysctls: [], inUserns: namespaces.some((n) => n.type === 'user'),
    ...processPlan(proc, c.state.rootfs, req.preserveFds),
    stateDir: '', seccompFilter: seccomp?.filter, seccompFlags: seccomp?.flags,
  };
  const { relayEnd, fds } = attachConsole(plan, proc, req.consoleSocket);
  const cgroupFd = c.cgroups.cloneIntoFd();
  plan.cgroupFd = cgroupFd;
  let pid = 0;
  let syncFd = -1;
  try {
    ({ pid, syncFd } = native().spawnInit(plan));
    crashPoint('exec', 'spawned');
    c.cgroups.join(pid);
    native().syncSend(syncFd, Sync.Go);
    const ready = native().syncRecv(syncFd);
    if (!ready) throw new SkiffError('exec: the process exited during setup');
    const failed = (m: SyncMessage) => new SkiffError(`unable to start container process: ${describeChildError(m)}`);
    if (ready.type === Sync.Error) throw failed(ready);
    crashPoint('exec', 'ready');
    const after = native().syncRecv(syncFd);
    if (after?.type === Sync.Error) throw failed(after);
    if (req.pidFile) writePidFile(req.pidFile, pid);
    let ptyMaster: number | undefined;
    if (relayEnd !== undefined) ptyMaster = native().recvFd(relayEnd).fd;
    return { pid, ptyMaster };
  } catch (e) {
    if (pid > 0) killAndReap(pid);
    throw e;
  } finally {
    if (syncFd >= 0) native().closeFd(syncFd);
    if (cgroupFd !== undefined) native().closeFd(cgroupFd);
    for (const fd of fds) native().closeFd(fd);
  }
}
