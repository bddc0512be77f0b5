import { deleteContainer } from '../container/ops';
import type { Invocation } from './main';
import * as fs from 'fs';
import * as path from 'path';

export default function del(inv: Invocation): void {
  const id = inv.args[0];
  // The bundle run/create --image made for it goes with it (no other bundle is touched).
  const raw = inv.store.rawState(id) as { bundle?: unknown } | undefined;
  deleteContainer(inv.store, id, inv.flags.force === true);
  if (typeof raw?.bundle === 'string' && fs.existsSync(path.join(raw.bundle, '.skiff-image', 'owner.json'))) {
    (require('./from-image') as typeof import('./from-image')).removeImageBundle(raw.bundle, id);
  }
}
