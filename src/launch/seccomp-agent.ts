// A seccomp agent (linux.seccomp.listenerPath): the runtime connects to it before clone, so a
// missing agent is an error before anything runs, and writes the process state the child
// sends the agent with the notify listener (runc's ContainerProcessState) before GO.
import * as fs from 'fs';
import { native } from '../native';
import type { Spec } from '../oci/spec';

// The connected socket, or undefined when the profile has no agent.
export function connectAgent(spec: Spec): number | undefined {
  const listenerPath = spec.linux?.seccomp?.listenerPath as string | undefined;
  return listenerPath ? native().connectUnix(listenerPath) : undefined;
}

export interface AgentState {
  id: string;
  // the process the listener belongs to: the init, or the exec'd process
  pid: number;
  initPid: number;
  status: string;
  bundle: string;
  ociVersion: string;
}

// Written where the child reads it (`file`, in the directory the plan names as stateDir).
export function writeAgentState(file: string, spec: Spec, s: AgentState): void {
  fs.writeFileSync(file, JSON.stringify({
    ociVersion: s.ociVersion, fds: ['seccompFd'], pid: s.pid, metadata: spec.linux?.seccomp?.listenerMetadata ?? '',
    state: { ociVersion: s.ociVersion, id: s.id, status: s.status, pid: s.initPid, bundle: s.bundle, annotations: spec.annotations ?? {} },
  }), { mode: 0o600 });
}
