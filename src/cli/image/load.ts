import type { Invocation } from '../main';
import { UsageError } from '../args';
import { out } from '../output';
import { openStore, platformOf, policyOf } from './common';

export default async function imageLoad(inv: Invocation): Promise<void> {
  const { loadArchive } = require('../../image/archive/load') as typeof import('../../image/archive/load');
  if (!inv.flags.input) throw new UsageError('--input (-i) FILE is required');
  const recs = await loadArchive(openStore(inv), String(inv.flags.input), { platform: platformOf(inv), policy: policyOf(inv) });
  out(recs.map((r) => `Loaded image: ${r.name} ${r.digest}\n`).join(''));
}
