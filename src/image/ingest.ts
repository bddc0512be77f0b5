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
import { RefRecord, Staging, Store } from './store';
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

/**
 * Streams a layer blob through its decompressor (into unpack, when given) and checks that what
 * comes out is the diffID: the one check that ties a blob to the layer the config names.
 */
export async function readLayerBlob<T>(
  blobFile: string, layer: Descriptor, diffID: string, lwhat: string, unpack?: (s: Readable) => Promise<T>,
): Promise<{ bytes: number; result: T | undefined }> {
  const compression = layerCompression(layer.mediaType, lwhat);
  const diff = new Hasher();
  const src = fs.createReadStream(blobFile, { highWaterMark: 1 << 20 });
  const feed = pipeline(src, decompressor(compression), diff).catch((e) => {
    throw new ImageError(`${lwhat}: ${compression === 'none' ? 'reading' : 'decompressing (' + compression + ')'} failed: ${(e as Error).message}`);
  });
  if (!unpack) diff.resume();
  const [, result] = await Promise.all([feed, unpack?.(diff)]);
  const got = diff.digest();
  if (got !== diffID) throw new ImageError(`${lwhat}: uncompressed content does not match the diffID (blob ${layer.digest} holds ${got})`);
  return { bytes: diff.bytes, result };
}

/** Unpacks a verified layer blob into a staged layer dir, checking the diffID. */
export async function unpackBlob(
  blobFile: string, layer: Descriptor, diffID: string, dest: string, what: string,
): Promise<UnpackStats> {
  const lwhat = `${what}: layer ${diffID}`;
  fs.mkdirSync(path.join(dest, 'fs'), { recursive: true, mode: 0o755 });
  const { bytes, result } = await readLayerBlob(blobFile, layer, diffID, lwhat, (s) => unpackLayer(s, path.join(dest, 'fs'), 'overlay', lwhat));
  const stats = result!;
  const meta = { diffID, size: bytes, ...stats, created: new Date().toISOString() };
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

/** Fetches each blob of an image once into staging, a few at a time, and publishes them. */
class BlobFetcher {
  private jobs = new Map<string, Promise<string>>();
  private staged: { file: string; digest: string }[] = [];
  private slots: Semaphore;
  constructor(private store: Store, private staging: Staging, private src: BlobSource, private opts: IngestOptions) {
    this.slots = new Semaphore(opts.concurrency ?? 3);
  }
  /** The blob's file: the store's own copy, or one staged (and verified against its digest) here. */
  fetch(layer: Descriptor): Promise<string> {
    let job = this.jobs.get(layer.digest);
    if (!job) {
      job = (async () => {
        if (this.store.hasBlob(layer.digest)) {
          this.opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: true });
          return this.store.blobPath(layer.digest);
        }
        const file = this.staging.file(`blob-${digestHex(layer.digest)}`);
        await this.slots.acquire();
        try {
          this.opts.progress?.({ kind: 'blob-start', digest: layer.digest, size: layer.size });
          await this.src.stageBlob(layer, file, this.opts.name);
        } finally {
          this.slots.release();
        }
        this.staged.push({ file, digest: layer.digest });
        this.opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: false });
        return file;
      })();
      job.catch(() => undefined); // awaited (and reported) by the caller
      this.jobs.set(layer.digest, job);
    }
    return job;
  }
  commit(): void {
    for (const b of this.staged) this.staging.commitBlob(b.file, b.digest);
  }
  /** Downloads started early may still run after a failure: their dir must outlive them. */
  settle(): Promise<unknown> {
    return Promise.allSettled(this.jobs.values());
  }
}

interface PreparedLayers {
  /** blob → diffID, for blobs verified here (the store has no record of them yet) */
  verified: Map<string, string>;
  unpacked: { dir: string; diffID: string }[];
}

/**
 * Checks every layer blob against its diffID, unpacking the layers the store lacks on the way and
 * only hashing the rest: a blob is trusted for a layer only once its content has been seen to be
 * that layer, even when a layer with that diffID is already stored (or unpacked from another blob).
 */
async function prepareLayers(store: Store, staging: Staging, blobs: BlobFetcher, r: Resolved, opts: IngestOptions): Promise<PreparedLayers> {
  const what = opts.name;
  const out: PreparedLayers = { verified: new Map(), unpacked: [] };
  const checks = new Map<string, Promise<void>>();
  const unpacking = new Set<string>();
  const unpackQueue = new Serial();
  await parallel(r.manifest.layers, opts.concurrency ?? 3, async (layer, i) => {
    const diffID = r.config.rootfs.diff_ids[i];
    const known = store.blobDiffID(layer.digest);
    if (known && known !== diffID) {
      // Known from an earlier check: the same words as the check itself.
      throw new ImageError(`${what}: layer ${diffID}: uncompressed content does not match the diffID (blob ${layer.digest} holds ${known})`);
    }
    const needLayer = opts.unpack !== false && !store.hasLayer(diffID) && !unpacking.has(diffID);
    if (known && !needLayer) {
      opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: true });
      return;
    }
    const key = `${layer.digest} ${diffID}`;
    let job = checks.get(key);
    if (!job) {
      if (needLayer) unpacking.add(diffID);
      job = (async () => {
        const file = await blobs.fetch(layer);
        if (needLayer) {
          const dir = staging.file(`layer-${digestHex(diffID)}`);
          out.unpacked.push({ dir, diffID });
          const t0 = Date.now();
          const stats = await unpackQueue.run(() => unpackBlob(file, layer, diffID, dir, what));
          opts.progress?.({ kind: 'layer-done', diffID, stats, ms: Date.now() - t0 });
        } else {
          await readLayerBlob(file, layer, diffID, `${what}: layer ${diffID}`);
        }
        if (!known) out.verified.set(layer.digest, diffID);
      })();
      checks.set(key, job);
    }
    await job;
  });
  return out;
}

export async function ingestImage(store: Store, src: BlobSource, top: Descriptor, opts: IngestOptions): Promise<RefRecord> {
  const what = opts.name;
  const staging = store.stage('ingest');
  const blobs = new BlobFetcher(store, staging, src, opts);
  try {
    // Layers start downloading as soon as the manifest is known, while the config is fetched.
    const r = await resolveImage(src, top, what, opts.platform, (m) => {
      for (const l of m.layers) if (!store.hasBlob(l.digest)) blobs.fetch(l);
    });
    const layers = await prepareLayers(store, staging, blobs, r, opts);
    // Everything is verified: publish. Blobs and what they hold, then layers, the name last.
    blobs.commit();
    for (const [digest, diffID] of layers.verified) staging.commitDiffID(digest, diffID);
    for (const l of layers.unpacked) staging.commitLayer(l.dir, l.diffID);
    staging.commitBlobData(r.configBytes, r.manifest.config.digest);
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
    await blobs.settle();
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
      await unpackBlob(store.blobPath(layers[i].digest), layers[i], diffIDs[i], dir, what);
      staging.commitLayer(dir, diffIDs[i]);
    } finally {
      staging.drop();
    }
  }
}
