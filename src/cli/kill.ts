import { killContainer } from '../container/ops';
import type { Invocation } from './main';

export default function kill(inv: Invocation): void {
  killContainer(inv.store, inv.args[0], inv.args[1], inv.flags.all === true);
}
