// Layer decompression as Node streams. gzip comes from zlib (runs on the libuv pool, in parallel
// with our unpacking on the main thread). Node 20's zlib has no zstd: fzstd is a pure-JS decoder.
import { Transform, TransformCallback, PassThrough } from 'stream';
import * as zlib from 'zlib';
import type { Compression } from './media';

class ZstdDecompress extends Transform {
  private d: import('fzstd').Decompress;
  private out: Uint8Array[] = [];
  constructor() {
    super();
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const fzstd = require('fzstd') as typeof import('fzstd');
    this.d = new fzstd.Decompress((chunk) => {
      this.out.push(chunk);
    });
  }
  private drain(): void {
    for (const c of this.out) this.push(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
    this.out = [];
  }
  _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.drain();
      cb();
    } catch (e) {
      cb(new Error(`zstd: ${(e as Error).message}`));
    }
  }
  _flush(cb: TransformCallback): void {
    try {
      this.d.push(new Uint8Array(0), true);
      this.drain();
      cb();
    } catch (e) {
      cb(new Error(`zstd: truncated or corrupt stream (${(e as Error).message})`));
    }
  }
}

export function decompressor(c: Compression): Transform {
  switch (c) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: 256 * 1024 });
    case 'zstd':
      return new ZstdDecompress();
    default:
      return new PassThrough({ highWaterMark: 256 * 1024 });
  }
}
