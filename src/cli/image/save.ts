import type { Invocation } from '../main';
import { UsageError } from '../args';
import { out } from '../output';
import { openStore } from './common';
import { byteProgress } from './progress';

export default async function imageSave(inv: Invocation): Promise<void> {
  const { saveImages } = require('../../image/archive/save') as typeof import('../../image/archive/save');
  const format = String(inv.flags.format ?? 'oci-archive');
  if (format !== 'oci-archive' && format !== 'docker-archive') throw new UsageError(`--format ${format}: must be oci-archive or docker-archive`);
  if (!inv.flags.output) throw new UsageError('--output (-o) FILE is required');
  const p = byteProgress(`saving ${inv.args.join(', ')}`);
  try {
    const names = await saveImages(openStore(inv), inv.args, String(inv.flags.output), format, p.update);
    p.done();
    out(names.map((n) => `saved ${n}\n`).join(''));
  } catch (e) {
    p.done();
    throw e;
  }
}
