import { loadContainer } from '../container/ops';
import { SkiffError } from '../errors';
import { checkCriuFlags, unsupported } from './criu';
import type { Invocation } from './main';

// runc's order: the container, its state, the flags; then CRIU, which Skiff has not.
export default function checkpoint(inv: Invocation): void {
  const c = loadContainer(inv.store, inv.args[0]);
  if (c.status === 'created' || c.status === 'stopped') throw new SkiffError('wrongState', `Container cannot be checkpointed in ${c.status} state`);
  checkCriuFlags(inv.flags);
  throw unsupported('checkpoint');
}
