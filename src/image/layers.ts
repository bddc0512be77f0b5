// Unpacking one layer tar (already decompressed) into a directory.
//
// Two modes:
//  - 'overlay': the layer alone, as an overlayfs lower dir. Whiteouts become char 0:0 devices and
//    opaque dirs get trusted.overlay.opaque=y, so stacking the dirs with overlayfs gives the image.
//  - 'apply': onto a tree holding the layers below (the flattened --copy rootfs): whiteouts delete.
//
// Containment: entry names are cleaned; a name that climbs out with `..` is refused, an absolute
// one is taken relative to the root (as tar does). Where an entry lands is placement.ts's: parents
// are resolved within the image, symlinks included, never outside it; the entry itself is never
// followed: files are created with O_EXCL|O_NOFOLLOW after removing what was there. Symlink
// targets are stored as they are (they only mean something inside the container).
//
// Node has no mknod or setxattr, so devices, fifos, whiteouts and anything carrying xattrs are
// collected and handed to GNU tar (always present on Debian) in one batch: see flush().
import * as fs from 'fs';
import type { Readable } from 'stream';
import type { Header as Headers } from 'tar-stream';
import { ImageError } from './digest';
import { walkTree } from './tree';
import { IS_ROOT, cleanEntryName, parentOf, patchPaxDecoding } from './entries';
import { LayerStack } from './resolve';
import { OPAQUE_XATTR, Placement, UnpackMode, UnpackStats, baseOf, joinRel } from './placement';

export { cleanEntryName };
export type { UnpackMode, UnpackStats };

const EGID = process.getegid ? process.getegid() : 0;
const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = fs.constants;
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
const SMALL_FILE = 256 << 10;
// Read once: process.umask() is the only way to learn it, and it only changes if someone sets it.
const UMASK = process.umask();
const MAX_INFLIGHT = 32;

/** Entries that cannot take the place of the root directory. */
const ROOT_KIND: Record<string, string> = {
  file: 'a file', 'contiguous-file': 'a file', symlink: 'a symlink', link: 'a hardlink',
  'character-device': 'a device', 'block-device': 'a device', fifo: 'a device',
};

interface EntryMeta {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  xattrs?: Record<string, Buffer>;
}

class Unpacker extends Placement {
  /** Small files being created on the libuv pool: creating a file costs the kernel far more than
   *  writing a few KiB, so several creations run at once while we parse the next entries. */
  private inflight = new Map<string, Promise<void>>();
  private asyncErr: unknown;
  /** What gate() found at an entry's path, reused by prepare() (nothing can change it in between). */
  private gateStat: { rel: string; st: fs.Stats | undefined } | undefined;
  private get chownAll(): boolean {
    return IS_ROOT && this.mode === 'apply';
  }

  /** Where an entry goes (its parent resolved in the image) and what this layer has there now. */
  private prepare(rel: string, name: string): { real: string; st: fs.Stats | undefined } {
    const real = joinRel(this.ensureDir(parentOf(rel), name), baseOf(rel));
    this.relOf(real);
    this.pending.delete(real);
    const c = this.gateStat;
    this.gateStat = undefined;
    const st = c && c.rel === real ? c.st : this.lstat(real);
    this.written.add(real);
    this.hideLower(real);
    return { real, st };
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.all([...this.inflight.values()]);
    if (this.asyncErr) throw this.asyncErr;
  }

  /** Waits for the in-flight writes an entry depends on (its path, or all of them). */
  async gate(h: Headers): Promise<void> {
    this.gateStat = undefined;
    if (this.asyncErr) throw this.asyncErr;
    if (this.inflight.size === 0) return;
    while (this.inflight.size >= MAX_INFLIGHT) await Promise.race(this.inflight.values());
    const rel = this.relOf(h.name);
    const dir = this.dirs.get(parentOf(rel));
    // A parent yet to be resolved, a whiteout or a hardlink may touch anything written so far.
    if (dir === undefined || baseOf(rel).startsWith('.wh.') || h.type === 'link') return this.drain();
    const real = joinRel(dir, baseOf(rel));
    const w = this.inflight.get(real);
    if (w) await w;
    if (this.asyncErr) throw this.asyncErr;
    const st = this.lstat(real);
    if (st?.isDirectory() && h.type !== 'directory') return this.drain(); // replacing a directory
    this.gateStat = { rel: real, st };
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
    const base = baseOf(rel);
    this.stats.entries++;
    const skip = () => {
      stream.on('end', () => next());
      stream.on('error', next);
      stream.resume();
    };
    if (base.startsWith('.wh.')) {
      if (base === '.wh..wh..opq') this.opaque(parentOf(rel), h.name);
      else this.whiteout(parentOf(rel), base.slice(4), h.name);
      return skip();
    }
    const meta = { mode, uid, gid, mtime, xattrs };
    if (h.type === 'directory') {
      this.directory(rel, h.name, meta);
      return skip();
    }
    const kind = ROOT_KIND[h.type ?? ''];
    if (rel === '' && kind) throw new ImageError(`${this.what}: entry ${JSON.stringify(h.name)} is ${kind} at the root`);
    switch (h.type) {
      case 'file':
      case 'contiguous-file':
        return this.file(rel, h, meta, stream, next);
      case 'symlink': {
        const { real, st } = this.prepare(rel, h.name);
        this.remove(real, st);
        const p = this.abs(real);
        fs.symlinkSync(h.linkname ?? '', p);
        if (IS_ROOT) fs.lchownSync(p, uid, gid);
        fs.lutimesSync(p, mtime, mtime);
        if (xattrs) this.pending.set(real, { name: real, type: 'symlink', linkname: h.linkname ?? '', ...meta });
        return skip();
      }
      case 'link':
        this.hardlink(rel, h);
        return skip();
      case 'character-device':
      case 'block-device':
      case 'fifo': {
        const { real, st } = this.prepare(rel, h.name);
        this.remove(real, st);
        this.pending.set(real, { name: real, type: h.type, ...meta, devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0 });
        return skip();
      }
      default:
        // pax globals and GNU extensions are consumed by tar-stream; anything else carries no file.
        return skip();
    }
  }

