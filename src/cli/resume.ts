import { withContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import type { Invocation } from './main';

export default function resume(inv: Invocation): void {
  withContainer(inv.store, inv.args[0], (c) => {
    assertAllowed('resume', c.status, inv.args[0]);
    c.cgroups.thaw();
  });
}
