// The on-disk store. Everything visible under blobs/, layers/, refs/ got there by one rename of
// a complete, verified object prepared under tmp/, so a crash or a bad input never leaves a
// half-written object where readers look. See docs/image.md for the layout.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { digestHex, ImageError, sha256 } from './digest';
import { removeTree } from './tree';
import { LayerStack, fitsOver } from './resolve';
import { writeFileAtomic } from '../atomic';

export const DEFAULT_IMAGE_ROOT = '/var/lib/skiff';

export interface RefRecord {
  name: string;
  /** The platform manifest the name resolves to. */
  digest: string;
  /** The index the manifest was chosen from, kept so `inspect` and prune see it. */
  index?: string;
  created: string;
  /** Where it came from, so inspect can judge it by the policy as pull or import did. */
  source?: { transport: 'docker' | 'oci' | 'oci-archive' | 'docker-archive'; ref: string };
}

export class Store {
  readonly root: string;
  constructor(root: string = DEFAULT_IMAGE_ROOT) {
    this.root = path.resolve(root);
  }

  dir(...parts: string[]): string {
    return path.join(this.root, ...parts);
  }
  blobPath(digest: string): string {
    return this.dir('blobs', 'sha256', digestHex(digest));
  }
  /** Where the diffID a layer blob was verified to decompress to is kept (as containerd's
   *  "uncompressed" label), so a blob is decompressed once to be trusted, not on every import. */
  diffIDRecord(digest: string): string {
    return this.dir('blobs', 'diffid', digestHex(digest));
  }
  blobDiffID(digest: string): string | undefined {
    try {
      const d = fs.readFileSync(this.diffIDRecord(digest), 'utf8').trim();
      return this.hasBlob(digest) ? d : undefined;
    } catch {
      return undefined;
    }
  }
  layerDir(diffID: string): string {
    return this.dir('layers', 'sha256', digestHex(diffID));
  }
  /** The tree of an unpacked layer (overlayfs lower dir). */
  layerFs(diffID: string): string {
    return path.join(this.layerDir(diffID), 'fs');
  }

  init(): void {
    for (const d of ['blobs/sha256', 'blobs/diffid', 'layers/sha256', 'refs', 'tmp', 'leases', 'bundles']) {
      fs.mkdirSync(this.dir(d), { recursive: true, mode: 0o700 });
    }
  }

  hasBlob(digest: string): boolean {
    return fs.existsSync(this.blobPath(digest));
  }
  /**
   * The dir (staged, or in the store) that holds a layer as it is over the given lower layers: the
   * one under its chainID, made over those very layers, or the one under its diffID if it fits
   * over them (see placement.ts).
   */
  findLayer(diffID: string, chainID: string, lower: LayerStack, staged = new Map<string, string>()): { key: string; dir: string } | undefined {
    for (const key of chainID === diffID ? [diffID] : [chainID, diffID]) {
      const dir = staged.get(key) ?? (this.hasLayer(key) ? this.layerDir(key) : undefined);
      if (dir && (key === chainID || fitsOver(dir, lower))) return { key, dir };
    }
    return undefined;
  }
  /** Which dirs an image's layers have, bottom up; undefined from the first one missing. */
  layerKeys(diffIDs: string[]): (string | undefined)[] {
    const chain = chainIDs(diffIDs);
    const lower = new LayerStack();
    const keys: (string | undefined)[] = [];
    let gap = false;
    for (let i = 0; i < diffIDs.length; i++) {
      // A layer's fit depends on those below it: above a missing one, nothing can be told.
      const found = gap ? undefined : this.findLayer(diffIDs[i], chain[i], lower);
      if (found) lower.push(found.dir);
      else gap = true;
      keys.push(found?.key);
    }
    return keys;
  }
  hasLayer(diffID: string): boolean {
    return fs.existsSync(path.join(this.layerDir(diffID), 'meta.json'));
  }
  readBlob(digest: string, what = 'blob'): Buffer {
    try {
      return fs.readFileSync(this.blobPath(digest));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ImageError(`${what} ${digest} is not in the store`);
      throw e;
    }
  }

  /** A private staging dir under tmp/ named after this process, so prune can tell live from dead ones. */
  stage(kind: string): Staging {
    this.init();
    const dir = this.dir('tmp', `${kind}-${process.pid}-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(dir, { mode: 0o700 });
    return new Staging(this, dir);
  }

  // ---- references: one small file per name, so updates are a single atomic rename ----
  refFile(name: string): string {
    return this.dir('refs', encodeURIComponent(name));
  }
  getRef(name: string): RefRecord | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.refFile(name), 'utf8')) as RefRecord;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
  setRef(rec: RefRecord): void {
    this.init();
    atomicWrite(this.refFile(rec.name), JSON.stringify(rec, null, 2) + '\n', this.dir('tmp'));
  }
  removeRef(name: string): boolean {
    try {
      fs.unlinkSync(this.refFile(name));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }
  listRefs(): RefRecord[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir('refs'));
    } catch {
      return [];
    }
    const out: RefRecord[] = [];
    for (const n of names.sort()) {
      try {
        out.push(JSON.parse(fs.readFileSync(this.dir('refs', n), 'utf8')));
      } catch {
        /* a ref removed while we listed */
      }
    }
    return out;
  }
}

/** The image-spec's ChainIDs: each layer's identity together with all the layers below it. */
export function chainIDs(diffIDs: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIDs) out.push(out.length ? sha256(`${out[out.length - 1]} ${d}`) : d);
  return out;
}

/** Writes a file so readers see either the old content or the new, never a mix. */
export function atomicWrite(file: string, data: string | Buffer, tmpDir = path.dirname(file)): void {
  writeFileAtomic(file, data, { durable: true, tmpDir });
}

/**
 * The work area of one import or pull. Objects are prepared here and published with commit*,
 * each a rename; drop() removes whatever was not published.
 */
export class Staging {
  constructor(readonly store: Store, readonly dir: string) {}
  file(name: string): string {
    return path.join(this.dir, name);
  }
  /** Publishes a verified blob file. Another process may have published the same one: same bytes, no harm. */
  commitBlob(file: string, digest: string): void {
    const dest = this.store.blobPath(digest);
    if (fs.existsSync(dest)) {
      fs.rmSync(file, { force: true });
      return;
    }
    fs.chmodSync(file, 0o644);
    // On disk before it has its name: after a power cut a name never points to missing data.
    const fd = fs.openSync(file, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(file, dest);
  }
  commitBlobData(data: Buffer, digest: string): void {
    if (this.store.hasBlob(digest)) return;
    const f = this.file(`blob-${digestHex(digest)}`);
    fs.writeFileSync(f, data);
    this.commitBlob(f, digest);
  }
  /** Records what a published blob was verified to decompress to. */
  commitDiffID(digest: string, diffID: string): void {
    atomicWrite(this.store.diffIDRecord(digest), diffID + '\n', this.store.dir('tmp'));
  }
  /** Publishes an unpacked layer dir; if a concurrent unpack won the race, ours is discarded. */
  commitLayer(dir: string, diffID: string): void {
    const dest = this.store.layerDir(diffID);
    try {
      fs.renameSync(dir, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.store.hasLayer(diffID)) {
        removeTree(dir);
        return;
      }
      throw e;
    }
  }
  drop(): void {
    removeTree(this.dir);
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
