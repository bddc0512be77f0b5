// `skiff image bundle`: an image → a plain OCI bundle (config.json + rootfs) that any runtime runs.
// The rootfs is an overlayfs mount of the store's shared layer dirs with a per-bundle upper dir,
// or (--copy, or when overlayfs cannot be mounted) a flattened copy made from the layer blobs.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ImageError, digestHex, sha256 } from './digest';
import { ImageConfig, Manifest, parseJSON } from './media';
import { findImage } from './refs';
import { Store, atomicWrite } from './store';
import { removeTree } from './tree';
import { withLease } from './lease';
import { imageToSpec } from './config';
import { unpackLayer } from './layers';
import { ensureLayers, readLayerBlob } from './unpack';

export type BundleMode = 'auto' | 'overlay' | 'copy';

export interface BundleInfo {
  image: string;
  manifest: string;
  mode: 'overlay' | 'copy';
  /** The store's layer dirs an overlay bundle stacks (its diffIDs for a copy). */
  layers: string[];
  store: string;
  created: string;
}

const META_DIR = '.skiff-image';

export function loadImage(store: Store, ref: string): { name: string; manifestDigest: string; manifest: Manifest; config: ImageConfig } {
  const rec = findImage(store, ref);
  const manifest = parseJSON<Manifest>(store.readBlob(rec.digest, `image ${rec.name}: manifest`), `image ${rec.name}: manifest`);
  const config = parseJSON<ImageConfig>(store.readBlob(manifest.config.digest, `image ${rec.name}: config`), `image ${rec.name}: config`);
  return { name: rec.name, manifestDigest: rec.digest, manifest, config };
}

function isMountpoint(p: string): boolean {
  const real = fs.realpathSync(p);
  const info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  return info.split('\n').some((l) => unescapeMount(l.split(' ')[4] ?? '') === real);
}
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8)));
}

/** keys: the store's dirs of the layers, lowest first. */
function mountOverlay(store: Store, keys: string[], rootfs: string, metaDir: string): string | undefined {
  const upper = path.join(metaDir, 'upper');
  const work = path.join(metaDir, 'work');
  fs.mkdirSync(upper, { mode: 0o755 });
  fs.mkdirSync(work, { mode: 0o700 });
  let lowers = keys.slice().reverse().map((d) => path.join('layers', 'sha256', digestHex(d), 'fs'));
  if (lowers.length === 0) {
    fs.mkdirSync(path.join(metaDir, 'empty'));
    lowers = [path.join(metaDir, 'empty')];
  }
  // Lower dirs relative to the store root (mount runs there): the option string must fit a page.
  const opts = `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work}`;
  if (opts.length > 4000) return `too many layers for one overlay mount (${keys.length})`;
  const r = spawnSync('mount', ['-t', 'overlay', 'overlay', '-o', opts, rootfs], { cwd: store.root, encoding: 'utf8' });
  if (r.error) return r.error.message;
  if (r.status !== 0) {
    removeTree(upper);
    removeTree(work);
    return (r.stderr || `mount exited with ${r.status}`).trim();
  }
  return undefined;
}

async function copyLayers(store: Store, name: string, manifest: Manifest, diffIDs: string[], rootfs: string): Promise<void> {
  for (let i = 0; i < manifest.layers.length; i++) {
    const l = manifest.layers[i];
    const what = `image ${name}: layer ${diffIDs[i]}`;
    await readLayerBlob(store.blobPath(l.digest), l, diffIDs[i], what, (s) => unpackLayer(s, rootfs, 'apply', what));
  }
}

