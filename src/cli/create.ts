import type { Command } from 'commander';
import { SkiffError } from '../errors';
import { createContainer } from '../container/create';
import { store } from './main';

export interface CreateFlags {
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  pivot: boolean;
  newKeyring: boolean;
  preserveFds: string;
}

export function createRequest(id: string, o: CreateFlags) {
  const preserveFds = Number(o.preserveFds);
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new SkiffError(`invalid --preserve-fds ${JSON.stringify(o.preserveFds)}`);
  if (o.consoleSocket) throw new SkiffError('--console-socket: terminals are not supported by skiff yet');
  return { id, bundle: o.bundle, pidFile: o.pidFile, noPivot: !o.pivot, noNewKeyring: !o.newKeyring, preserveFds };
}

export default function create(program: Command, id: string, o: CreateFlags): void {
  createContainer(store(program), createRequest(id, o));
}
