// Content digests. Only sha256 is accepted: it is what every registry and layout we read uses,
// and refusing the rest keeps a blob's file name and its verification one and the same thing.
import { createHash, Hash } from 'crypto';
import { Transform, TransformCallback } from 'stream';
import { SkiffError } from '../errors';

const DIGEST_RE = /^sha256:([a-f0-9]{64})$/;

// The image store's errors are Skiff's: kind 'image' (a bad or hostile image, a registry's
// refusal), exit code 1.
export class ImageError extends SkiffError {
  constructor(message: string) {
    super('image', message);
    this.name = 'ImageError';
  }
}

/** Returns the hex part of a sha256 digest; throws on anything else (which also rules out path tricks). */
export function digestHex(digest: string): string {
  const m = DIGEST_RE.exec(String(digest));
  if (!m) {
    if (/^[a-z0-9]+([+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(String(digest))) {
      throw new ImageError(`unsupported digest algorithm in ${digest}: only sha256 is supported`);
    }
    throw new ImageError(`invalid digest ${JSON.stringify(digest)}`);
  }
  return m[1];
}

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

export function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

export function shortDigest(d: string): string {
  return d.startsWith('sha256:') ? d.slice(7, 19) : d;
}

/** A pass-through stream that hashes and counts what flows through it. */
export class Hasher extends Transform {
  readonly hash: Hash;
  bytes = 0;
  constructor(hash?: Hash) {
    super();
    this.hash = hash ?? createHash('sha256');
  }
  _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
  digest(): string {
    return 'sha256:' + this.hash.digest('hex');
  }
}
