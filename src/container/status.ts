// The container's states and which operations each allows (runtime-spec lifecycle, runc's
// wording). Every command asks here before it acts.
import { SkiffError, notRunning } from '../errors';

export type Status = 'creating' | 'created' | 'running' | 'paused' | 'stopped';
export type Operation = 'start' | 'kill' | 'delete' | 'pause' | 'resume' | 'exec' | 'update' | 'ps' | 'events';

const ALLOWED: Record<Operation, readonly Status[]> = {
  start: ['created'],
  kill: ['created', 'running', 'paused'],
  delete: ['stopped', 'created'],
  pause: ['running', 'created'],
  resume: ['paused'],
  exec: ['created', 'running'],
  update: ['created', 'running', 'paused'],
  ps: ['created', 'running', 'paused', 'stopped'], // runc: a stopped one has no processes to show
  events: ['created', 'running', 'paused'],
};

export function allows(op: Operation, status: Status): boolean {
  return ALLOWED[op].includes(status);
}

// Throws the error runc gives for `op` in `status`.
export function assertAllowed(op: Operation, status: Status, id: string): void {
  if (allows(op, status)) return;
  switch (op) {
    case 'start':
      if (status === 'stopped') throw new SkiffError('wrongState', 'cannot start a container that has stopped');
      if (status === 'running') throw new SkiffError('wrongState', 'cannot start an already running container');
      throw new SkiffError('wrongState', `cannot start a container in the ${status} state`);
    case 'delete':
      throw new SkiffError('wrongState', `cannot delete container ${id} that is not stopped: ${status}`);
    case 'resume':
      throw new SkiffError('wrongState', 'container not paused');
    case 'exec':
      if (status === 'paused') throw new SkiffError('wrongState', 'cannot exec in a paused container (use --ignore-paused to override)');
      throw new SkiffError('wrongState', 'cannot exec in a stopped container');
    default:
      throw notRunning();
  }
}
