// An overlay bundle's upper dir as an OCI layer tar: overlayfs whiteouts (0:0 character
// devices) become `.wh.NAME` entries, opaque dirs (trusted.overlay.opaque=y) get a
// `.wh..wh..opq` entry, overlayfs' own trusted.overlay.* xattrs are left out, every other
// xattr is kept byte for byte (read with getfattr: Node has no getxattr).
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ImageError } from '../digest';
import { walkTree } from '../tree';
import { tarHeader, tarPad, TarEntry } from '../tarwrite';

export interface UpperEntry {
  entry: TarEntry;
  /** A regular file's content, streamed from here. */
  file?: string;
  size: number;
}

function unescape(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString();
}

/** Every xattr under dir, by absolute path (one getfattr run). */
function readXattrs(dir: string): Map<string, Record<string, Buffer>> {
  const r = spawnSync('getfattr', ['-R', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', dir], { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.error) throw new ImageError(`cannot read xattrs of ${dir}: ${r.error.message} (getfattr, from the attr package, is needed)`);
  const out = new Map<string, Record<string, Buffer>>();
  for (const block of r.stdout.split('\n\n')) {
    const [head, ...lines] = block.trim().split('\n');
    if (!head?.startsWith('# file: ')) continue;
    const attrs: Record<string, Buffer> = {};
    for (const l of lines) {
      const eq = l.indexOf('=');
      if (eq > 0) attrs[l.slice(0, eq)] = Buffer.from(l.slice(eq + 3), 'hex');
    }
    out.set(unescape(head.slice(8)), attrs);
  }
  return out;
}

const major = (rdev: number) => ((rdev >> 8) & 0xfff) | ((rdev >>> 32) & ~0xfff);
const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);

/** The layer's entries, parents before children, names sorted. */
export function upperEntries(upper: string): UpperEntry[] {
  const xattrs = readXattrs(upper);
  const out: UpperEntry[] = [];
  const firstOf = new Map<number, string>();
  const all: { p: string; st: fs.Stats }[] = [];
  walkTree(upper, (p, st) => {
    all.push({ p, st });
    return st.isDirectory() ? p : undefined;
  });
  for (const { p, st } of all) {
    const rel = path.relative(upper, p);
    const x = xattrs.get(p) ?? {};
    const opaque = x['trusted.overlay.opaque']?.toString() === 'y';
    const kept = Object.fromEntries(Object.entries(x).filter(([k]) => !k.startsWith('trusted.overlay.')));
    const meta = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs) / 1000, ...(Object.keys(kept).length ? { xattrs: kept } : {}) };
    if (st.isCharacterDevice() && st.rdev === 0) {
      out.push({ entry: { name: path.join(path.dirname(rel), `.wh.${path.basename(rel)}`), type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: meta.mtime }, size: 0 });
    } else if (st.isDirectory()) {
      out.push({ entry: { name: rel + '/', type: 'directory', ...meta }, size: 0 });
      if (opaque) out.push({ entry: { name: path.join(rel, '.wh..wh..opq'), type: 'file', mode: 0o600, uid: 0, gid: 0, mtime: meta.mtime }, size: 0 });
    } else if (st.isFile()) {
      const first = st.nlink > 1 ? firstOf.get(st.ino) : undefined;
      if (first) out.push({ entry: { name: rel, type: 'link', linkname: first, ...meta }, size: 0 });
      else {
        if (st.nlink > 1) firstOf.set(st.ino, rel);
        out.push({ entry: { name: rel, type: 'file', ...meta }, file: p, size: st.size });
      }
    } else if (st.isSymbolicLink()) {
      out.push({ entry: { name: rel, type: 'symlink', linkname: fs.readlinkSync(p), ...meta }, size: 0 });
    } else if (st.isCharacterDevice() || st.isBlockDevice()) {
      out.push({ entry: { name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major(st.rdev), devminor: minor(st.rdev), ...meta }, size: 0 });
    } else if (st.isFIFO()) {
      out.push({ entry: { name: rel, type: 'fifo', ...meta }, size: 0 });
    }
    // Sockets have no place in a layer (tar and the image spec know none).
  }
  return out;
}

/** The tar of the entries as a stream of chunks; onBytes counts file content. */
export async function* layerTar(entries: UpperEntry[], onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  for (const e of entries) {
    yield tarHeader(e.entry, e.size);
    if (e.file) {
      let n = 0;
      for await (const c of fs.createReadStream(e.file, { highWaterMark: 1 << 20 })) {
        const b = c as Buffer;
        n += b.length;
        if (n > e.size) throw new ImageError(`${e.file} grew while it was being committed`);
        onBytes?.(b.length);
        yield b;
      }
      if (n < e.size) throw new ImageError(`${e.file} shrank while it was being committed`);
      yield tarPad(e.size);
    }
  }
  yield Buffer.alloc(1024);
}
