import type { Invocation } from '../main';
import { out } from '../output';
import { openStore, platformOf, policyOf } from './common';

export default async function imageImport(inv: Invocation): Promise<void> {
  const { importImage } = require('../../image/import') as typeof import('../../image/import');
  const f = inv.flags;
  const rec = await importImage(openStore(inv), inv.args[0], {
    name: f.name as string | undefined, tag: f.tag as string | undefined, platform: platformOf(inv), unpack: f.noUnpack !== true, policy: policyOf(inv),
  });
  out(`${rec.name} ${rec.digest}\n`);
}
