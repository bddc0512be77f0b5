import type { Invocation } from '../main';
import { out } from '../output';
import { openStore } from './common';
import { byteProgress } from './progress';

export default async function imageCommit(inv: Invocation): Promise<void> {
  const { commitBundle } = require('../../image/archive/commit') as typeof import('../../image/archive/commit');
  const [bundle, name] = inv.args;
  const p = byteProgress(`committing ${bundle}`);
  try {
    const rec = await commitBundle(openStore(inv), bundle, name, p.update);
    p.done();
    out(`${rec.name} ${rec.digest}\n`);
  } catch (e) {
    p.done();
    throw e;
  }
}
