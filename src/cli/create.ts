import { SkiffError } from '../errors';
import { createContainer } from '../container/create';
import type { CreateRequest } from '../container/create';
import type { Invocation } from './main';

export function createRequest(inv: Invocation): CreateRequest {
  const f = inv.flags;
  const preserveFds = Number(f.preserveFds);
  if (!Number.isInteger(preserveFds) || preserveFds < 0) throw new SkiffError(`invalid --preserve-fds ${JSON.stringify(f.preserveFds)}`);
  return {
    id: inv.args[0], bundle: String(f.bundle), pidFile: f.pidFile as string | undefined,
    noPivot: f.noPivot === true, noNewKeyring: f.noNewKeyring === true, preserveFds,
    consoleSocket: f.consoleSocket as string | undefined,
    systemdCgroup: inv.globals.systemdCgroup === true,
  };
}

export default function create(inv: Invocation): void {
  createContainer(inv.store, createRequest(inv));
}
