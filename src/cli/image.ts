// `skiff image ...` hands over to the image layer store's own command line.
import type { Invocation } from './main';

export default async function image(inv: Invocation): Promise<void> {
  const { imageMain } = require('../image/cli') as { imageMain: (argv: string[]) => Promise<number> };
  process.exitCode = await imageMain(inv.args);
}
