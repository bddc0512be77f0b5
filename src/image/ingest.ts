// The path every image takes into the store, whatever it came from (layout, archive, registry):
// resolve index → manifest → config, fetch and verify blobs into staging, unpack the layers that
// are not there yet (verifying diffIDs), then publish blobs, layers and last the reference.
// Nothing is published before everything is verified, so a bad input leaves the store as it was.
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { Hasher, ImageError, digestHex, sha256, shortDigest } from './digest';
import {
  Descriptor, ImageConfig, Index, INDEX_TYPES, Manifest, Platform, checkConfig, checkManifest, layerCompression, parseJSON, MT,
} from './media';
import { configMatches, formatPlatform, hostPlatform, selectManifest } from './platform';
import { RefRecord, Store } from './store';
import { decompressor } from './decompress';
import { unpackLayer, UnpackStats } from './layers';

export interface BlobSource {
  /** Reads a small JSON blob whole. Need not verify: the caller does. */
  readSmall(desc: Descriptor, what: string): Promise<Buffer>;
  /** Writes a blob into the staging dir (at the given file) and returns when complete. May verify. */
  stageBlob(desc: Descriptor, file: string, what: string): Promise<void>;
}

export interface IngestOptions {
  name: string;
  platform?: Platform;
  /** Blobs fetched at once. */
  concurrency?: number;
  /** false: fetch and verify blobs only; the first bundle that needs a layer unpacks it. */
  unpack?: boolean;
  progress?: (ev: ProgressEvent) => void;
}

export type ProgressEvent =
  | { kind: 'blob-start'; digest: string; size: number }
  | { kind: 'blob-done'; digest: string; size: number; cached: boolean }
  | { kind: 'layer-done'; diffID: string; stats: UnpackStats; ms: number };

export function verifyBytes(buf: Buffer, desc: Descriptor, what: string): void {
  const got = sha256(buf);
  if (got !== desc.digest) throw new ImageError(`${what}: blob ${desc.digest} does not match its digest (content is ${got})`);
  if (typeof desc.size === 'number' && desc.size !== buf.length) {
    throw new ImageError(`${what}: blob ${desc.digest} has ${buf.length} bytes, the descriptor says ${desc.size}`);
  }
}

/** Streams src into file, checking digest and size; on mismatch the file is removed. */
export async function stageStream(src: Readable, file: string, desc: Descriptor, what: string): Promise<void> {
  const h = new Hasher();
  try {
    await pipeline(src, h, fs.createWriteStream(file, { mode: 0o600 }));
  } catch (e) {
    fs.rmSync(file, { force: true });
    if (e instanceof ImageError) throw e;
    throw new ImageError(`${what}: reading blob ${desc.digest} failed: ${(e as Error).message}`);
  }
  checkStaged(file, h.digest(), h.bytes, desc, what);
  await fsyncFile(file);
}

/** fsync on the libuv pool, so several downloads flush at once (commit then finds them clean). */
export function fsyncFile(file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (err, fd) => {
      if (err) return reject(err);
      fs.fsync(fd, (e) => fs.close(fd, () => (e ? reject(e) : resolve())));
    });
  });
}

export function checkStaged(file: string, got: string, bytes: number, desc: Descriptor, what: string): void {
  if (got !== desc.digest) {
    fs.rmSync(file, { force: true });
    throw new ImageError(`${what}: blob ${desc.digest} does not match its digest (content is ${got}${bytes < desc.size ? `, ${bytes} of ${desc.size} bytes: truncated` : ''})`);
  }
  if (typeof desc.size === 'number' && bytes !== desc.size) {
    fs.rmSync(file, { force: true });
    throw new ImageError(`${what}: blob ${desc.digest} has ${bytes} bytes, the descriptor says ${desc.size}`);
  }
}

