// run/create --image: the bundle made from the image before the container is created, and
// the usage rules of the flags that go with it.
import type { Invocation } from './main';
import { UsageError } from './args';
import { openStore, policyOf, registriesDOf } from './image/common';

/** The bundle to create the container from: --bundle, or one made from --image. */
export async function bundleFor(inv: Invocation): Promise<{ bundle: string; fromImage: boolean }> {
  const f = inv.flags;
  if (!f.image) {
    if (inv.rest) throw new UsageError("arguments after -- need --image (they replace the image's command)");
    return { bundle: String(f.bundle), fromImage: false };
  }
  const { makeImageBundle } = require('../image/runbundle') as typeof import('../image/runbundle');
  const bundle = await makeImageBundle(openStore(inv), {
    image: String(f.image), id: inv.args[0], dir: f.bundle !== '.' ? String(f.bundle) : undefined, args: inv.rest,
    pull: { insecure: f.insecure === true, policy: { policy: policyOf(inv), registriesD: registriesDOf(inv) } },
  });
  return { bundle, fromImage: true };
}

export function removeImageBundle(bundle: string, id: string): void {
  (require('../image/runbundle') as typeof import('../image/runbundle')).removeImageBundle(bundle, id);
}
