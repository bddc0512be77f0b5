// Where the entries of a layer land, as umoci places them: an entry's parent directory is resolved
// in the image as it stands below the entry (the lower layers and what this layer wrote so far),
// symlinks included, and never outside the image; the entry's own name is never followed. A
// symlink on the way must lead to a directory of the image, or the entry is refused; a hardlink's
// target is looked up the same way, and in overlay form a target in a lower layer is first copied
// into this one, as overlayfs copies a file up before linking it.
//
// In overlay form, what a layer holds then depends on the layers below it: such a layer is
// marked `chained` (the store keys it by chainID, not diffID). The directories it made without
// looking through a symlink are listed in `implicit`: under other lower layers, where one of them
// is a symlink, the same layer needs unpacking again.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ImageError } from './digest';
import type { TarEntry } from './tarwrite';
import { PATH_LIMIT, removeTree } from './tree';
import { cleanEntryName, parentOf, runTar } from './entries';
import { LayerStack, TreeView, isWhiteout, lstatIn, resolveInTree } from './resolve';

export type UnpackMode = 'overlay' | 'apply';

export interface UnpackStats {
  /** Disk usage estimate (4 KiB blocks for file data and directories), without walking the tree. */
  du: number;
  entries: number;
  files: number;
  bytes: number;
  whiteouts: number;
  opaque: string[];
  /** Overlay form: what the layer holds depends on the layers below it. */
  chained: boolean;
  /** Overlay form: directories made for entries with no entry of their own, over what lay below. */
  implicit: string[];
}

export const OPAQUE_XATTR = 'trusted.overlay.opaque';

export interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

export const baseOf = (rel: string): string => rel.slice(rel.lastIndexOf('/') + 1);
export const joinRel = (dir: string, name: string): string => (dir === '' ? name : dir + '/' + name);

export class Placement {
  readonly stats: UnpackStats = { du: 0, entries: 0, files: 0, bytes: 0, whiteouts: 0, opaque: [], chained: false, implicit: [] };
  /** Paths (relative, resolved) written by this layer, including parents created for them. */
  protected written = new Set<string>();
  /** Directory as an entry names it → the real directory this layer has for it. */
  protected dirs = new Map<string, string>([['', '']]);
  protected dirMeta = new Map<string, DirMeta>();
  protected dirXattrs = new Map<string, Record<string, Buffer>>();
  protected pending = new Map<string, TarEntry>();
  /** Lookups the layers below answered: a placement that needed them depends on them. */
  private lowerHits = 0;
  /** Directories below which the lower layers show (none of them or their parents hides them):
   *  known, so a lookup thousands of levels deep does not check every parent again. */
  private seeThrough = new Set<string>();

  constructor(readonly root: string, readonly mode: UnpackMode, readonly what: string, protected lower?: LayerStack) {}

  abs(rel: string): string {
    return rel === '' ? this.root : this.root + '/' + rel;
  }

  /** What this layer's own tree has at rel. */
  lstat(rel: string): fs.Stats | undefined {
    // An overlay-form layer is unpacked into an empty dir: what this layer did not write is not there.
    if (this.mode === 'overlay' && rel !== '' && !this.written.has(rel)) return undefined;
    return lstatIn(this.root, rel);
  }

  /** This layer's say at rel: an entry, nothing (absent, whited out or hidden), or 'lower'. */
  private own(rel: string): fs.Stats | undefined | 'lower' {
    const hides = (q: string) => {
      const w = this.pending.get(q);
      if (w?.type === 'character-device' && !w.devmajor && !w.devminor) return true;
      const st = this.lstat(q);
      return !st || isWhiteout(st) || (q !== rel && (!st.isDirectory() || !!this.dirXattrs.get(q)?.[OPAQUE_XATTR]));
    };
    if (rel === '' || this.written.has(rel)) return hides(rel) ? undefined : this.lstat(rel);
    if (!this.lower || this.lower.empty) return undefined;
    const seen: string[] = [];
    for (let q = parentOf(rel); !this.seeThrough.has(q); q = parentOf(q)) {
      if ((q === '' ? this.dirXattrs.get('')?.[OPAQUE_XATTR] : this.written.has(q) && hides(q))) return undefined;
      seen.push(q);
      if (q === '') break;
    }
    for (const q of seen) this.seeThrough.add(q);
    return 'lower';
  }

  /** The image as it stands: this layer over the ones below it. */
  protected readonly view: TreeView = {
    lstat: (rel) => {
      if (this.mode === 'apply') return this.lstat(rel);
      const o = this.own(rel);
      if (o !== 'lower') return o;
      this.lowerHits++;
      return this.lower!.lstat(rel);
    },
    readlink: (rel) => (this.mode === 'overlay' && this.own(rel) === 'lower' ? this.lower!.readlink(rel) : fs.readlinkSync(this.abs(rel))),
  };

  /** The entry's cleaned name, refused when the tree cannot hold it (a path past PATH_MAX). */
  relOf(name: string, what = this.what): string {
    const rel = cleanEntryName(name, what);
    this.fits(rel, name, what);
    return rel;
  }

  private fits(rel: string, name: string, what = this.what): void {
    const bytes = Buffer.byteLength(this.abs(rel));
    if (bytes <= PATH_LIMIT) return;
    const shown = name.length > 80 ? `${name.slice(0, 40)}…${name.slice(-20)}` : name;
    throw new ImageError(`${what}: entry ${JSON.stringify(shown)} is too deep to unpack here (its path would be ${bytes} bytes, over the limit of ${PATH_LIMIT}) (refused)`);
  }