/** Unpacks a verified layer blob into a staged layer dir, checking the diffID. */
export async function unpackBlob(
  blobFile: string, mediaType: string, diffID: string, dest: string, what: string,
): Promise<UnpackStats> {
  const lwhat = `${what}: layer ${diffID}`;
  const compression = layerCompression(mediaType, lwhat);
  fs.mkdirSync(path.join(dest, 'fs'), { recursive: true, mode: 0o755 });
  const diff = new Hasher();
  const src = fs.createReadStream(blobFile, { highWaterMark: 1 << 20 });
  const feed = pipeline(src, decompressor(compression), diff).catch((e) => {
    throw new ImageError(`${lwhat}: ${compression === 'none' ? 'reading' : 'decompressing (' + compression + ')'} failed: ${(e as Error).message}`);
  });
  const [, stats] = await Promise.all([feed, unpackLayer(diff, path.join(dest, 'fs'), 'overlay', lwhat)]);
  const got = diff.digest();
  if (got !== diffID) throw new ImageError(`${lwhat}: uncompressed content does not match the diffID (content is ${got})`);
  const meta = { diffID, size: diff.bytes, ...stats, created: new Date().toISOString() };
  fs.writeFileSync(path.join(dest, 'meta.json'), JSON.stringify(meta) + '\n');
  return stats;
}

export interface Resolved {
  manifestDesc: Descriptor;
  manifestBytes: Buffer;
  manifest: Manifest;
  configBytes: Buffer;
  config: ImageConfig;
  index?: { desc: Descriptor; bytes: Buffer };
}

/** Follows an index (nested ones too) to the manifest for the platform and reads its config. */
/** onManifest runs once the manifest is checked, before the config is fetched (to start fetching layers early). */
export async function resolveImage(src: BlobSource, desc: Descriptor, what: string, want?: Platform, onManifest?: (m: Manifest) => void): Promise<Resolved> {
  let index: Resolved['index'];
  let cur = desc;
  for (let depth = 0; ; depth++) {
    if (depth > 4) throw new ImageError(`${what}: indexes nested too deep`);
    const bytes = await src.readSmall(cur, what);
    verifyBytes(bytes, cur, what);
    const doc = parseJSON<Index & Manifest & { mediaType?: string }>(bytes, `${what}: ${cur.digest}`);
    const mt = doc.mediaType ?? cur.mediaType;
    const isIndex = INDEX_TYPES.includes(mt as never) || (!doc.config && Array.isArray(doc.manifests));
    if (isIndex) {
      if (!index) index = { desc: cur, bytes };
      cur = selectManifest(doc, want ?? hostPlatform(), what);
      continue;
    }
    if (mt && mt !== MT.ociManifest && mt !== MT.dockerManifest) {
      throw new ImageError(`${what}: ${cur.digest} has an unknown manifest media type ${JSON.stringify(mt)}`);
    }
    const manifest = checkManifest(doc, `${what}: manifest ${cur.digest}`);
    for (const l of manifest.layers) {
      digestHex(l.digest);
      layerCompression(l.mediaType, `${what}: layer ${l.digest}`);
    }
    onManifest?.(manifest);
    const configBytes = await src.readSmall(manifest.config, what);
    verifyBytes(configBytes, manifest.config, `${what}: config`);
    const config = checkConfig(parseJSON<ImageConfig>(configBytes, `${what}: config ${manifest.config.digest}`), `${what}: config ${manifest.config.digest}`);
    const target = want ?? hostPlatform();
    if (!configMatches(config, want ?? { os: target.os, architecture: target.architecture })) {
      throw new ImageError(`${what}: the image is for ${formatPlatform(config)}, not ${formatPlatform(target)}${want ? '' : ' (this host); use --platform to choose another'}`);
    }
    if (manifest.layers.length !== config.rootfs.diff_ids.length) {
      throw new ImageError(`${what}: manifest has ${manifest.layers.length} layers but the config lists ${config.rootfs.diff_ids.length} diffIDs`);
    }
    for (const d of config.rootfs.diff_ids) digestHex(d);
    return { manifestDesc: cur, manifestBytes: bytes, manifest, configBytes, config, index };
  }
}

