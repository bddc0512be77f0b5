// Docker references in the fully expanded form containers-policy.json(5) speaks: `host/repo`
// names (docker.io/library/busybox, never busybox), with a tag, a digest, both, or neither
// ("name only", which the identity rules treat apart).
import { ImageError } from '../digest';
import { parseRegistryRef } from '../refs';

export interface DockerRef {
  /** host[:port]/repository */
  name: string;
  tag?: string;
  digest?: string;
}

/** Parses a reference as Docker normalizes it (no host: docker.io, one component: library/). */
export function parseDockerRef(s: string): DockerRef {
  const r = parseRegistryRef(s);
  const at = s.indexOf('@');
  const beforeDigest = at >= 0 ? s.slice(0, at) : s;
  const tagged = beforeDigest.lastIndexOf(':') > beforeDigest.lastIndexOf('/');
  return { name: `${r.registry}/${r.repository}`, ...(tagged ? { tag: r.tag } : {}), ...(r.digest ? { digest: r.digest } : {}) };
}

export function refString(r: DockerRef): string {
  return r.name + (r.tag ? `:${r.tag}` : '') + (r.digest ? `@${r.digest}` : '');
}

export const isNameOnly = (r: DockerRef): boolean => !r.tag && !r.digest;

/** The registry part of a name (the first component). */
export const hostOf = (name: string): string => name.slice(0, name.indexOf('/'));

/**
 * What the docker transport looks a policy or registries.d scope up by, most specific first
 * after the reference itself: the repository, each parent namespace up to the host, then the
 * host's wildcard domains (`*.example.com`, the port left out).
 */
export function dockerNamespaces(r: DockerRef): string[] {
  const out: string[] = [];
  let name = r.name;
  out.push(name);
  for (let i = name.lastIndexOf('/'); i > 0; i = name.lastIndexOf('/')) {
    name = name.slice(0, i);
    out.push(name);
  }
  let host = name.replace(/:\d+$/, '');
  for (let dot = host.indexOf('.'); dot >= 0; dot = host.indexOf('.')) {
    host = host.slice(dot + 1);
    out.push(`*.${host}`);
  }
  return out;
}

/** A policy's host[:port], namespace or repository prefix (remapIdentity): no tag, no digest. */
export function checkPrefix(s: unknown, what: string): string {
  if (typeof s !== 'string' || !s) throw new ImageError(`${what} must be a non-empty string`);
  if (/^[a-zA-Z0-9.-]+(:\d+)?$/.test(s)) return s;
  let r: DockerRef;
  try {
    r = parseDockerRef(s);
  } catch (e) {
    throw new ImageError(`${what} ${JSON.stringify(s)} is not a host, namespace or repository: ${(e as Error).message}`);
  }
  if (!isNameOnly(r) || r.name !== s) throw new ImageError(`${what} ${JSON.stringify(s)} must be a fully expanded host, namespace or repository (no tag or digest)`);
  return s;
}
