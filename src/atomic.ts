// The one way Skiff replaces a file: write a temporary beside it, then rename over it, so a
// reader (or a kill -9) sees the old file or the new one, never half of one.
import * as fs from 'fs';
import * as path from 'path';

export interface AtomicOptions {
  mode?: number;
  // fsync before the rename: for what must survive a power cut (the image store), not for
  // state on tmpfs.
  durable?: boolean;
  // where the temporary goes (same filesystem as `file`); its directory by default
  tmpDir?: string;
}

// Removes a file that may be gone already: unlink, not rmSync, whose first call costs Bun five
// times as much (its option handling), on every start and delete.
export function removeFile(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

// pid and a counter name the temporary uniquely (no crypto on every command's start path)
let seq = 0;

export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicOptions = {}): void {
  const abs = path.resolve(file);
  const tmp = path.join(opts.tmpDir ?? path.dirname(abs), `.${path.basename(abs)}.${process.pid}.${++seq}`);
  const fd = fs.openSync(tmp, 'w', opts.mode ?? 0o644);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (opts.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, abs);
  } catch (e) {
    removeFile(tmp);
    throw e;
  }
}
