// Unpacking one layer tar (already decompressed) into a directory.
//
// Two modes:
//  - 'overlay': the layer alone, as an overlayfs lower dir. Whiteouts become char 0:0 devices and
//    opaque dirs get trusted.overlay.opaque=y, so stacking the dirs with overlayfs gives the image.
//  - 'apply': onto a tree holding the layers below (the flattened --copy rootfs): whiteouts delete.
//
// Containment: entry names are cleaned; a name that climbs out with `..` is refused, an absolute
// one is taken relative to the root (as tar does). We never follow a symlink while writing: every
// parent is lstat'ed and a symlink parent is refused; files are created with O_EXCL|O_NOFOLLOW
// after removing what was there. Symlink targets are stored as they are (they only mean
// something inside the container). Hardlink targets must be inside the tree.
//
// Node has no mknod or setxattr, so devices, fifos, whiteouts and anything carrying xattrs are
// collected and handed to GNU tar (always present on Debian) in one batch: see flush().
import * as fs from 'fs';
import * as path from 'path';
import type { Readable } from 'stream';
import type { Header as Headers } from 'tar-stream';
import { ImageError } from './digest';
import type { TarEntry } from './tarwrite';
import { PATH_LIMIT, removeTree, walkTree } from './tree';
import { IS_ROOT, cleanEntryName, parentOf, patchPaxDecoding, runTar } from './entries';

export { cleanEntryName };

export type UnpackMode = 'overlay' | 'apply';

export interface UnpackStats {
  /** Disk usage estimate (4 KiB blocks for file data and directories), without walking the tree. */
  du: number;
  entries: number;
  files: number;
  bytes: number;
  whiteouts: number;
  opaque: string[];
}

const EGID = process.getegid ? process.getegid() : 0;
const OPAQUE_XATTR = 'trusted.overlay.opaque';
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const SMALL_FILE = 256 << 10;
// Read once: process.umask() is the only way to learn it, and it only changes if someone sets it.
const UMASK = process.umask();
const MAX_INFLIGHT = 32;

interface DirMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
}

class Unpacker {
  readonly stats: UnpackStats = { du: 0, entries: 0, files: 0, bytes: 0, whiteouts: 0, opaque: [] };
  /** Paths (relative) written by this layer, including parents created for them. */
  private written = new Set<string>();
  /** Directories known to be real dirs (not symlinks) since the last destructive change. */
  private goodDirs = new Set<string>(['']);
  private dirMeta = new Map<string, DirMeta>();
  private dirXattrs = new Map<string, Record<string, Buffer>>();
  private pending = new Map<string, TarEntry>();
  /** Small files being created on the libuv pool: creating a file costs the kernel far more than
   *  writing a few KiB, so several creations run at once while we parse the next entries. */
  private inflight = new Map<string, Promise<void>>();
  private asyncErr: unknown;
  /** What gate() found at an entry's path, reused by prepare() (nothing can change it in between). */
  private gateStat: { rel: string; st: fs.Stats | undefined } | undefined;
  private get chownAll(): boolean {
    return IS_ROOT && this.mode === 'apply';
  }

  constructor(readonly root: string, readonly mode: UnpackMode, readonly what: string) {}

  abs(rel: string): string {
    return rel === '' ? this.root : this.root + '/' + rel;
  }

  lstat(rel: string): fs.Stats | undefined {
    // An overlay-form layer is unpacked into an empty dir: what this layer did not write is not there.
    if (this.mode === 'overlay' && rel !== '' && !this.written.has(rel)) return undefined;
    try {
      // No exception for a missing path: most entries are new, and throwing costs more than the syscall.
      return fs.lstatSync(this.abs(rel), { throwIfNoEntry: false });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw e;
    }
  }

  /** Makes sure rel and its parents are real directories, creating missing ones. */
  ensureDir(rel: string, entryName: string): void {
    // Top down from the deepest directory already known good, in a loop: paths can be thousands deep.
    const todo: string[] = [];
    for (let p = rel; !this.goodDirs.has(p); p = parentOf(p)) todo.push(p);
    for (let i = todo.length - 1; i >= 0; i--) this.makeDir(todo[i], entryName);
  }

  private makeDir(rel: string, entryName: string): void {
    const st = this.lstat(rel);
    // A parent of something this layer writes is part of this layer, whoever created it.
    this.written.add(rel);
    if (!st) {
      fs.mkdirSync(this.abs(rel), 0o755);
    } else if (st.isSymbolicLink()) {
      throw new ImageError(`${this.what}: entry ${JSON.stringify(entryName)} goes through the symlink ${JSON.stringify(rel)} (refused: it could point outside the tree)`);
    } else if (!st.isDirectory()) {
      if (this.mode === 'apply') {
        // A lower layer's file where this layer has a directory: the upper layer wins.
        this.remove(rel, st);
        fs.mkdirSync(this.abs(rel), 0o755);
      } else {
        throw new ImageError(`${this.what}: entry ${JSON.stringify(entryName)} needs ${JSON.stringify(rel)} to be a directory, but it is not`);
      }
    }
    this.goodDirs.add(rel);
  }

