// From layer blobs to layer dirs: each blob decompressed and checked against its diffID, each
// layer unpacked over the layers below it and kept under the key that says what it holds: its
// diffID, or its chainID when what it holds depends on the layers below (see placement.ts).
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { Hasher, ImageError, digestHex } from './digest';
import { Descriptor, layerCompression } from './media';
import { decompressor } from './decompress';
import { unpackLayer, UnpackStats } from './layers';
import { LayerStack } from './resolve';
import { Staging, Store, chainIDs } from './store';

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

/** Unpacks a layer blob over the given lower layers into a staged layer dir, checking the diffID. */
async function unpackBlob(
  blobFile: string, layer: Descriptor, ids: { diffID: string; chainID: string }, dest: string, what: string, lower: LayerStack,
): Promise<UnpackStats> {
  const lwhat = `${what}: layer ${ids.diffID}`;
  fs.mkdirSync(path.join(dest, 'fs'), { recursive: true, mode: 0o755 });
  const { bytes, result } = await readLayerBlob(blobFile, layer, ids.diffID, lwhat, (s) => unpackLayer(s, path.join(dest, 'fs'), 'overlay', lwhat, lower));
  const stats = result!;
  const meta = { diffID: ids.diffID, ...(stats.chained ? { chainID: ids.chainID } : {}), size: bytes, ...stats, created: new Date().toISOString() };
  fs.writeFileSync(path.join(dest, 'meta.json'), JSON.stringify(meta) + '\n');
  return stats;
}

export interface PlacedLayer {
  /** The layer's name in the store (its diffID or chainID). */
  key: string;
  dir: string;
  /** Set when the layer was unpacked here, into staging. */
  unpacked?: UnpackStats;
}

/**
 * Finds or unpacks the dir of each layer of an image, bottom up, since each is unpacked over those
 * below it. The ones unpacked are left in staging for the caller to publish. onPlaced runs as each
 * layer is placed (with the time its unpacking took).
 */
export async function placeLayers(
  store: Store, staging: Staging, layers: Descriptor[], diffIDs: string[], what: string,
  blobFile: (i: number) => Promise<string>, onPlaced?: (i: number, p: PlacedLayer, ms: number) => void,
): Promise<PlacedLayer[]> {
  const chain = chainIDs(diffIDs);
  const staged = new Map<string, string>();
  const lower = new LayerStack();
  const placed: PlacedLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    let p: PlacedLayer | undefined = store.findLayer(diffIDs[i], chain[i], lower, staged);
    const t0 = Date.now();
    if (!p) {
      const dir = staging.file(`layer-${i}-${digestHex(diffIDs[i])}`);
      const stats = await unpackBlob(await blobFile(i), layers[i], { diffID: diffIDs[i], chainID: chain[i] }, dir, what, lower);
      p = { key: stats.chained ? chain[i] : diffIDs[i], dir, unpacked: stats };
      staged.set(p.key, dir);
    }
    placed.push(p);
    lower.push(p.dir);
    onPlaced?.(i, p, Date.now() - t0);
  }
  return placed;
}

/** The store's dirs for an image's layers, unpacking those missing (after a pull with unpack off). */
export async function ensureLayers(store: Store, layers: Descriptor[], diffIDs: string[], what: string): Promise<string[]> {
  const staging = store.stage('unpack');
  try {
    const placed = await placeLayers(store, staging, layers, diffIDs, what, async (i) => {
      if (!store.hasBlob(layers[i].digest)) throw new ImageError(`${what}: layer ${diffIDs[i]} is missing from the store, and so is its blob ${layers[i].digest} (import or pull the image again)`);
      return store.blobPath(layers[i].digest);
    });
    for (const p of placed) if (p.unpacked) staging.commitLayer(p.dir, p.key);
    return placed.map((p) => p.key);
  } finally {
    staging.drop();
  }
}
