import { createContainer } from '../container/create';
import type { CreateRequest } from '../container/create';
import type { Invocation } from './main';
import { preserveFds } from './values';
import { rootlessMode } from '../rootless';
import { bundleFor, removeImageBundle } from './from-image';

export function createRequest(inv: Invocation): CreateRequest {
  const f = inv.flags;
  return {
    id: inv.args[0], bundle: String(f.bundle), pidFile: f.pidFile as string | undefined,
    noPivot: f.noPivot === true, noNewKeyring: f.noNewKeyring === true, preserveFds: preserveFds(f.preserveFds),
    consoleSocket: f.consoleSocket as string | undefined, pidfdSocket: f.pidfdSocket as string | undefined,
    systemdCgroup: inv.globals.systemdCgroup === true,
    rootless: rootlessMode(inv.globals.rootless),
  };
}

export default async function create(inv: Invocation): Promise<void> {
  const { bundle, fromImage } = await bundleFor(inv);
  try {
    createContainer(inv.store, { ...createRequest(inv), bundle });
  } catch (e) {
    if (fromImage) removeImageBundle(bundle, inv.args[0]);
    throw e;
  }
}
