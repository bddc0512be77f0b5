// A minimal tar writer (ustar + pax). tar-stream's packer encodes pax values as UTF-8 text,
// which corrupts binary xattr values such as security.capability; these records carry raw bytes.
// Used for the batches handed to GNU tar (see entries.ts) and by the tests to build hostile
// layers byte for byte.

export interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  /** seconds since the epoch, may be fractional */
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer>;
  data?: Buffer;
  /** Extra pax records, raw (tests use them to write odd headers). */
  pax?: Record<string, Buffer | string>;
}

const TYPEFLAG: Record<TarEntry['type'], string> = {
  file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6',
};

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function octal(buf: Buffer, off: number, width: number, n: number): void {
  const s = Math.max(0, Math.floor(n)).toString(8).padStart(width - 1, '0').slice(-(width - 1));
  buf.write(s + '\0', off, width, 'ascii');
}

function header(name: string, typeflag: string, size: number, e: Partial<TarEntry>): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 99), 0, 100, 'utf8');
  octal(h, 100, 8, (e.mode ?? 0o644) & 0o7777);
  octal(h, 108, 8, Math.min(e.uid ?? 0, 0o7777777));
  octal(h, 116, 8, Math.min(e.gid ?? 0, 0o7777777));
  octal(h, 124, 12, size);
  octal(h, 136, 12, e.mtime ?? 0);
  h.write('        ', 148, 8, 'ascii');
  h.write(typeflag, 156, 1, 'ascii');
  if (e.linkname) h.write(e.linkname.slice(0, 99), 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  octal(h, 329, 8, e.devmajor ?? 0);
  octal(h, 337, 8, e.devminor ?? 0);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

function pad(n: number): Buffer {
  return Buffer.alloc((512 - (n % 512)) % 512);
}

export function tarEntry(e: TarEntry): Buffer {
  const data = e.type === 'file' ? e.data ?? Buffer.alloc(0) : Buffer.alloc(0);
  return Buffer.concat([tarHeader(e, data.length), data, pad(data.length)]);
}

/** The pax and ustar headers of an entry whose data (size bytes, then tarPad) the caller streams. */
export function tarHeader(e: TarEntry, size: number): Buffer {
  const recs: Buffer[] = [paxRecord('path', Buffer.from(e.name))];
  if (e.linkname) recs.push(paxRecord('linkpath', Buffer.from(e.linkname)));
  if (e.uid !== undefined) recs.push(paxRecord('uid', Buffer.from(String(e.uid))));
  if (e.gid !== undefined) recs.push(paxRecord('gid', Buffer.from(String(e.gid))));
  if (e.mtime !== undefined) recs.push(paxRecord('mtime', Buffer.from(String(e.mtime))));
  for (const [k, v] of Object.entries(e.xattrs ?? {})) recs.push(paxRecord(`SCHILY.xattr.${k}`, v));
  for (const [k, v] of Object.entries(e.pax ?? {})) recs.push(paxRecord(k, Buffer.isBuffer(v) ? v : Buffer.from(v)));
  const pax = Buffer.concat(recs);
  return Buffer.concat([header('PaxHeader', 'x', pax.length, {}), pax, pad(pax.length), header(e.name, TYPEFLAG[e.type], size, e)]);
}

export const tarPad = pad;

export function tarArchive(entries: TarEntry[]): Buffer {
  return Buffer.concat([...entries.map(tarEntry), Buffer.alloc(1024)]);
}
