// Paths inside an image's tree, resolved the way the container will see them and never outside
// it: symlinks are followed (absolute ones from the tree's root) and `..` stops at the root. The
// tree is one directory (a flattened rootfs) or a stack of overlay-form layer dirs, read the way
// overlayfs merges them.
import * as fs from 'fs';
import * as path from 'path';
import { lstatOrNone } from './tree';

export interface TreeView {
  /** What the tree shows at rel ('' is its root): undefined when absent or whited out. */
  lstat(rel: string): fs.Stats | undefined;
  readlink(rel: string): string;
}

/** As the kernel's limit before ELOOP. */
const MAX_LINKS = 40;

export function lstatIn(root: string, rel: string): fs.Stats | undefined {
  return lstatOrNone(rel === '' ? root : root + '/' + rel);
}

export function dirView(root: string): TreeView {
  return { lstat: (rel) => lstatIn(root, rel), readlink: (rel) => fs.readlinkSync(path.join(root, rel)) };
}

export interface Resolution {
  /** The path reached, with no symlink in it. */
  rel: string;
  /** What is there (undefined: nothing). */
  st: fs.Stats | undefined;
  /** Components left when resolution stopped early (rel missing, not a directory, or a loop). */
  rest: string[];
}

/** Resolves rel in the view, following symlinks in every component (the last too if followLast). */
export function resolveInTree(view: TreeView, rel: string, followLast = true): Resolution {
  const todo = rel.split('/').filter(Boolean);
  const done: string[] = [];
  let st = view.lstat('');
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      done.pop();
      st = view.lstat(done.join('/'));
      continue;
    }
    const p = done.length ? done.join('/') + '/' + c : c;
    st = view.lstat(p);
    if (st?.isSymbolicLink() && (todo.length > 0 || followLast)) {
      if (++links > MAX_LINKS) return { rel: p, st: undefined, rest: todo };
      const target = view.readlink(p);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (!st || (todo.length > 0 && !st.isDirectory())) return { rel: p, st, rest: todo };
    done.push(c);
  }
  return { rel: done.join('/'), st, rest: [] };
}

/** An overlayfs whiteout: a 0:0 character device. */
export function isWhiteout(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/**
 * The image below a layer, from the overlay-form dirs of the layers under it (lowest first, each
 * with fs/ and meta.json): whiteouts hide, opaque dirs (listed in meta.json, as Node cannot read
 * xattrs) end the merge, and a non-directory hides everything below it.
 */
export class LayerStack implements TreeView {
  /** Top first. */
  private readonly layers: { fs: string; opaque: Set<string> }[] = [];
  constructor(layerDirs: string[] = []) {
    for (const d of layerDirs) this.push(d);
  }
  /** Puts a layer dir (its meta.json written) on top. */
  push(layerDir: string): void {
    let opaque: string[] = [];
    try {
      opaque = JSON.parse(fs.readFileSync(path.join(layerDir, 'meta.json'), 'utf8')).opaque ?? [];
    } catch {
      /* a layer without meta has no opaque dirs we know of */
    }
    this.layers.unshift({ fs: path.join(layerDir, 'fs'), opaque: new Set(opaque) });
  }
  get empty(): boolean {
    return this.layers.length === 0;
  }
  /** What the stack shows at rel and the layer dir it comes from. */
  find(rel: string): { st: fs.Stats; fs: string } | undefined {
    let live = this.layers.slice(0, this.layers.findIndex((l) => l.opaque.has('')) + 1 || this.layers.length);
    if (rel === '') return live.length ? { st: lstatIn(live[0].fs, '')!, fs: live[0].fs } : undefined;
    const parts = rel.split('/');
    let prefix = '';
    for (let k = 0; k < parts.length; k++) {
      prefix = k ? prefix + '/' + parts[k] : parts[k];
      let hit: { st: fs.Stats; fs: string } | undefined;
      const below: typeof live = [];
      for (const l of live) {
        const st = lstatIn(l.fs, prefix);
        if (!st) continue;
        if (isWhiteout(st)) break;
        hit ??= { st, fs: l.fs };
        if (!st.isDirectory()) break;
        below.push(l);
        if (l.opaque.has(prefix)) break;
      }
      if (!hit || k === parts.length - 1) return hit;
      if (!hit.st.isDirectory()) return undefined;
      live = below;
    }
    return undefined;
  }
  lstat(rel: string): fs.Stats | undefined {
    return this.find(rel)?.st;
  }
  readlink(rel: string): string {
    return fs.readlinkSync(path.join(this.find(rel)!.fs, rel));
  }
}

/**
 * Whether a layer dir unpacked over some lower layers holds the same over these ones: none of the
 * directories it made for its entries (over what lay below) is a symlink here. A chained layer is
 * only ever looked up under its own chainID, so it needs no check.
 */
export function fitsOver(layerDir: string, lower: LayerStack): boolean {
  if (lower.empty) return true;
  let implicit: unknown;
  try {
    implicit = JSON.parse(fs.readFileSync(path.join(layerDir, 'meta.json'), 'utf8')).implicit;
  } catch {
    return false;
  }
  // A layer unpacked before its directories were recorded cannot tell: it is unpacked again.
  return Array.isArray(implicit) && implicit.every((p: string) => !lower.lstat(p)?.isSymbolicLink());
}