  /** The entry's cleaned name, refused when the tree cannot hold it (a path past PATH_MAX). */
  relOf(name: string, what = this.what): string {
    const rel = cleanEntryName(name, what);
    const bytes = Buffer.byteLength(this.abs(rel));
    if (bytes > PATH_LIMIT) {
      const shown = name.length > 80 ? `${name.slice(0, 40)}…${name.slice(-20)}` : name;
      throw new ImageError(`${what}: entry ${JSON.stringify(shown)} is too deep to unpack here (its path would be ${bytes} bytes, over the limit of ${PATH_LIMIT}) (refused)`);
    }
    return rel;
  }

  /** Removes what is at rel so something else can take its place. */
  remove(rel: string, st: fs.Stats | undefined = this.lstat(rel)): void {
    if (!st) return;
    if (st.isDirectory()) {
      this.flush();
      removeTree(this.abs(rel));
      this.goodDirs.clear();
      this.goodDirs.add('');
    } else {
      fs.unlinkSync(this.abs(rel));
    }
  }

  private prepare(rel: string, name: string): fs.Stats | undefined {
    this.ensureDir(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), name);
    this.pending.delete(rel);
    const c = this.gateStat;
    this.gateStat = undefined;
    const st = c && c.rel === rel ? c.st : this.lstat(rel);
    this.written.add(rel);
    return st;
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight.values()]);
    if (this.asyncErr) throw this.asyncErr;
  }

  /** Waits for the in-flight writes an entry depends on (its path, its parents, or all of them). */
  async gate(h: Headers): Promise<void> {
    this.gateStat = undefined;
    if (this.asyncErr) throw this.asyncErr;
    if (this.inflight.size === 0) return;
    while (this.inflight.size >= MAX_INFLIGHT) await Promise.race(this.inflight.values());
    const rel = this.relOf(h.name);
    for (let i = rel.indexOf('/'); ; i = rel.indexOf('/', i + 1)) {
      const p = i < 0 ? rel : rel.slice(0, i);
      const w = this.inflight.get(p);
      if (w) await w;
      if (i < 0) break;
    }
    if (this.asyncErr) throw this.asyncErr;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    if (base.startsWith('.wh.') || h.type === 'link') return this.drain(); // may touch anything below
    const st = this.lstat(rel);
    if (st?.isDirectory() && h.type !== 'directory') return this.drain(); // replacing a directory
    this.gateStat = { rel, st };
  }

  private writeAsync(rel: string, data: Buffer, mode: number, uid: number, gid: number, mtime: number): void {
    const abs = this.abs(rel);
    // Created with its final mode when the umask keeps it and no setuid/setgid/sticky bit has to
    // survive a chown; root-owned files in a fresh tree need no chown: two syscalls fewer per file.
    const direct = (mode & 0o7000) === 0 && (mode & UMASK) === 0;
    const chown = IS_ROOT && (uid !== 0 || gid !== 0 || this.chownAll || EGID !== 0);
    const p = new Promise<void>((resolve) => {
      fs.open(abs, CREATE_FLAGS, direct ? mode : 0o600, (err, fd) => {
        if (err) {
          this.asyncErr ??= err;
          return resolve();
        }
        try {
          let off = 0;
          while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off);
          if (chown) fs.fchownSync(fd, uid, gid);
          if (!direct) fs.fchmodSync(fd, mode);
          fs.futimesSync(fd, mtime, mtime);
        } catch (e) {
          this.asyncErr ??= e;
        }
        fs.close(fd, () => resolve());
      });
    });
    this.inflight.set(rel, p);
    p.then(() => {
      if (this.inflight.get(rel) === p) this.inflight.delete(rel);
    });
  }

  entry(h: Headers, stream: Readable, next: (err?: unknown) => void): void {
    const pax = (h.pax ?? {}) as Record<string, string>;
    const uid = pax.uid !== undefined ? Number(pax.uid) : h.uid ?? 0;
    const gid = pax.gid !== undefined ? Number(pax.gid) : h.gid ?? 0;
    const mtime = pax.mtime !== undefined ? Number(pax.mtime) : h.mtime ? h.mtime.getTime() / 1000 : 0;
    const mode = (h.mode ?? 0o644) & 0o7777;
    let xattrs: Record<string, Buffer> | undefined;
    for (const k of Object.keys(pax)) {
      if (!k.startsWith('SCHILY.xattr.')) continue;
      const name = k.slice(13);
      if (name.startsWith('trusted.overlay.')) continue; // never let a layer forge overlay metadata
      (xattrs ??= {})[name] = Buffer.from(pax[k], 'latin1');
    }
    const rel = this.relOf(h.name);
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    const dir = parentOf(rel);
    this.stats.entries++;

    const skip = () => {
      stream.on('end', () => next());
      stream.on('error', next);
      stream.resume();
    };

    if (base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') this.opaque(dir, h.name);
      else this.whiteout(dir, base.slice(4), h.name);
      return skip();
    }

    switch (h.type) {
      case 'directory': {
        if (rel !== '') {
          const st = this.prepare(rel, h.name);
          if (st && !st.isDirectory()) this.remove(rel, st);
          if (!st || !st.isDirectory()) fs.mkdirSync(this.abs(rel), 0o700);
          this.goodDirs.add(rel);
        }
        this.dirMeta.set(rel, { mode, uid, gid, mtime });
        this.stats.du += 4096;
        if (xattrs) this.dirXattrs.set(rel, { ...this.dirXattrs.get(rel), ...xattrs });
        return skip();
      }
      case 'file':
      case 'contiguous-file': {
        if (rel === '') throw new ImageError(`${this.what}: entry ${JSON.stringify(h.name)} is a file at the root`);
        const st = this.prepare(rel, h.name);
        this.remove(rel, st);
        this.stats.files++;
        this.stats.bytes += h.size ?? 0;
        this.stats.du += Math.ceil((h.size ?? 0) / 4096) * 4096;
        if (xattrs) {
          // Files with xattrs go through GNU tar with their content (rare: file capabilities).
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', next);
          stream.on('end', () => {
            this.pending.set(rel, { name: rel, type: 'file', mode, uid, gid, mtime, xattrs, data: Buffer.concat(chunks) });
            next();
          });
          return;
        }
        if ((h.size ?? 0) <= SMALL_FILE) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', next);
          stream.on('end', () => {
            this.writeAsync(rel, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), mode, uid, gid, mtime);
            next();
          });
          return;
        }
        let fd: number;
        try {
          fd = fs.openSync(this.abs(rel), CREATE_FLAGS, 0o600);
        } catch (e) {
          return next(e);
        }
        let failed = false;
        stream.on('data', (c: Buffer) => {
          if (failed) return;
          try {
            let off = 0;
            while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
          } catch (e) {
            failed = true;
            stream.destroy(e as Error);
          }
        });
        stream.on('error', (e) => {
          try { fs.closeSync(fd); } catch { /* already closed */ }
          next(e);
        });
        stream.on('end', () => {
          try {
            if (IS_ROOT) fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, mode);
            fs.futimesSync(fd, mtime, mtime);
            fs.closeSync(fd);
          } catch (e) {
            return next(e);
          }
          next();
        });
        return;
      }
      case 'symlink': {
        if (rel === '') throw new ImageError(`${this.what}: entry ${JSON.stringify(h.name)} is a symlink at the root`);
        const st = this.prepare(rel, h.name);
        this.remove(rel, st);
        const p = this.abs(rel);
        fs.symlinkSync(h.linkname ?? '', p);
        if (IS_ROOT) fs.lchownSync(p, uid, gid);
        fs.lutimesSync(p, mtime, mtime);
        if (xattrs) this.pending.set(rel, { name: rel, type: 'symlink', linkname: h.linkname ?? '', mode, uid, gid, mtime, xattrs });
        return skip();
      }
      case 'link': {
        const target = this.relOf(h.linkname ?? '', this.what + ` (hardlink ${h.name})`);
        if (target === '' || target === rel) throw new ImageError(`${this.what}: hardlink ${JSON.stringify(h.name)} has an invalid target ${JSON.stringify(h.linkname)}`);
        const tdir = parentOf(target);
        // The target's parents must be real dirs too, or link() would resolve through a symlink.
        try {
          this.ensureExistingDir(tdir, h.name);
        } catch (e) {
          return next(e);
        }
        if (this.pending.has(target)) this.flush();
        const tst = this.lstat(target);
        if (!tst || tst.isDirectory()) {
          throw new ImageError(`${this.what}: hardlink ${JSON.stringify(h.name)} points to ${JSON.stringify(h.linkname)}, which is not a file in this layer (refused)`);
        }
        const st = this.prepare(rel, h.name);
        if (st) {
          if (st.ino === tst.ino && st.dev === tst.dev) return skip();
          this.remove(rel, st);
        }
        fs.linkSync(this.abs(target), this.abs(rel));
        return skip();
      }
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        if (rel === '') throw new ImageError(`${this.what}: entry ${JSON.stringify(h.name)} is a device at the root`);
        const st = this.prepare(rel, h.name);
        this.remove(rel, st);
        this.pending.set(rel, { name: rel, type: h.type, mode, uid, gid, mtime, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0, xattrs });
        return skip();
      }
      default:
        // pax globals and GNU extensions are consumed by tar-stream; anything else carries no file.
        return skip();
    }
  }

  /** Checks (without creating) that rel and its parents are real directories. */
  private ensureExistingDir(rel: string, entryName: string): void {
    const todo: string[] = [];
    for (let p = rel; !this.goodDirs.has(p); p = parentOf(p)) todo.push(p);
    for (let i = todo.length - 1; i >= 0; i--) {
      const st = this.lstat(todo[i]);
      if (!st || !st.isDirectory()) {
        throw new ImageError(`${this.what}: hardlink ${JSON.stringify(entryName)} has a target whose parent ${JSON.stringify(todo[i])} is not a directory in the tree (refused)`);
      }
      this.goodDirs.add(todo[i]);
    }
  }

  private whiteout(dir: string, name: string, entryName: string): void {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new ImageError(`${this.what}: invalid whiteout ${JSON.stringify(entryName)}`);
    }
    this.stats.whiteouts++;
    this.ensureDir(dir, entryName);
    const rel = dir === '' ? name : dir + '/' + name;
    // A whiteout hides lower layers only; something this layer itself wrote there stays.
    if (this.written.has(rel)) return;
    const st = this.lstat(rel);
    if (this.mode === 'apply') {
      this.remove(rel, st);
      return;
    }
    this.remove(rel, st);
    this.written.add(rel);
    this.pending.set(rel, { name: rel, type: 'character-device', mode: 0, uid: 0, gid: 0, devmajor: 0, devminor: 0 });
  }

  private opaque(dir: string, entryName: string): void {
    this.ensureDir(dir, entryName);
    this.stats.opaque.push(dir);
    if (this.mode === 'apply') {
      this.clearLower(dir);
      return;
    }
    this.dirXattrs.set(dir, { ...this.dirXattrs.get(dir), [OPAQUE_XATTR]: Buffer.from('y') });
  }

  /** Removes what lower layers put under dir, keeping what this layer wrote. */
  private clearLower(dir: string): void {
    const skip = this.root.length + 1;
    walkTree(this.abs(dir), (p, st) => {
      const rel = p.slice(skip);
      if (this.written.has(rel)) return st.isDirectory() ? p : undefined;
      this.remove(rel, st);
      return undefined;
    });
  }

  /** Hands the collected special entries to GNU tar, in one process. */
  flush(): void {
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    runTar(this.root, entries, this.what);
  }

  async finish(): Promise<void> {
    await this.drain();
    // Directories carrying xattrs (opaque ones included) go through tar as directory entries.
    for (const [rel, xattrs] of this.dirXattrs) {
      const st = this.lstat(rel);
      if (!st || !st.isDirectory()) continue;
      this.pending.set(rel + '/', { name: rel === '' ? '.' : rel, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, xattrs });
    }
    this.flush();
    // Directory metadata last, deepest first, so writing children does not disturb mtimes.
    const dirs = [...this.dirMeta.keys()].sort((a, b) => b.length - a.length);
    for (const rel of dirs) {
      const m = this.dirMeta.get(rel)!;
      const p = this.abs(rel);
      if (IS_ROOT) fs.lchownSync(p, m.uid, m.gid);
      fs.chmodSync(p, m.mode);
      fs.utimesSync(p, m.mtime, m.mtime);
    }
  }
}

