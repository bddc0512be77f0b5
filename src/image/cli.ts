// `skiff image …`: parses the subcommand and calls the library. Each action requires only the
// modules it needs, so `skiff image ls` does not load tar-stream, zlib or the registry client.
import { Command, CommanderError } from 'commander';

type Out = { out: (s: string) => void; err: (s: string) => void };

function human(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i ? n.toFixed(1) : n}${u[i]}`;
}

function store(root: string | undefined) {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Store, DEFAULT_IMAGE_ROOT } = require('./store') as typeof import('./store');
  return new Store(root ?? process.env.SKIFF_IMAGE_ROOT ?? DEFAULT_IMAGE_ROOT);
}

function platformOpt(s: string | undefined) {
  if (!s) return undefined;
  return (require('./platform') as typeof import('./platform')).parsePlatform(s);
}

export async function imageMain(argv: string[], io: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }): Promise<number> {
  let code = 0;
  let current = '';
  const program = new Command('skiff image')
    .description('OCI images: a content-addressed store, and bundles made from it')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError(false);
  const root = (c: Command) => c.option('--image-root <dir>', 'image store directory (default /var/lib/skiff, or $SKIFF_IMAGE_ROOT)');

  root(program.command('import').argument('<path>', 'OCI layout directory, oci-archive or docker-archive tarball')
    .description('import an image from an OCI layout, oci-archive or docker-archive')
    .option('--name <ref>', 'store the image under this name')
    .option('--tag <tag>', 'which image of a layout or archive holding several')
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image')
    .option('--no-unpack', 'store the blobs only; the first bundle unpacks the layers'))
    .action(async (p: string, o) => {
      current = 'import';
      const { importImage } = require('./import') as typeof import('./import');
      const rec = await importImage(store(o.imageRoot), p, { name: o.name, tag: o.tag, platform: platformOpt(o.platform), unpack: o.unpack });
      io.out(`${rec.name} ${rec.digest}\n`);
    });

  root(program.command('pull').argument('<ref>', 'image reference, e.g. 127.0.0.1:5000/busybox:latest')
    .description('pull an image from a registry (OCI distribution API)')
    .option('--insecure', 'plain http (for loopback/test registries)')
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image')
    .option('--creds <user:password>', 'registry credentials (default: ~/.docker/config.json)')
    .option('--name <ref>', 'store the image under this name')
    .option('--no-unpack', 'store the blobs only; the first bundle unpacks the layers')
    .option('-q, --quiet', 'no progress output'))
    .action(async (ref: string, o) => {
      current = 'pull';
      const { pullImage, progressPrinter } = require('./pull') as typeof import('./pull');
      let creds;
      if (o.creds) {
        const i = String(o.creds).indexOf(':');
        creds = i < 0 ? { username: o.creds, password: '' } : { username: o.creds.slice(0, i), password: o.creds.slice(i + 1) };
      }
      const pp = o.quiet ? undefined : progressPrinter(ref);
      try {
        const rec = await pullImage(store(o.imageRoot), ref, { insecure: !!o.insecure, platform: platformOpt(o.platform), creds, name: o.name, unpack: o.unpack, onBytes: pp?.onBytes, progress: pp?.progress });
        pp?.done();
        io.out(`${rec.name} ${rec.digest}\n`);
      } catch (e) {
        pp?.done();
        throw e;
      }
    });

  root(program.command('bundle').argument('<image>', 'image name or digest').argument('<dir>', 'bundle directory to create')
    .description('make an OCI runtime bundle (config.json + rootfs) from an image')
    .option('--copy', 'flattened copy of the layers instead of an overlayfs mount')
    .option('--overlay', 'require overlayfs (no fallback to a copy)'))
    .action(async (image: string, dir: string, o) => {
      current = 'bundle';
      const { createBundle } = require('./bundle') as typeof import('./bundle');
      const info = await createBundle(store(o.imageRoot), image, dir, o.copy ? 'copy' : o.overlay ? 'overlay' : 'auto', (s) => io.err(`skiff image bundle: ${s}\n`));
      io.out(`${dir} ${info.mode} ${info.image}\n`);
    });

  root(program.command('unbundle').argument('<dir>', 'bundle directory made by `skiff image bundle`')
    .description('unmount and remove a bundle'))
    .action(async (dir: string, o) => {
      current = 'unbundle';
      (require('./bundle') as typeof import('./bundle')).removeBundle(store(o.imageRoot), dir);
    });

  root(program.command('ls').alias('list').description('list images with their disk usage')
    .option('-q, --quiet', 'names only')
    .option('--json', 'machine-readable output'))
    .action(async (o) => {
      current = 'ls';
      const s = store(o.imageRoot);
      const refs = s.listRefs();
      if (o.quiet) {
        for (const r of refs) io.out(r.name + '\n');
        return;
      }
      const { imageUsage } = require('./gc') as typeof import('./gc');
      const rows = refs.map((r) => imageUsage(s, r, refs));
      if (o.json) {
        io.out(JSON.stringify(rows, null, 2) + '\n');
        return;
      }
      const table = [['NAME', 'DIGEST', 'PLATFORM', 'CREATED', 'SIZE', 'UNPACKED', 'SHARED']];
      for (const u of rows) {
        const shared = u.layers.filter((l) => l.sharedWith > 0).reduce((a, l) => a + l.unpacked, 0);
        table.push([u.name, u.digest.slice(7, 19), u.platform, u.created.slice(0, 19).replace('T', ' '), human(u.size), human(u.unpacked), human(shared)]);
      }
      const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
      for (const r of table) io.out(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n');
    });

  root(program.command('inspect').argument('<image>', 'image name or digest').description('show an image: manifest, config, layers and their disk usage'))
    .action(async (image: string, o) => {
      current = 'inspect';
      const s = store(o.imageRoot);
      const { findImage } = require('./refs') as typeof import('./refs');
      const { imageUsage } = require('./gc') as typeof import('./gc');
      const rec = findImage(s, image);
      const manifest = JSON.parse(s.readBlob(rec.digest, `image ${rec.name}: manifest`).toString());
      const config = JSON.parse(s.readBlob(manifest.config.digest, `image ${rec.name}: config`).toString());
      io.out(JSON.stringify({ ...rec, usage: imageUsage(s, rec), manifest, config }, null, 2) + '\n');
    });

  root(program.command('rm').alias('remove').argument('<images...>', 'image names or digests').description('remove image names (run prune to free the space)'))
    .action(async (images: string[], o) => {
      current = 'rm';
      const s = store(o.imageRoot);
      const { findImage } = require('./refs') as typeof import('./refs');
      const { removeImages } = require('./gc') as typeof import('./gc');
      for (const n of removeImages(s, images, (x) => findImage(s, x))) io.out(`removed ${n}\n`);
    });

  root(program.command('prune').description('remove blobs and layers no image name or bundle uses'))
    .action(async (o) => {
      current = 'prune';
      const { prune } = require('./gc') as typeof import('./gc');
      const r = await prune(store(o.imageRoot));
      io.out(`removed ${r.blobs} blobs, ${r.layers} layers, ${r.tmp} leftovers; freed ${human(r.freed)}\n`);
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      code = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    } else {
      const msg = (e as Error).message ?? String(e);
      io.err(`skiff image${current ? ' ' + current : ''}: ${msg}\n`);
      if (process.env.SKIFF_DEBUG && (e as Error).stack) io.err((e as Error).stack + '\n');
      code = 1;
    }
  }
  return code;
}

if (require.main === module) {
  imageMain(process.argv.slice(2)).then((c) => process.exit(c));
}
