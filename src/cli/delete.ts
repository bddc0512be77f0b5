import { deleteContainer } from '../container/ops';
import type { Invocation } from './main';

export default function del(inv: Invocation): void {
  deleteContainer(inv.store, inv.args[0], inv.flags.force === true);
}
