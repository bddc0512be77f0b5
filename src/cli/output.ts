// Synchronous writes to stdout: no stream setup, and no O_NONBLOCK set on a descriptor the
// container may share with us.
import * as fs from 'fs';

// Where output goes instead of the fds, for an in-process caller (imageMain); unset: the fds.
export interface Sink {
  out: (s: string) => void;
  err: (s: string) => void;
}
let sink: Sink | undefined;

export function redirect(to: Sink | undefined): void {
  sink = to;
}

// A line for the person at the terminal that is not an error (progress, a fallback taken).
export function note(text: string): void {
  if (sink) sink.err(text);
  else fs.writeSync(2, text);
}

export function out(text: string): void {
  if (sink) return sink.out(text);
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
