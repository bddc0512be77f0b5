// The signatures an image came with, kept in the store beside it (signatures/<manifest hex>.json,
// keyed by the manifest the reference named, as they sign it), so inspect can show and judge
// them without the registry. Written after the image is published; prune drops the file with the
// last name that reaches its manifest.
import * as fs from 'fs';
import { digestHex } from '../digest';
import { atomicWrite, Store } from '../store';
import type { Signature } from './fetch';

interface StoredSignature {
  kind: Signature['kind'];
  source: string;
  /** simple: the signature; sigstore: the payload (base64) */
  data: string;
  signature?: string;
}

export function signaturesFile(store: Store, manifestDigest: string): string {
  return store.dir('signatures', `${digestHex(manifestDigest)}.json`);
}

export function saveSignatures(store: Store, manifestDigest: string, sigs: Signature[]): void {
  if (sigs.length === 0) return;
  const rows: StoredSignature[] = sigs.map((s) => (s.kind === 'simple'
    ? { kind: s.kind, source: s.source, data: s.bytes.toString('base64') }
    : { kind: s.kind, source: s.source, data: s.payload.toString('base64'), signature: s.signature }));
  fs.mkdirSync(store.dir('signatures'), { recursive: true, mode: 0o700 });
  atomicWrite(signaturesFile(store, manifestDigest), JSON.stringify(rows, null, 1) + '\n', store.dir('tmp'));
}

export function loadSignatures(store: Store, manifestDigest: string): Signature[] {
  let rows: StoredSignature[];
  try {
    rows = JSON.parse(fs.readFileSync(signaturesFile(store, manifestDigest), 'utf8'));
  } catch {
    return [];
  }
  return rows.map((r) => (r.kind === 'simple'
    ? { kind: 'simple', source: r.source, bytes: Buffer.from(r.data, 'base64') }
    : { kind: 'sigstore', source: r.source, payload: Buffer.from(r.data, 'base64'), signature: r.signature ?? '' }));
}
