import { startContainer } from '../container/ops';
import type { Invocation } from './main';

export default function start(inv: Invocation): void {
  startContainer(inv.store, inv.args[0]);
}
