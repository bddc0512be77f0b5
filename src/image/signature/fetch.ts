// The signatures an image on a registry has, where containers/image looks for them: simple
// signatures in the lookaside storage registries.d names (signature-1, -2, … until one is
// missing), sigstore signatures in the `sha256-<hex>.sig` attachment when registries.d enables
// use-sigstore-attachments.
import * as fs from 'fs';
import { fileURLToPath } from 'url';
import { digestHex, ImageError } from '../digest';
import { verifyBytes } from '../ingest';
import type { Descriptor } from '../media';
import type { DockerRef } from '../policy/reference';
import type { RegistryClient } from '../registry';
import { lookasideBase, RegistriesD, usesSigstoreAttachments } from './registriesd';
import { SIGNATURE_ANNOTATION, SIMPLESIGNING_MT } from './sigstore';

export type Signature =
  | { kind: 'simple'; source: string; bytes: Buffer }
  | { kind: 'sigstore'; source: string; payload: Buffer; signature: string };

const MAX_SIGNATURES = 128;
const MAX_SIGNATURE_BYTES = 4 << 20;

async function readLookaside(url: string): Promise<Buffer | undefined> {
  const u = new URL(url);
  if (u.protocol === 'file:') {
    try {
      const f = fileURLToPath(u);
      if (fs.statSync(f).size > MAX_SIGNATURE_BYTES) throw new ImageError(`signature ${url} is too large`);
      return fs.readFileSync(f);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e instanceof ImageError ? e : new ImageError(`cannot read signature ${url}: ${(e as Error).message}`);
    }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ImageError(`lookaside ${url}: unsupported URL scheme ${u.protocol}`);
  let r: Response;
  try {
    r = await fetch(u, { redirect: 'follow', signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new ImageError(`cannot fetch signature ${url}: ${(e as Error).message}`);
  }
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new ImageError(`signature ${url}: the server answered ${r.status}`);
  const b = Buffer.from(await r.arrayBuffer());
  if (b.length > MAX_SIGNATURE_BYTES) throw new ImageError(`signature ${url} is too large`);
  return b;
}

export async function lookasideSignatures(cfg: RegistriesD, ref: DockerRef, manifestDigest: string): Promise<Signature[]> {
  const base = `${lookasideBase(cfg, ref)}@sha256=${digestHex(manifestDigest)}`;
  const out: Signature[] = [];
  for (let i = 1; i <= MAX_SIGNATURES; i++) {
    const url = `${base}/signature-${i}`;
    const bytes = await readLookaside(url);
    if (!bytes) break;
    out.push({ kind: 'simple', source: url, bytes });
  }
  return out;
}

export async function attachedSignatures(client: RegistryClient, manifestDigest: string): Promise<Signature[]> {
  const tag = `sha256-${digestHex(manifestDigest)}.sig`;
  const m = await client.findManifest(tag, `signatures ${tag}`);
  if (!m) return [];
  let doc: { layers?: (Descriptor & { annotations?: Record<string, string> })[] };
  try {
    doc = JSON.parse(m.bytes.toString());
  } catch {
    throw new ImageError(`signatures ${tag}: the attachment manifest is not JSON`);
  }
  const out: Signature[] = [];
  for (const l of (doc.layers ?? []).slice(0, MAX_SIGNATURES)) {
    if (l.mediaType !== SIMPLESIGNING_MT || l.size > MAX_SIGNATURE_BYTES) continue;
    const payload = await client.getSmallBlob(l, `signature payload ${l.digest}`);
    verifyBytes(payload, l, `signatures ${tag}`);
    out.push({ kind: 'sigstore', source: `${client.ref.registry}/${client.ref.repository}:${tag} ${l.digest}`, payload, signature: l.annotations?.[SIGNATURE_ANNOTATION] ?? '' });
  }
  return out;
}

/** Every signature of the image: lookaside ones, then the attached sigstore ones. */
export async function dockerSignatures(client: RegistryClient, cfg: RegistriesD, ref: DockerRef, manifestDigest: string): Promise<Signature[]> {
  const simple = await lookasideSignatures(cfg, ref, manifestDigest);
  const attached = usesSigstoreAttachments(cfg, ref) ? await attachedSignatures(client, manifestDigest) : [];
  return [...simple, ...attached];
}
