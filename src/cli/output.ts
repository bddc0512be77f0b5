// Synchronous writes to stdout: no stream setup, and no O_NONBLOCK set on a descriptor the
// container may share with us.
import * as fs from 'fs';

export function out(text: string): void {
  const buf = Buffer.from(text);
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
