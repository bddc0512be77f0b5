import type { Invocation } from '../main';
import { note, out } from '../output';
import { openStore } from './common';

export default async function imageBundle(inv: Invocation): Promise<void> {
  const { createBundle } = require('../../image/bundle') as typeof import('../../image/bundle');
  const [image, dir] = inv.args;
  const mode = inv.flags.copy ? 'copy' : inv.flags.overlay ? 'overlay' : 'auto';
  const info = await createBundle(openStore(inv), image, dir, mode, (s) => note(`skiff image bundle: ${s}\n`));
  out(`${dir} ${info.mode} ${info.image}\n`);
}
