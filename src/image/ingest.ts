// The path every image takes into the store, whatever it came from (layout, archive, registry):
// resolve index → manifest → config, fetch and verify blobs into staging, unpack the layers that
// are not there yet (verifying diffIDs), then publish blobs, layers and last the reference.
// Nothing is published before everything is verified, so a bad input leaves the store as it was.
import * as fs from 'fs';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { Hasher, ImageError, digestHex, sha256, shortDigest } from './digest';
import {
  Descriptor, ImageConfig, Index, INDEX_TYPES, Manifest, Platform, checkConfig, checkManifest, layerCompression, parseJSON, MT,
} from './media';
import { configMatches, formatPlatform, hostPlatform, selectManifest } from './platform';
import { RefRecord, Staging, Store } from './store';
import type { UnpackStats } from './layers';
import { PlacedLayer, placeLayers, readLayerBlob } from './unpack';

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
  source?: RefRecord['source'];
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
  unpacked: PlacedLayer[];
}

/**
 * Checks every layer blob against its diffID, unpacking the layers the store lacks on the way and
 * only hashing the rest: a blob is trusted for a layer only once its content has been seen to be
 * that layer, even when a layer with that diffID is already stored (or unpacked from another blob).
 */
async function prepareLayers(store: Store, staging: Staging, blobs: BlobFetcher, r: Resolved, opts: IngestOptions): Promise<PreparedLayers> {
  const what = opts.name;
  const { layers } = r.manifest;
  const diffIDs = r.config.rootfs.diff_ids;
  const out: PreparedLayers = { verified: new Map(), unpacked: [] };
  layers.forEach((l, i) => {
    const known = store.blobDiffID(l.digest);
    // Known from an earlier check: the same words as the check itself.
    if (known && known !== diffIDs[i]) throw new ImageError(`${what}: layer ${diffIDs[i]}: uncompressed content does not match the diffID (blob ${l.digest} holds ${known})`);
  });
  const hashing = new Map<string, Promise<void>>();
  const slots = new Semaphore(opts.concurrency ?? 3);
  let failed: unknown;
  // Blobs that no unpack checks here are hashed meanwhile, a few at a time.
  const check = (i: number) => {
    const layer = layers[i];
    const key = `${layer.digest} ${diffIDs[i]}`;
    if (hashing.has(key)) return;
    if (store.blobDiffID(layer.digest) === diffIDs[i]) {
      opts.progress?.({ kind: 'blob-done', digest: layer.digest, size: layer.size, cached: true });
      return;
    }
    const job = (async () => {
      const file = await blobs.fetch(layer);
      await slots.acquire();
      try {
        await readLayerBlob(file, layer, diffIDs[i], `${what}: layer ${diffIDs[i]}`);
      } finally {
        slots.release();
      }
      out.verified.set(layer.digest, diffIDs[i]);
    })();
    job.catch((e) => (failed ??= e));
    hashing.set(key, job);
  };
  try {
    if (opts.unpack === false) layers.forEach((_, i) => check(i));
    else {
      await placeLayers(store, staging, layers, diffIDs, what, (i) => blobs.fetch(layers[i]), (i, placed, ms) => {
        if (failed) throw failed;
        if (!placed.unpacked) return check(i);
        out.unpacked.push(placed);
        if (!store.blobDiffID(layers[i].digest)) out.verified.set(layers[i].digest, diffIDs[i]);
        opts.progress?.({ kind: 'layer-done', diffID: diffIDs[i], stats: placed.unpacked, ms });
      });
    }
  } finally {
    // Checks still reading staged blobs end before their staging dir goes.
    await Promise.allSettled(hashing.values());
  }
  if (failed) throw failed;
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
    for (const l of layers.unpacked) staging.commitLayer(l.dir, l.key);
    staging.commitBlobData(r.configBytes, r.manifest.config.digest);
    staging.commitBlobData(r.manifestBytes, r.manifestDesc.digest);
    if (r.index) staging.commitBlobData(r.index.bytes, r.index.desc.digest);
    const rec: RefRecord = {
      name: opts.name,
      digest: r.manifestDesc.digest,
      ...(r.index ? { index: r.index.desc.digest } : {}),
      created: new Date().toISOString(),
      ...(opts.source ? { source: opts.source } : {}),
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