/**
 * Unpacks a decompressed layer tar stream into root (which must exist). Resolves with counts once
 * every entry is on disk; rejects on the first bad entry or stream error, leaving root partial
 * (callers unpack into a staging dir and drop it).
 */
export function unpackLayer(input: Readable, root: string, mode: UnpackMode, what: string): Promise<UnpackStats> {
  patchPaxDecoding();
  // Required lazily: commands that never unpack should not pay for loading tar-stream.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const u = new Unpacker(fs.realpathSync(root), mode, what);
  return new Promise<UnpackStats>((resolve, reject) => {
    const extract = tar.extract();
    let done = false;
    const fail = (e: unknown) => {
      if (done) return;
      done = true;
      input.unpipe?.(extract as never);
      input.destroy?.();
      extract.destroy();
      reject(e instanceof ImageError ? e : new ImageError(`${what}: ${(e as Error).message ?? e}`));
    };
    extract.on('entry', (h, stream, next) => {
      const go = () => {
        try {
          u.entry(h, stream as unknown as Readable, (err?: unknown) => (err ? fail(err) : next()));
        } catch (e) {
          fail(e);
        }
      };
      u.gate(h).then(go, (e) => {
        stream.resume();
        fail(e);
      });
    });
    extract.on('error', fail);
    extract.on('finish', () => {
      if (done) return;
      u.finish().then(() => {
        if (done) return;
        done = true;
        resolve(u.stats);
      }, fail);
    });
    input.on('error', fail);
    input.pipe(extract as never);
  });
}