  private directory(rel: string, name: string, m: EntryMeta): void {
    let real = '';
    if (rel !== '') {
      const p = this.prepare(rel, name);
      real = p.real;
      if (p.st && !p.st.isDirectory()) this.remove(real, p.st);
      if (!p.st || !p.st.isDirectory()) fs.mkdirSync(this.abs(real), 0o700);
      this.dirs.set(rel, real);
      this.dirs.set(real, real);
    }
    this.dirMeta.set(real, { mode: m.mode, uid: m.uid, gid: m.gid, mtime: m.mtime });
    this.stats.du += 4096;
    if (m.xattrs) this.dirXattrs.set(real, { ...this.dirXattrs.get(real), ...m.xattrs });
  }

  private file(rel: string, h: Headers, m: EntryMeta, stream: Readable, next: (err?: unknown) => void): void {
    const { real, st } = this.prepare(rel, h.name);
    this.remove(real, st);
    const size = h.size ?? 0;
    this.stats.files++;
    this.stats.bytes += size;
    this.stats.du += Math.ceil(size / 4096) * 4096;
    if (m.xattrs || size <= SMALL_FILE) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', next);
      stream.on('end', () => {
        const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
        // Files with xattrs go through GNU tar with their content (rare: file capabilities).
        if (m.xattrs) this.pending.set(real, { name: real, type: 'file', ...m, data });
        else this.writeAsync(real, data, m.mode, m.uid, m.gid, m.mtime);
        next();
      });
      return;
    }
    let fd: number;
    try {
      fd = fs.openSync(this.abs(real), CREATE_FLAGS, 0o600);
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
        if (IS_ROOT) fs.fchownSync(fd, m.uid, m.gid);
        fs.fchmodSync(fd, m.mode);
        fs.futimesSync(fd, m.mtime, m.mtime);
        fs.closeSync(fd);
      } catch (e) {
        return next(e);
      }
      next();
    });
  }

  private hardlink(rel: string, h: Headers): void {
    const target = this.relOf(h.linkname ?? '', this.what + ` (hardlink ${h.name})`);
    if (target === '' || target === rel) throw new ImageError(`${this.what}: hardlink ${JSON.stringify(h.name)} has an invalid target ${JSON.stringify(h.linkname)}`);
    const t = this.linkTarget(target, h.name);
    const { real, st } = this.prepare(rel, h.name);
    if (st) {
      if (st.ino === t.st.ino && st.dev === t.st.dev) return;
      this.remove(real, st);
    }
    fs.linkSync(this.abs(t.real), this.abs(real));
  }

  private whiteout(dir: string, name: string, entryName: string): void {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) {
      throw new ImageError(`${this.what}: invalid whiteout ${JSON.stringify(entryName)}`);
    }
    this.stats.whiteouts++;
    const rel = joinRel(this.ensureDir(dir, entryName), name);
    // A whiteout hides lower layers only; something this layer itself wrote there stays.
    if (this.written.has(rel)) return;
    this.remove(rel, this.lstat(rel));
    if (this.mode === 'apply') return;
    this.written.add(rel);
    this.hideLower(rel);
    this.pending.set(rel, { name: rel, type: 'character-device', mode: 0, uid: 0, gid: 0, devmajor: 0, devminor: 0 });
  }

  private opaque(dir: string, entryName: string): void {
    const real = this.ensureDir(dir, entryName);
    this.stats.opaque.push(real);
    if (this.mode === 'apply') {
      this.clearLower(real);
      return;
    }
    this.dirXattrs.set(real, { ...this.dirXattrs.get(real), [OPAQUE_XATTR]: Buffer.from('y') });
    this.hideLower();
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
export function unpackLayer(input: Readable, root: string, mode: UnpackMode, what: string, lower = new LayerStack()): Promise<UnpackStats> {
  patchPaxDecoding();
  // Required lazily: commands that never unpack should not pay for loading tar-stream.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const u = new Unpacker(fs.realpathSync(root), mode, what, mode === 'overlay' ? lower : undefined);
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
