import { loadContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import type { Invocation } from './main';

export default function resume(inv: Invocation): void {
  const c = loadContainer(inv.store, inv.args[0]);
  assertAllowed('resume', c.status, inv.args[0]);
  c.cgroups.thaw();
}
