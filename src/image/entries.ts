// Tar entries as read from a layer: their names, tar-stream's pax decoding, and the batch of
// entries Node cannot create (device nodes, fifos, xattrs: no mknod or setxattr) that GNU tar,
// always present on Debian, creates for us.
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ImageError } from './digest';
import { TarEntry, tarArchive } from './tarwrite';

export const IS_ROOT = process.getuid ? process.getuid() === 0 : false;

let paxPatched = false;
/**
 * tar-stream decodes pax values as UTF-8 text, which corrupts binary xattr values. Decode xattr
 * values as latin1 instead (one char per byte) so they can be turned back into the exact bytes.
 */
export function patchPaxDecoding(): void {
  if (paxPatched) return;
  paxPatched = true;
  // tar-stream's exports map hides headers.js. A literal path (dist/src/image -> the checkout's
  // node_modules) is the very module tar-stream's extractor requires, in Node's module cache and
  // in the compiled bin/skiff's bundle alike; a path computed at run time would load a second
  // copy from disk there, which the bundled extractor never calls.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const headers = require('../../../node_modules/tar-stream/headers.js');
  headers.decodePax = function decodePax(buf: Buffer): Record<string, string> {
    const result: Record<string, string> = {};
    while (buf.length) {
      let i = 0;
      while (i < buf.length && buf[i] !== 32) i++;
      const len = parseInt(buf.subarray(0, i).toString(), 10);
      if (!len) return result;
      const rec = buf.subarray(i + 1, len - 1);
      const eq = rec.indexOf(61);
      if (eq === -1) return result;
      const key = rec.subarray(0, eq).toString();
      result[key] = rec.subarray(eq + 1).toString(key.startsWith('SCHILY.xattr.') ? 'latin1' : 'utf8');
      buf = buf.subarray(len);
    }
    return result;
  };
}

/** Cleans a tar name into a path relative to the root; '' is the root itself. Refuses escapes. */
export function cleanEntryName(name: string, what: string): string {
  if (name.includes('\0')) throw new ImageError(`${what}: entry name contains a NUL byte`);
  const n = path.posix.normalize('/' + name).slice(1).replace(/\/+$/, '');
  // normalize('/' + x) can never climb above '/', so check the raw components for '..'.
  const parts = name.split('/');
  let depth = 0;
  for (const p of parts) {
    if (p === '..') depth--;
    else if (p !== '' && p !== '.') depth++;
    if (depth < 0) throw new ImageError(`${what}: entry ${JSON.stringify(name)} points outside the layer (refused)`);
  }
  return n;
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

export function runTar(root: string, entries: TarEntry[], what: string): void {
  const args = ['-x', '-f', '-', '-C', root, '--numeric-owner', '--no-recursion', '--xattrs', '--xattrs-include=*'];
  if (IS_ROOT) args.push('--same-owner', '--same-permissions');
  const r = spawnSync('tar', args, { input: tarArchive(entries), stdio: ['pipe', 'ignore', 'pipe'], maxBuffer: 1 << 20 });
  if (r.error) throw new ImageError(`${what}: cannot run tar to create device nodes and xattrs: ${r.error.message}`);
  if (r.status !== 0) {
    const msg = String(r.stderr).trim().split('\n').slice(0, 3).join('; ');
    throw new ImageError(`${what}: creating device nodes, whiteouts or xattrs failed: ${msg}`);
  }
}
