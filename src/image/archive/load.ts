// `skiff image load -i FILE`: every image of an archive (what docker save and podman save write,
// docker-archive or oci-archive, one image or several) into the store, each through import, so
// each is verified and published, and judged by the signature policy, as import does it.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { pipeline } from 'stream/promises';
import { ImageError } from '../digest';
import { importImage, ImportOptions } from '../import';
import { sniffCompression } from '../media';
import type { RefRecord, Store } from '../store';

/** manifest.json and index.json of an archive, read in one pass over its headers. */
async function archiveIndexes(file: string): Promise<Map<string, Buffer>> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  const found = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const name = path.posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
    const keep = name === 'manifest.json' || name === 'index.json';
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      if (keep) chunks.push(c as Buffer);
    });
    stream.on('error', () => undefined); // a truncated entry: the pipeline reports it
    stream.on('end', () => {
      if (keep) found.set(name, Buffer.concat(chunks));
      next();
    });
  });
  const src = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    if (sniffCompression(head) === 'gzip') await pipeline(src, zlib.createGunzip(), extract as never);
    else await pipeline(src, extract as never);
  } catch (e) {
    throw new ImageError(`archive ${file}: the archive is truncated or corrupt (${(e as Error).message})`);
  }
  return found;
}

/** The tag import picks each image of the archive by (undefined: the archive's only image). */
function imageTags(idx: Map<string, Buffer>, file: string): (string | undefined)[] {
  try {
    const docker = idx.get('manifest.json');
    if (docker) {
      const entries = JSON.parse(docker.toString()) as { RepoTags?: string[] | null }[];
      return entries.length === 1 ? [undefined] : entries.map((e) => e.RepoTags?.[0]);
    }
    const index = JSON.parse(idx.get('index.json')?.toString() ?? '{}') as { manifests?: { annotations?: Record<string, string> }[] };
    const ms = index.manifests ?? [];
    return ms.length <= 1 ? [undefined] : ms.map((m) => m.annotations?.['io.containerd.image.name'] ?? m.annotations?.['org.opencontainers.image.ref.name']);
  } catch (e) {
    throw new ImageError(`archive ${file}: ${(e as Error).message}`);
  }
}

export async function loadArchive(store: Store, file: string, opts: Omit<ImportOptions, 'tag'>): Promise<RefRecord[]> {
  if (!fs.existsSync(file)) throw new ImageError(`load ${file}: no such file or directory`);
  const tags = imageTags(await archiveIndexes(file), file);
  if (tags.some((t) => t === undefined) && tags.length > 1) throw new ImageError(`archive ${file}: holds ${tags.length} images, not all of them named`);
  const out: RefRecord[] = [];
  for (const tag of tags) out.push(await importImage(store, file, { ...opts, tag }));
  return out;
}
