import type { Invocation } from '../main';
import { out } from '../output';
import { openStore } from './common';

export default function imageInspect(inv: Invocation): void {
  const s = openStore(inv);
  const { findImage } = require('../../image/refs') as typeof import('../../image/refs');
  const { imageUsage } = require('../../image/gc') as typeof import('../../image/gc');
  const rec = findImage(s, inv.args[0]);
  const manifest = JSON.parse(s.readBlob(rec.digest, `image ${rec.name}: manifest`).toString());
  const config = JSON.parse(s.readBlob(manifest.config.digest, `image ${rec.name}: config`).toString());
  out(JSON.stringify({ ...rec, usage: imageUsage(s, rec), manifest, config }, null, 2) + '\n');
}
