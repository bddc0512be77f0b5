// `skiff image save`: stored images → one archive, written under a temporary name and renamed
// into place when complete. oci-archive (an OCI image layout in a tar, each image named by its
// ref.name annotation, as podman save --format oci-archive writes) or docker-archive (what
// docker load reads: manifest.json, the configs, and each layer uncompressed, named by diffID).
import * as fs from 'fs';
import * as path from 'path';
import { pipeline } from 'stream/promises';
import { digestHex, Hasher, ImageError } from '../digest';
import { decompressor } from '../decompress';
import { ImageConfig, layerCompression, Manifest, MT, parseJSON } from '../media';
import { findImage } from '../refs';
import type { Store } from '../store';

export type ArchiveFormat = 'oci-archive' | 'docker-archive';

export interface SaveProgress {
  (done: number, total: number): void;
}

interface Saved {
  name: string;
  digest: string;
  mediaType: string;
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configBytes: Buffer;
}

function load(store: Store, ref: string): Saved {
  const rec = findImage(store, ref);
  const what = `image ${rec.name}`;
  const manifestBytes = store.readBlob(rec.digest, `${what}: manifest`);
  const manifest = parseJSON<Manifest>(manifestBytes, `${what}: manifest`);
  const configBytes = store.readBlob(manifest.config.digest, `${what}: config`);
  for (const l of manifest.layers) {
    if (!store.hasBlob(l.digest)) throw new ImageError(`${what}: layer blob ${l.digest} is missing from the store (pull or import it again)`);
  }
  const mediaType = manifest.mediaType ?? MT.ociManifest;
  return { name: rec.name, digest: rec.digest, mediaType, manifest, manifestBytes, config: parseJSON<ImageConfig>(configBytes, `${what}: config`), configBytes };
}

type Entry = { name: string; data: Buffer } | { name: string; file: string; size: number };

async function writeTar(out: string, entries: Entry[], progress?: SaveProgress): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const total = entries.reduce((n, e) => n + ('data' in e ? e.data.length : e.size), 0);
  let done = 0;
  const pack = tar.pack();
  const written = pipeline(pack, fs.createWriteStream(out, { mode: 0o644 }));
  const mtime = new Date(0);
  for (const e of entries) {
    if ('data' in e) {
      await new Promise<void>((res, rej) => pack.entry({ name: e.name, size: e.data.length, mode: 0o644, mtime }, e.data, (err) => (err ? rej(err) : res())));
      done += e.data.length;
    } else {
      await new Promise<void>((res, rej) => {
        const sink = pack.entry({ name: e.name, size: e.size, mode: 0o644, mtime }, (err) => (err ? rej(err) : res()));
        const src = fs.createReadStream(e.file, { highWaterMark: 1 << 20 });
        src.on('data', (c) => {
          done += c.length;
          progress?.(done, total);
        });
        src.on('error', rej);
        src.pipe(sink);
      });
    }
    progress?.(done, total);
  }
  pack.finalize();
  await written;
}

function ociEntries(store: Store, images: Saved[]): Entry[] {
  const blobs = new Map<string, Entry>();
  const add = (digest: string, e: Omit<Entry, 'name'>) => blobs.set(digest, { name: `blobs/sha256/${digestHex(digest)}`, ...e } as Entry);
  for (const img of images) {
    add(img.digest, { data: img.manifestBytes });
    add(img.manifest.config.digest, { data: img.configBytes });
    for (const l of img.manifest.layers) add(l.digest, { file: store.blobPath(l.digest), size: fs.statSync(store.blobPath(l.digest)).size });
  }
  const index = {
    schemaVersion: 2, mediaType: MT.ociIndex,
    manifests: images.map((i) => ({
      mediaType: i.mediaType, digest: i.digest, size: i.manifestBytes.length,
      annotations: { 'org.opencontainers.image.ref.name': i.name, 'io.containerd.image.name': i.name },
    })),
  };
  return [
    { name: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { name: 'index.json', data: Buffer.from(JSON.stringify(index)) },
    ...blobs.values(),
  ];
}

/** Layers uncompressed into scratch (docker load wants each layer's tar as its diffID says). */
async function dockerEntries(store: Store, images: Saved[], scratch: string): Promise<Entry[]> {
  const entries = new Map<string, Entry>();
  const manifest = [];
  for (const img of images) {
    const diffIDs = img.config.rootfs.diff_ids;
    const layers: string[] = [];
    for (let i = 0; i < img.manifest.layers.length; i++) {
      const l = img.manifest.layers[i];
      const name = `${digestHex(diffIDs[i])}/layer.tar`;
      layers.push(name);
      if (entries.has(name)) continue;
      const file = path.join(scratch, digestHex(diffIDs[i]));
      const h = new Hasher();
      await pipeline(fs.createReadStream(store.blobPath(l.digest), { highWaterMark: 1 << 20 }), decompressor(layerCompression(l.mediaType, `image ${img.name}`)), h, fs.createWriteStream(file));
      if (h.digest() !== diffIDs[i]) throw new ImageError(`image ${img.name}: layer ${l.digest} does not decompress to its diffID ${diffIDs[i]}`);
      entries.set(name, { name, file, size: h.bytes });
    }
    const config = `${digestHex(img.manifest.config.digest)}.json`;
    entries.set(config, { name: config, data: img.configBytes });
    manifest.push({ Config: config, RepoTags: [img.name], Layers: layers });
  }
  return [...entries.values(), { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) }];
}

export async function saveImages(store: Store, refs: string[], out: string, format: ArchiveFormat, progress?: SaveProgress): Promise<string[]> {
  const images = refs.map((r) => load(store, r));
  const target = path.resolve(out);
  const tmp = `${target}.skiff-${process.pid}.tmp`;
  const staging = store.stage('save');
  try {
    const entries = format === 'oci-archive' ? ociEntries(store, images) : await dockerEntries(store, images, staging.dir);
    await writeTar(tmp, entries, progress);
    fs.renameSync(tmp, target);
    return images.map((i) => i.name);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  } finally {
    staging.drop();
  }
}
