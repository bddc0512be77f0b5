import { withContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import type { Invocation } from './main';

export default function pause(inv: Invocation): void {
  withContainer(inv.store, inv.args[0], (c) => {
    assertAllowed('pause', c.status, inv.args[0]);
    c.cgroups.freeze();
  });
}
