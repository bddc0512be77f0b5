// exec: a new process in a running container, through the same spawn as the init. Setup
// errors come back over the sync socket; EOF means execve ran.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { Process } from '../oci/spec';
import { buildExecPlan } from '../launch/plan';
import { spawn } from '../launch/spawn';
import type { SyncChannel } from '../launch/spawn';
import { attachConsole } from '../launch/console';
import { connectAgent, writeAgentState } from '../launch/seccomp-agent';
import { writePidFile } from './create';
import { withContainer } from './ops';
import type { Loaded } from './ops';
import { assertAllowed } from './status';
import { killAndReap } from '../launch/proc';
import { crashPoint } from './crash';
import { logDebug } from '../log';
import { native } from '../native';
import { PidfdSocket } from '../launch/pidfd';
import type { Store } from './store';
import { cgroupsFor } from '../cgroups/manager';
import { subCgroupRecord } from '../cgroups/sub';
import type { SubCgroupPaths } from '../cgroups/sub';

// The cgroup step's errors in runc's shape: "unable to start container process: error adding pid ...".
function placing<T>(step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof SkiffError) throw new SkiffError(e.kind, `unable to start container process: ${e.message}`);
    throw e;
  }
}

export interface ExecRequest {
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  ignorePaused: boolean;
  preserveFds: number;
  // exec --cgroup: sub-cgroups of the container's to join instead of its own
  subCgroups?: SubCgroupPaths;
}

// Under the container's lock until the process is set up; not while it runs.
export function execProcess(store: Store, req: ExecRequest): { pid: number; ptyMaster?: number } {
  return withContainer(store, req.id, (c) => spawnExec(c, req, store.dir(req.id)));
}

function spawnExec(c: Loaded, req: ExecRequest, stateDir: string): { pid: number; ptyMaster?: number } {
  if (!(req.ignorePaused && c.status === 'paused')) assertAllowed('exec', c.status, req.id);
  const proc = req.process;
  if (proc.terminal && !req.consoleSocket && req.detach) {
    throw new SkiffError('usage', 'cannot allocate tty if skiff will detach without setting console socket');
  }
  const plan = buildExecPlan(c.state.config, c.state.pid, c.state.rootfs, proc, req.preserveFds);
  const cgroups = req.subCgroups ? cgroupsFor(subCgroupRecord(c.cgroups.record, req.subCgroups)) : c.cgroups;
  const pidfdSocket = PidfdSocket.connect(req.pidfdSocket);
  let agent: number | undefined;
  try {
    agent = connectAgent(c.state.config);
  } catch (e) {
    pidfdSocket?.close();
    throw e;
  }
  if (agent !== undefined) {
    // The child reads the agent's state file from the container's state dir, one per exec.
    plan.seccompListenerFd = agent;
    plan.stateDir = stateDir;
    plan.seccompStateName = `seccomp-exec-${process.pid}.json`;
  }
  let pid = 0;
  let channel: SyncChannel | undefined;
  let cgroupFd: number | undefined;
  const fds: number[] = agent !== undefined ? [agent] : [];
  try {
    cgroupFd = plan.cgroupFd = placing(() => cgroups.cloneIntoFd());
    const console = attachConsole(plan, proc, req.consoleSocket);
    fds.push(...console.fds);
    ({ pid, channel } = spawn(plan, {
      errorPrefix: 'unable to start container process: ',
      placed: (pid) => {
        crashPoint('exec', 'spawned');
        if (agent !== undefined) {
          writeAgentState(path.join(stateDir, plan.seccompStateName), c.state.config,
            { id: req.id, pid, initPid: c.state.pid, status: c.status, bundle: c.state.bundle, ociVersion: c.state.ociVersion });
        }
        placing(() => cgroups.join(pid));
      },
      exitedDuringSetup: () => new SkiffError('setup', 'exec: the process exited during setup'),
    }));
    crashPoint('exec', 'ready');
    logDebug(`exec ${req.id}: process ${pid} is about to exec ${JSON.stringify(proc.args?.[0] ?? '')}`);
    channel.expectEof();
    pidfdSocket?.send(pid);
    logDebug(`exec ${req.id}: process ${pid} exec'd`);
    if (req.pidFile) writePidFile(req.pidFile, pid);
    let ptyMaster: number | undefined;
    if (console.relayEnd !== undefined) ptyMaster = native().recvFd(console.relayEnd).fd;
    return { pid, ptyMaster };
  } catch (e) {
    if (pid > 0) killAndReap(pid);
    throw e;
  } finally {
    channel?.close();
    pidfdSocket?.close();
    if (cgroupFd !== undefined) native().closeFd(cgroupFd);
    for (const fd of fds) native().closeFd(fd);
    if (agent !== undefined) fs.rmSync(path.join(stateDir, plan.seccompStateName), { force: true });
  }
}
