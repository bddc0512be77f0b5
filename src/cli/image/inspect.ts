import type { Invocation } from '../main';
import { out } from '../output';
import { openStore, policyOf } from './common';

export default async function imageInspect(inv: Invocation): Promise<void> {
  const s = openStore(inv);
  const { findImage } = require('../../image/refs') as typeof import('../../image/refs');
  const { imageUsage } = require('../../image/gc') as typeof import('../../image/gc');
  const { judgeStored } = require('../../image/policy/report') as typeof import('../../image/policy/report');
  const rec = findImage(s, inv.args[0]);
  const manifest = JSON.parse(s.readBlob(rec.digest, `image ${rec.name}: manifest`).toString());
  const config = JSON.parse(s.readBlob(manifest.config.digest, `image ${rec.name}: config`).toString());
  const trust = await judgeStored(s, rec, () => policyOf(inv));
  out(JSON.stringify({ ...rec, usage: imageUsage(s, rec), manifest, config, ...trust }, null, 2) + '\n');
}
