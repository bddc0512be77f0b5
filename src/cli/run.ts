// run = create + start, then (unless -d) wait for the container with signals forwarded and
// exit with its status (128+N for signal N), deleting it afterwards unless --keep.
import { createContainer } from '../container/create';
import { destroyLocked, startContainer } from '../container/ops';
import { supervise } from '../container/supervise';
import { createRequest } from './create';
import type { Invocation } from './main';
import type { ContainerState } from '../container/store';
import { bundleFor, removeImageBundle } from './from-image';

export default async function run(inv: Invocation): Promise<void> {
  const s = inv.store;
  const id = inv.args[0];
  const { bundle, fromImage } = await bundleFor(inv);
  // A bundle made from --image goes with the container (here, or at its delete).
  const destroy = (state: ContainerState) => {
    destroyLocked(s, state, id);
    if (fromImage) removeImageBundle(bundle, id);
  };
  let made: ReturnType<typeof createContainer>;
  try {
    made = createContainer(s, { ...createRequest(inv), bundle, relayTerminal: !inv.flags.detach });
  } catch (e) {
    if (fromImage) removeImageBundle(bundle, id);
    throw e;
  }
  const { state, ptyMaster } = made;
  if (inv.flags.detach) {
    try {
      startContainer(s, id);
    } catch (e) {
      destroy(state);
      throw e;
    }
    return;
  }
  const exitCode = supervise(state.pid, ptyMaster);
  try {
    startContainer(s, id);
  } catch (e) {
    destroy(state);
    throw e;
  }
  const code = await exitCode;
  // Someone may have deleted it meanwhile (kill + delete -f from another shell): that is fine.
  if (!inv.flags.keep) destroy(state);
  process.exitCode = code;
}
