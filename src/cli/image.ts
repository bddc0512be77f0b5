// `skiff image ...` hands over to the image layer store's own command line.
import * as path from 'path';
import type { Invocation } from './main';

// The compiled bin/skiff (scripts/build-bin.js) leaves the image store out of its bundle and
// loads it from dist/ and node_modules/ beside it: src/image/layers.ts patches tar-stream's
// headers.js, which in a bundle is not the instance tar-stream's extractor calls, and no
// lifecycle command then carries the store's bytecode.
function imageCli(): string {
  if (process.argv[1]?.startsWith('/$bunfs/')) return path.join(path.dirname(process.execPath), '..', 'dist', 'src', 'image', 'cli.js');
  return path.join(__dirname, '..', 'image', 'cli.js');
}

export default async function image(inv: Invocation): Promise<void> {
  const { imageMain } = require(imageCli()) as { imageMain: (argv: string[]) => Promise<number> };
  process.exitCode = await imageMain(inv.args);
}
