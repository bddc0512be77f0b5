// Image references: parsing registry references and finding local images by name or digest.
import { ImageError, isDigest } from './digest';
import type { RefRecord, Store } from './store';

export interface RegistryRef {
  /** host[:port] as written, docker.io for Docker Hub */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPO_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

export function parseRegistryRef(s: string): RegistryRef {
  let rest = s.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new ImageError(`invalid reference ${JSON.stringify(s)}: bad digest`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw new ImageError(`invalid reference ${JSON.stringify(s)}: bad tag`);
  }
  let registry = 'docker.io';
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost' || /[A-Z]/.test(first))) {
    registry = first;
    rest = rest.slice(slash + 1);
  }
  if (registry === 'docker.io' && !rest.includes('/')) rest = 'library/' + rest;
  if (!REPO_RE.test(rest)) throw new ImageError(`invalid reference ${JSON.stringify(s)}: bad repository name`);
  if (!tag && !digest) tag = 'latest';
  return { registry, repository: rest, tag, digest };
}

/** The name an image is stored under: what the user wrote, with ':latest' when no tag is given. */
export function normalizeName(s: string): string {
  const r = s.trim();
  if (!r) throw new ImageError('empty image name');
  if (/\s/.test(r)) throw new ImageError(`invalid image name ${JSON.stringify(s)}`);
  const lastSlash = r.lastIndexOf('/');
  if (r.includes('@') || r.lastIndexOf(':') > lastSlash) return r;
  return r + ':latest';
}

/** Finds a stored image by name, full digest or a unique digest prefix (of 6+ hex digits). */
export function findImage(store: Store, s: string): RefRecord {
  const byName = store.getRef(normalizeName(s));
  if (byName) return byName;
  const refs = store.listRefs();
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  if (/^[a-f0-9]{6,64}$/.test(hex)) {
    const hits = refs.filter((r) => r.digest.slice(7).startsWith(hex));
    const digests = new Set(hits.map((h) => h.digest));
    if (digests.size === 1) return { ...hits[0], name: hits.length === 1 ? hits[0].name : hits[0].digest };
    if (digests.size > 1) throw new ImageError(`image ${s}: ambiguous digest prefix`);
  }
  throw new ImageError(`image ${s}: no such image in ${store.root}`);
}
