// `skiff image ...` hands over to the image layer store's own command line.
import type { Command } from 'commander';

export default async function image(_program: Command, args: string[]): Promise<void> {
  const { imageMain } = require('../image/cli') as { imageMain: (argv: string[]) => Promise<number> };
  process.exitCode = await imageMain(args);
}
