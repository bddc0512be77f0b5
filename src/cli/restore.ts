import * as path from 'path';
import { loadSpec } from '../oci/validate';
import { checkCriuFlags, unsupported } from './criu';
import type { Invocation } from './main';

// runc's order: the bundle's config.json, the flags; then CRIU, which Skiff has not.
export default function restore(inv: Invocation): void {
  loadSpec(path.resolve(String(inv.flags.bundle)));
  checkCriuFlags(inv.flags);
  throw unsupported('restore');
}