/** Runs fn over items with at most n at once, failing fast. */
export async function parallel<T>(items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/** A one-at-a-time queue: unpacking is CPU-bound on the main thread, fetching is not. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn, fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}

export async function ingestImage(store: Store, src: BlobSource, top: Descriptor, opts: IngestOptions): Promise<RefRecord> {
  const what = opts.name;
  const staging = store.stage('ingest');
  // Memoized so an image listing the same blob or diffID twice fetches and unpacks it once.
  const blobJobs = new Map<string, Promise<string>>();
  try {
    const stagedBlobs: { file: string; digest: string }[] = [];
    const stagedLayers: { dir: string; diffID: string }[] = [];
    const layerJobs = new Map<string, Promise<void>>();
    const slots = new Semaphore(opts.concurrency ?? 3);
    const fetchBlob = (layer: Descriptor): Promise<string> => {
      let job = blobJobs.get(layer.digest);
      if (!job) {
        job = (async () => {
          if (store.hasBlob(layer.digest)) return store.blobPath(layer.digest);
          const file = staging.file(`blob-${digestHex(layer.digest)}`);
          await slots.acquire();
          try {
            opts.progress?.({ kind: 'blob-start', digest: layer.digest, size: layer.size });
            await src.stageBlob(layer, file, what);
          } finally {
            slots.release();
          }
          stagedBlobs.push({ file, digest: layer.digest });
          opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: false });
          return file;
        })();
        job.catch(() => undefined); // awaited (and reported) below
        blobJobs.set(layer.digest, job);
      }
      return job;
    };
    // Layers start downloading as soon as the manifest is known, while the config is fetched.
    const r = await resolveImage(src, top, what, opts.platform, (m) => {
      for (const l of m.layers) if (!store.hasBlob(l.digest)) fetchBlob(l);
    });
    const { manifest, config } = r;
    const unpackQueue = new Serial();
    await parallel(manifest.layers, opts.concurrency ?? 3, async (layer, i) => {
      const diffID = config.rootfs.diff_ids[i];
      const lazy = opts.unpack === false;
      if (store.hasBlob(layer.digest) && (lazy || store.hasLayer(diffID))) {
        opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: true });
        return;
      }
      const file = await fetchBlob(layer);
      if (lazy || store.hasLayer(diffID)) return;
      let job = layerJobs.get(diffID);
      if (!job) {
        const dir = staging.file(`layer-${digestHex(diffID)}`);
        stagedLayers.push({ dir, diffID });
        job = unpackQueue.run(async () => {
          const t0 = Date.now();
          const stats = await unpackBlob(file, layer.mediaType, diffID, dir, what);
          opts.progress?.({ kind: 'layer-done', diffID, stats, ms: Date.now() - t0 });
        });
        layerJobs.set(diffID, job);
      }
      await job;
    });
    // Everything is verified: publish. Blobs and layers first, the name last.
    for (const b of stagedBlobs) staging.commitBlob(b.file, b.digest);
    for (const l of stagedLayers) staging.commitLayer(l.dir, l.diffID);
    staging.commitBlobData(r.configBytes, manifest.config.digest);
    staging.commitBlobData(r.manifestBytes, r.manifestDesc.digest);
    if (r.index) staging.commitBlobData(r.index.bytes, r.index.desc.digest);
    const rec: RefRecord = {
      name: opts.name,
      digest: r.manifestDesc.digest,
      ...(r.index ? { index: r.index.desc.digest } : {}),
      created: new Date().toISOString(),
    };
    store.setRef(rec);
    return rec;
  } finally {
    // Downloads started early may still run after a failure: let them end before removing their dir.
    await Promise.allSettled(blobJobs.values());
    staging.drop();
  }
}

export function describe(r: RefRecord): string {
  return `${r.name} ${shortDigest(r.digest)}`;
}

/** Unpacks the layers of an image that are not in the store yet (after a pull with unpack off). */
export async function ensureLayers(store: Store, layers: Descriptor[], diffIDs: string[], what: string): Promise<void> {
  for (let i = 0; i < layers.length; i++) {
    if (store.hasLayer(diffIDs[i])) continue;
    if (!store.hasBlob(layers[i].digest)) throw new ImageError(`${what}: layer ${diffIDs[i]} is missing from the store, and so is its blob ${layers[i].digest} (import or pull the image again)`);
    const staging = store.stage('unpack');
    try {
      const dir = staging.file('layer');
      await unpackBlob(store.blobPath(layers[i].digest), layers[i].mediaType, diffIDs[i], dir, what);
      staging.commitLayer(dir, diffIDs[i]);
    } finally {
      staging.drop();
    }
  }
}
