import type { Invocation } from '../main';
import { out } from '../output';
import { openStore } from './common';

export default function imageRm(inv: Invocation): void {
  const s = openStore(inv);
  const { findImage } = require('../../image/refs') as typeof import('../../image/refs');
  const { removeImages } = require('../../image/gc') as typeof import('../../image/gc');
  out(removeImages(s, inv.args, (x) => findImage(s, x)).map((n) => `removed ${n}\n`).join(''));
}
