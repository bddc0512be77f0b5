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
import { native } from '../native';
import { PidfdSocket } from '../launch/pidfd';
import type { Store } from './store';

export interface ExecRequest {
  id: string;
  process: Process;
  detach: boolean;
  pidFile?: string;
  consoleSocket?: string;
  pidfdSocket?: string;
  ignorePaused: boolean;
  preserveFds: number;
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
  const pidfdSocket = PidfdSocket.connect(req.pidfdSocket);
  let console: ReturnType<typeof attachConsole>;
  try {
    console = attachConsole(plan, proc, req.consoleSocket);
  } catch (e) {
    pidfdSocket?.close();
    throw e;
  }
  const { relayEnd, fds } = console;
  const cgroupFd = c.cgroups.cloneIntoFd();
  plan.cgroupFd = cgroupFd;
  const agent = connectAgent(c.state.config);
  if (agent !== undefined) {
    // The child reads the agent's state file from the container's state dir, one per exec.
    plan.seccompListenerFd = agent;
    fds.push(agent);
    plan.stateDir = stateDir;
    plan.seccompStateName = `seccomp-exec-${process.pid}.json`;
  }
  let pid = 0;
  let channel: SyncChannel | undefined;
  try {
    ({ pid, channel } = spawn(plan, {
      errorPrefix: 'unable to start container process: ',
      placed: (pid) => {
        crashPoint('exec', 'spawned');
        if (agent !== undefined) {
          writeAgentState(path.join(stateDir, plan.seccompStateName), c.state.config,
            { id: req.id, pid, initPid: c.state.pid, status: c.status, bundle: c.state.bundle, ociVersion: c.state.ociVersion });
        }
        c.cgroups.join(pid);
      },
      exitedDuringSetup: () => new SkiffError('setup', 'exec: the process exited during setup'),
    }));
    crashPoint('exec', 'ready');
    channel.expectEof();
    pidfdSocket?.send(pid);
    if (req.pidFile) writePidFile(req.pidFile, pid);
    let ptyMaster: number | undefined;
    if (relayEnd !== undefined) ptyMaster = native().recvFd(relayEnd).fd;
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
