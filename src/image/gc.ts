// What the store holds and what it can drop: reachability from references and live bundles,
// prune, and per-image disk usage.
import * as fs from 'fs';
import * as path from 'path';
import { ImageError } from './digest';
import { ImageConfig, Index, Manifest } from './media';
import { RefRecord, Store, chainIDs, pidAlive } from './store';
import { diskUsage, removeTree } from './tree';
import { acquireGcLock } from './lease';
import { liveBundles } from './bundle';

export interface ImageUsage {
  name: string;
  digest: string;
  created: string;
  platform: string;
  /** blobs (compressed layers, config, manifest) */
  size: number;
  /** unpacked layers on disk */
  unpacked: number;
  layers: { digest: string; diffID: string; mediaType: string; size: number; unpacked: number; sharedWith: number }[];
}

function readJSON<T>(store: Store, digest: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(store.blobPath(digest), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function layerUsage(store: Store, diffID: string): number {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(store.layerDir(diffID), 'meta.json'), 'utf8'));
    if (typeof m.du === 'number') return m.du;
  } catch {
    return 0;
  }
  return diskUsage(store.layerFs(diffID));
}

function blobSize(store: Store, digest: string): number {
  try {
    return fs.statSync(store.blobPath(digest)).size;
  } catch {
    return 0;
  }
}

export function imageUsage(store: Store, rec: RefRecord, refs: RefRecord[] = store.listRefs()): ImageUsage {
  const m = readJSON<Manifest>(store, rec.digest);
  const c = m ? readJSON<ImageConfig>(store, m.config.digest) : undefined;
  const diffOf = (i: number) => c?.rootfs?.diff_ids?.[i] ?? '';
  const keys = store.layerKeys(c?.rootfs?.diff_ids ?? []);
  const users = new Map<string, number>();
  for (const r of refs) {
    const rm = readJSON<Manifest>(store, r.digest);
    const rc = rm ? readJSON<ImageConfig>(store, rm.config.digest) : undefined;
    for (const d of new Set(rc?.rootfs?.diff_ids ?? [])) users.set(d, (users.get(d) ?? 0) + 1);
  }
  const layers = (m?.layers ?? []).map((l, i) => ({
    digest: l.digest, diffID: diffOf(i), mediaType: l.mediaType, size: l.size,
    unpacked: keys[i] ? layerUsage(store, keys[i]!) : 0,
    sharedWith: Math.max(0, (users.get(diffOf(i)) ?? 1) - 1),
  }));
  return {
    name: rec.name, digest: rec.digest, created: rec.created,
    platform: c ? [c.os, c.architecture, c.variant].filter(Boolean).join('/') : '?',
    size: blobSize(store, rec.digest) + (m ? blobSize(store, m.config.digest) : 0) + layers.reduce((s, l) => s + blobSize(store, l.digest), 0),
    unpacked: layers.reduce((s, l) => s + l.unpacked, 0),
    layers,
  };
}

/** Every blob and layer that a reference or a live overlay bundle needs. */
export function reachable(store: Store): { blobs: Set<string>; layers: Set<string> } {
  const blobs = new Set<string>();
  const layers = new Set<string>();
  const addManifest = (digest: string) => {
    blobs.add(digest);
    const m = readJSON<Manifest & Index>(store, digest);
    if (!m) return;
    if (Array.isArray(m.manifests)) return; // an index: only the chosen manifest is kept
    if (m.config?.digest) {
      blobs.add(m.config.digest);
      const c = readJSON<ImageConfig>(store, m.config.digest);
      const diffIDs = c?.rootfs?.diff_ids ?? [];
      const chain = chainIDs(diffIDs);
      // Above a layer not unpacked yet, which key a layer will use is not known: keep both.
      store.layerKeys(diffIDs).forEach((k, i) => {
        for (const key of k ? [k] : [diffIDs[i], chain[i]]) layers.add(key);
      });
    }
    for (const l of m.layers ?? []) blobs.add(l.digest);
  };
  for (const r of store.listRefs()) {
    addManifest(r.digest);
    if (r.index) blobs.add(r.index);
  }
  for (const b of liveBundles(store)) {
    for (const d of b.layers) layers.add(d);
  }
  return { blobs, layers };
}

export interface PruneResult {
  blobs: number;
  layers: number;
  tmp: number;
  freed: number;
}

export async function prune(store: Store): Promise<PruneResult> {
  if (!fs.existsSync(store.root)) throw new ImageError(`image store ${store.root} does not exist`);
  const release = await acquireGcLock(store);
  try {
    const keep = reachable(store);
    const res: PruneResult = { blobs: 0, layers: 0, tmp: 0, freed: 0 };
    for (const hex of fs.readdirSync(store.dir('blobs', 'sha256'))) {
      if (keep.blobs.has('sha256:' + hex)) continue;
      res.freed += removeTree(store.dir('blobs', 'sha256', hex));
      res.blobs++;
    }
    // A record outlives neither its blob nor the blob's last user.
    for (const hex of fs.readdirSync(store.dir('blobs', 'diffid'))) {
      if (keep.blobs.has('sha256:' + hex) && fs.existsSync(store.dir('blobs', 'sha256', hex))) continue;
      fs.rmSync(store.dir('blobs', 'diffid', hex), { force: true });
    }
    for (const hex of fs.readdirSync(store.dir('layers', 'sha256'))) {
      if (keep.layers.has('sha256:' + hex)) continue;
      // Out of sight in one rename first, so no reader ever sees a half-deleted layer.
      const p = store.dir('layers', 'sha256', hex);
      const gone = store.dir('tmp', `gc-${process.pid}-${hex}`);
      fs.renameSync(p, gone);
      res.freed += removeTree(gone);
      res.layers++;
    }
    // Signatures go with the last name that reaches the manifest they sign.
    for (const f of fs.existsSync(store.dir('signatures')) ? fs.readdirSync(store.dir('signatures')) : []) {
      if (!keep.blobs.has('sha256:' + f.replace(/\.json$/, ''))) fs.rmSync(store.dir('signatures', f), { force: true });
    }
    // Staging dirs left by crashed commands (their pid is gone).
    for (const n of fs.readdirSync(store.dir('tmp'))) {
      const pid = Number(n.split('-')[1]);
      if (pidAlive(pid) && pid !== process.pid) continue;
      res.freed += removeTree(store.dir('tmp', n));
      res.tmp++;
    }
    return res;
  } finally {
    release();
  }
}

export function removeImages(store: Store, names: string[], find: (s: string) => RefRecord): string[] {
  const removed: string[] = [];
  for (const n of names) {
    const rec = find(n);
    if (!store.removeRef(rec.name)) throw new ImageError(`image ${n}: no such image`);
    removed.push(rec.name);
  }
  return removed;
}
