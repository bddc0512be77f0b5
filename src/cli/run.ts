// run = create + start, then (unless -d) wait for the container with signals forwarded and
// exit with its status (128+N for signal N), deleting it afterwards unless --keep.
import { createContainer } from '../container/create';
import { destroyLocked, startContainer } from '../container/ops';
import { supervise } from '../container/supervise';
import { createRequest } from './create';
import type { Invocation } from './main';

export default async function run(inv: Invocation): Promise<void> {
  const s = inv.store;
  const id = inv.args[0];
  const { state, ptyMaster } = createContainer(s, { ...createRequest(inv), relayTerminal: !inv.flags.detach });
  if (inv.flags.detach) {
    try {
      startContainer(s, id);
    } catch (e) {
      destroyLocked(s, state, id);
      throw e;
    }
    return;
  }
  const exitCode = supervise(state.pid, ptyMaster);
  try {
    startContainer(s, id);
  } catch (e) {
    destroyLocked(s, state, id);
    throw e;
  }
  const code = await exitCode;
  // Someone may have deleted it meanwhile (kill + delete -f from another shell): that is fine.
  if (!inv.flags.keep) destroyLocked(s, state, id);
  process.exitCode = code;
}
