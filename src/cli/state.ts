import { loadContainer } from '../container/ops';
import { publicState } from '../container/view';
import type { Invocation } from './main';
import { out } from './output';

export default function state(inv: Invocation): void {
  const c = loadContainer(inv.store, inv.args[0]);
  // runc prints it indented and without a trailing newline.
  out(JSON.stringify(publicState(c.state, c.status, ''), null, 2));
}
