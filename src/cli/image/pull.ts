import type { Invocation } from '../main';
import { out } from '../output';
import { openStore, platformOf, policyOf, registriesDOf } from './common';

function credentials(s: string | undefined): { username: string; password: string } | undefined {
  if (!s) return undefined;
  const i = s.indexOf(':');
  return i < 0 ? { username: s, password: '' } : { username: s.slice(0, i), password: s.slice(i + 1) };
}

export default async function imagePull(inv: Invocation): Promise<void> {
  const { pullImage, progressPrinter } = require('../../image/pull') as typeof import('../../image/pull');
  const f = inv.flags;
  const ref = inv.args[0];
  const policy = { policy: policyOf(inv), registriesD: registriesDOf(inv) };
  const pp = f.quiet ? undefined : progressPrinter(ref);
  try {
    const rec = await pullImage(openStore(inv), ref, {
      insecure: f.insecure === true, platform: platformOf(inv), creds: credentials(f.creds as string | undefined),
      name: f.name as string | undefined, unpack: f.noUnpack !== true, onBytes: pp?.onBytes, progress: pp?.progress, policy,
    });
    pp?.done();
    out(`${rec.name} ${rec.digest}\n`);
  } catch (e) {
    pp?.done();
    throw e;
  }
}
