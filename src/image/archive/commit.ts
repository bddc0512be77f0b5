// `skiff image commit BUNDLE NAME`: what a container changed in an overlay bundle (its upper
// dir) becomes one gzip layer on top of the bundle's image, and a new image under NAME. The
// new image is assembled as an OCI layout in staging (the base layers are the store's own blobs,
// linked) and imported, so it is verified and published as any import is.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { Readable } from 'stream';
import { pipeline } from 'stream/promises';
import { digestHex, Hasher, ImageError, sha256 } from '../digest';
import { importImage } from '../import';
import { ImageConfig, Manifest, MT, parseJSON } from '../media';
import { normalizeName } from '../refs';
import type { RefRecord, Store } from '../store';
import { layerTar, upperEntries } from './upper';

const OCI_LAYER: Record<string, string> = {
  [MT.dockerLayer]: MT.ociLayer, [MT.dockerLayerGzip]: MT.ociLayerGzip,
};

interface BundleInfo {
  image: string;
  manifest: string;
  mode: string;
  store: string;
}

function bundleInfo(bundle: string): BundleInfo {
  try {
    return JSON.parse(fs.readFileSync(path.join(bundle, '.skiff-image', 'info.json'), 'utf8'));
  } catch {
    throw new ImageError(`bundle ${bundle}: not a bundle made by skiff image bundle (no .skiff-image/info.json)`);
  }
}

export async function commitBundle(store: Store, dir: string, name: string, progress?: (done: number, total: number) => void): Promise<RefRecord> {
  const bundle = path.resolve(dir);
  const info = bundleInfo(bundle);
  if (info.mode !== 'overlay') throw new ImageError(`bundle ${bundle}: a --copy bundle has no upper layer to commit (make it with the overlay mode)`);
  if (path.resolve(info.store) !== store.root) throw new ImageError(`bundle ${bundle}: made from the image store ${info.store}, not ${store.root} (give it with --image-root)`);
  const what = `commit ${bundle}`;
  const manifest = parseJSON<Manifest>(store.readBlob(info.manifest, `${what}: manifest of ${info.image}`), `${what}: manifest`);
  const config = parseJSON<ImageConfig>(store.readBlob(manifest.config.digest, `${what}: config of ${info.image}`), `${what}: config`);
  const entries = upperEntries(path.join(bundle, '.skiff-image', 'upper'));
  const total = entries.reduce((n, e) => n + e.size, 0);
  const staging = store.stage('commit');
  try {
    const layout = staging.file('layout');
    const blobs = path.join(layout, 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    const layerFile = staging.file('layer.tar.gz');
    const diff = new Hasher();
    const gz = new Hasher();
    let done = 0;
    await pipeline(Readable.from(layerTar(entries, (n) => progress?.((done += n), total))), diff, zlib.createGzip({ level: 6 }), gz, fs.createWriteStream(layerFile));
    progress?.(total, total);
    const layer = { mediaType: MT.ociLayerGzip, digest: gz.digest(), size: gz.bytes };
    fs.renameSync(layerFile, path.join(blobs, digestHex(layer.digest)));
    const created = new Date().toISOString();
    const newConfig = Buffer.from(JSON.stringify({
      ...config, created,
      rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, diff.digest()] },
      history: [...((config as { history?: unknown[] }).history ?? []), { created, created_by: `skiff image commit (from ${info.image})` }],
    }));
    const configDesc = { mediaType: MT.ociConfig, digest: sha256(newConfig), size: newConfig.length };
    fs.writeFileSync(path.join(blobs, digestHex(configDesc.digest)), newConfig);
    for (const l of manifest.layers) {
      const target = path.join(blobs, digestHex(l.digest));
      if (!fs.existsSync(target)) fs.linkSync(store.blobPath(l.digest), target);
    }
    const newManifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest, config: configDesc,
      layers: [...manifest.layers.map((l) => ({ mediaType: OCI_LAYER[l.mediaType] ?? l.mediaType, digest: l.digest, size: l.size })), layer],
    }));
    const manifestDigest = sha256(newManifest);
    fs.writeFileSync(path.join(blobs, digestHex(manifestDigest)), newManifest);
    const full = normalizeName(name);
    fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2, manifests: [{ mediaType: MT.ociManifest, digest: manifestDigest, size: newManifest.length, annotations: { 'io.containerd.image.name': full } }],
    }));
    const rec = await importImage(store, layout, { name: full });
    // Made here, from the bundle's image: no transport to judge it by later.
    const { source: _made, ...plain } = rec;
    store.setRef(plain);
    return plain;
  } finally {
    staging.drop();
  }
}