export async function createBundle(store: Store, ref: string, dir: string, mode: BundleMode = 'auto', log: (s: string) => void = () => {}): Promise<BundleInfo> {
  return withLease(store, async () => {
    const img = loadImage(store, ref);
    const what = `image ${img.name}`;
    const diffIDs = img.config.rootfs.diff_ids;
    let keys = diffIDs;
    if (mode === 'copy') {
      for (const l of img.manifest.layers) {
        if (!store.hasBlob(l.digest)) throw new ImageError(`${what}: layer blob ${l.digest} is missing from the store (import or pull the image again)`);
      }
    } else {
      keys = await ensureLayers(store, img.manifest.layers, diffIDs, what);
    }
    const bundle = path.resolve(dir);
    if (fs.existsSync(bundle) && fs.readdirSync(bundle).length > 0) throw new ImageError(`bundle ${bundle}: the directory exists and is not empty`);
    const created = !fs.existsSync(bundle);
    fs.mkdirSync(bundle, { recursive: true, mode: 0o711 });
    const rootfs = path.join(bundle, 'rootfs');
    const metaDir = path.join(bundle, META_DIR);
    let mounted = false;
    try {
      fs.mkdirSync(rootfs, { mode: 0o755 });
      fs.mkdirSync(metaDir, { mode: 0o700 });
      let used: 'overlay' | 'copy' = 'copy';
      if (mode !== 'copy') {
        const err = mountOverlay(store, keys, rootfs, metaDir);
        if (!err) {
          mounted = true;
          used = 'overlay';
        } else if (mode === 'overlay') {
          throw new ImageError(`bundle ${bundle}: cannot mount overlayfs: ${err}`);
        } else {
          log(`overlayfs is not available (${err}); making a flattened copy`);
          for (let i = 0; i < diffIDs.length; i++) {
            if (!store.hasBlob(img.manifest.layers[i].digest)) throw new ImageError(`${what}: layer blob ${img.manifest.layers[i].digest} is missing from the store`);
          }
        }
      }
      if (used === 'copy') await copyLayers(store, img.name, img.manifest, diffIDs, rootfs);
      const spec = imageToSpec(img.config, rootfs, bundle, what);
      atomicWrite(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2) + '\n');
      const info: BundleInfo = { image: img.name, manifest: img.manifestDigest, mode: used, layers: used === 'overlay' ? keys : diffIDs, store: store.root, created: new Date().toISOString() };
      atomicWrite(path.join(metaDir, 'info.json'), JSON.stringify(info, null, 2) + '\n');
      // Registered so that prune keeps the layers an overlay bundle still uses.
      if (used === 'overlay') atomicWrite(store.dir('bundles', digestHex(sha256(bundle)) + '.json'), JSON.stringify({ path: bundle, ...info }) + '\n', store.dir('tmp'));
      return info;
    } catch (e) {
      if (mounted) spawnSync('umount', [rootfs]);
      if (created) removeTree(bundle);
      else for (const n of fs.readdirSync(bundle)) removeTree(path.join(bundle, n));
      throw e;
    }
  });
}

/** Unmounts (if needed) and removes a bundle made by createBundle. */
export function removeBundle(store: Store, dir: string): void {
  const bundle = path.resolve(dir);
  const infoFile = path.join(bundle, META_DIR, 'info.json');
  if (!fs.existsSync(infoFile)) throw new ImageError(`bundle ${bundle}: not a bundle made by skiff image bundle (no ${META_DIR}/info.json)`);
  const rootfs = path.join(bundle, 'rootfs');
  if (fs.existsSync(rootfs) && isMountpoint(rootfs)) {
    const r = spawnSync('umount', [rootfs], { encoding: 'utf8' });
    if (r.status !== 0) throw new ImageError(`bundle ${bundle}: cannot unmount ${rootfs}: ${(r.stderr || '').trim()}`);
  }
  removeTree(bundle);
  fs.rmSync(store.dir('bundles', digestHex(sha256(bundle)) + '.json'), { force: true });
}

/** Bundles registered in the store that still exist (their layers are in use). */
export function liveBundles(store: Store): (BundleInfo & { path: string })[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(store.dir('bundles'));
  } catch {
    return [];
  }
  const out: (BundleInfo & { path: string })[] = [];
  for (const n of names) {
    const f = store.dir('bundles', n);
    try {
      const b = JSON.parse(fs.readFileSync(f, 'utf8'));
      const info = JSON.parse(fs.readFileSync(path.join(b.path, META_DIR, 'info.json'), 'utf8'));
      if (info.manifest === b.manifest) {
        out.push(b);
        continue;
      }
    } catch {
      /* gone */
    }
    fs.rmSync(f, { force: true });
  }
  return out;
}
