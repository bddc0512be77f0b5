// A seccomp agent (linux.seccomp.listenerPath): the runtime connects to it before clone, so a
// missing agent is an error before anything runs, and writes the process state the child
// sends the agent with the notify listener (runc's ContainerProcessState) before GO.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { native } from '../native';
import type { Spec } from '../oci/spec';

// The connected socket, or undefined when the profile has no agent; runc's words when it cannot
// be reached (clients match "failed to connect with seccomp agent").
export function connectAgent(spec: Spec): number | undefined {
  const listenerPath = spec.linux?.seccomp?.listenerPath as string | undefined;
  if (!listenerPath) return undefined;
  try {
    return native().connectUnix(listenerPath, 'seccomp agent');
  } catch (e) {
    const cause = (e as Error).message.replace(/^.*: /, '');
    throw new SkiffError('setup', `failed to connect with seccomp agent specified in the seccomp profile: connect ${listenerPath}: ${cause.charAt(0).toLowerCase()}${cause.slice(1)}`);
  }
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