  /** The real directory of this layer that rel names, made if missing. */
  ensureDir(rel: string, entryName: string): string {
    const known = this.dirs.get(rel);
    if (known !== undefined) return known;
    // Down from the nearest directory already resolved, in a loop: paths can be thousands deep.
    const names: string[] = [];
    let p = rel;
    for (; !this.dirs.has(p); p = parentOf(p)) names.push(baseOf(p));
    let cur = this.dirs.get(p)!;
    for (let i = names.length - 1; i >= 0; i--) {
      cur = this.enterDir(cur, names[i], entryName);
      p = joinRel(p, names[i]);
      this.dirs.set(p, cur);
    }
    return cur;
  }

  /** From the real directory cur into its child name: the real directory that is, made if need be. */
  private enterDir(cur: string, name: string, entryName: string): string {
    const rel = joinRel(cur, name);
    const mine = this.mode === 'apply' || this.written.has(rel);
    // What this layer made itself is taken as it is on disk (a whiteout there is not a directory).
    const st = mine ? this.lstat(rel) : this.view.lstat(rel);
    if (st?.isSymbolicLink()) return this.followDir(rel, entryName);
    // A parent of something this layer writes is part of this layer, whoever created it.
    this.written.add(rel);
    if (mine && st?.isDirectory()) return rel;
    if (mine && st) {
      if (this.mode === 'overlay') {
        throw new ImageError(`${this.what}: entry ${JSON.stringify(entryName)} needs ${JSON.stringify(rel)} to be a directory, but it is not`);
      }
      // A lower layer's file where this layer has a directory: the upper layer wins.
      this.remove(rel, st);
    }
    this.fits(rel, entryName);
    fs.mkdirSync(this.abs(rel), 0o755);
    this.pending.delete(rel);
    // Even with nothing below (the image's first layer), as the same layer may sit higher elsewhere.
    if (!mine) this.stats.implicit.push(rel);
    return rel;
  }

  /** A symlink on an entry's path: followed within the image, if it leads to a directory there. */
  private followDir(link: string, entryName: string): string {
    const hits = this.lowerHits;
    const r = resolveInTree(this.view, link);
    if (r.rest.length > 0 || !r.st?.isDirectory()) {
      throw new ImageError(`${this.what}: entry ${JSON.stringify(entryName)} goes through the symlink ${JSON.stringify(link)}, which does not lead to a directory in the image (refused)`);
    }
    if (this.lowerHits > hits) this.stats.chained = true;
    this.ownDirs(r.rel);
    return r.rel;
  }

  /** Overlay form: gives this layer its own copy of a directory of the image (as a copy-up would). */
  private ownDirs(real: string): void {
    if (this.mode !== 'overlay' || real === '') return;
    let p = '';
    for (const c of real.split('/')) {
      p = joinRel(p, c);
      if (this.written.has(p)) continue;
      const st = this.lower?.lstat(p);
      fs.mkdirSync(this.abs(p), 0o755);
      this.written.add(p);
      this.stats.du += 4096;
      if (st) this.dirMeta.set(p, { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs / 1000 });
    }
  }

  /** Where a hardlink's target is (resolved in the image), copied up into this layer if it is below. */
  protected linkTarget(target: string, entryName: string): { real: string; st: fs.Stats } {
    const hits = this.lowerHits;
    const r = resolveInTree(this.view, parentOf(target));
    if (r.rest.length > 0 || !r.st?.isDirectory()) {
      throw new ImageError(`${this.what}: hardlink ${JSON.stringify(entryName)} has a target whose parent ${JSON.stringify(parentOf(target))} is not a directory in the tree (refused)`);
    }
    const real = joinRel(r.rel, baseOf(target));
    if (this.pending.has(real)) this.flush();
    const st = this.view.lstat(real);
    if (!st || st.isDirectory()) {
      throw new ImageError(`${this.what}: hardlink ${JSON.stringify(entryName)} points to ${JSON.stringify(target)}, which is not a file in the image (refused)`);
    }
    if (this.lowerHits > hits) this.stats.chained = true;
    if (this.mode === 'overlay' && !this.written.has(real)) this.copyUp(real);
    return { real, st: this.lstat(real)! };
  }

  private copyUp(real: string): void {
    const from = this.lower!.find(real)!;
    this.ownDirs(parentOf(real));
    // cp keeps what Node cannot copy: xattrs (file capabilities), device numbers.
    const r = spawnSync('cp', ['-a', '--no-target-directory', path.join(from.fs, real), this.abs(real)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new ImageError(`${this.what}: copying ${JSON.stringify(real)} up from a lower layer failed: ${(r.stderr || r.error?.message || '').trim()}`);
    this.written.add(real);
    this.stats.du += Math.ceil(from.st.size / 4096) * 4096;
  }

  /** Removes what is at rel so something else can take its place. */
  remove(rel: string, st: fs.Stats | undefined = this.lstat(rel)): void {
    if (!st) return;
    if (st.isDirectory()) {
      this.flush();
      removeTree(this.abs(rel));
      this.dirs.clear();
      this.dirs.set('', '');
      this.seeThrough.clear();
    } else {
      fs.unlinkSync(this.abs(rel));
    }
  }

  /** Something of this layer now at rel (an opaque dir, an entry) may hide what lay below it. */
  protected hideLower(rel?: string): void {
    if (rel === undefined || this.seeThrough.has(rel)) this.seeThrough.clear();
  }

  /** Hands the collected special entries to GNU tar, in one process. */
  flush(): void {
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    runTar(this.root, entries, this.what);
  }
}
