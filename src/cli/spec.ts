import type { Invocation } from './main';
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import { defaultSpec } from '../oci/defaults';

export default function spec(inv: Invocation): void {
  const o = { bundle: String(inv.flags.bundle), rootless: inv.flags.rootless === true };
  const file = path.join(o.bundle, 'config.json');
  if (!fs.existsSync(o.bundle)) throw new SkiffError('usage', `bundle directory ${o.bundle} does not exist`);
  if (fs.existsSync(file)) throw new SkiffError('exists', 'File config.json exists. Remove it first');
  // Tab-indented, as runc writes it.
  fs.writeFileSync(file, JSON.stringify(defaultSpec({ rootless: o.rootless }), null, '\t'), { mode: 0o666 });
}
