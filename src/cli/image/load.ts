import type { Invocation } from '../main';
import { UsageError } from '../args';
import { out } from '../output';
import { openStore, platformOf, policyOf } from './common';
import { stepProgress } from './progress';

export default async function imageLoad(inv: Invocation): Promise<void> {
  const { loadArchive } = require('../../image/archive/load') as typeof import('../../image/archive/load');
  if (!inv.flags.input) throw new UsageError('--input (-i) FILE is required');
  const p = stepProgress(`loading ${String(inv.flags.input)}`);
  const progress = (ev: import('../../image/ingest').ProgressEvent) => {
    if (ev.kind === 'blob-done') p.step('blobs checked');
    if (ev.kind === 'layer-done') p.step('layers unpacked');
  };
  let recs;
  try {
    recs = await loadArchive(openStore(inv), String(inv.flags.input), { platform: platformOf(inv), policy: policyOf(inv), progress });
  } finally {
    p.done();
  }
  out(recs.map((r) => `Loaded image: ${r.name} ${r.digest}\n`).join(''));
}
