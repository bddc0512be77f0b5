import type { Invocation } from '../main';
import { out } from '../output';
import { human, openStore } from './common';

export default async function imagePrune(inv: Invocation): Promise<void> {
  const { prune } = require('../../image/gc') as typeof import('../../image/gc');
  const r = await prune(openStore(inv));
  out(`removed ${r.blobs} blobs, ${r.layers} layers, ${r.tmp} leftovers; freed ${human(r.freed)}\n`);
}
