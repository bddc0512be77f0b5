// The JSON both signature kinds sign (containers-signature(5)): what image (the manifest digest)
// under what name (the docker-reference). Parsed as strictly as containers/image does: the
// critical section has exactly its three fields, so a signer cannot hide a claim in it.
export interface SignedClaim {
  manifestDigest: string;
  dockerReference: string;
}

export const SIMPLE_SIGNING_TYPE = 'atomic container signature';
export const COSIGN_TYPE = 'cosign container image signature';

function exact(o: unknown, keys: string[]): o is Record<string, unknown> {
  if (!o || typeof o !== 'object' || Array.isArray(o)) return false;
  const have = Object.keys(o);
  return have.length === keys.length && keys.every((k) => have.includes(k));
}

/** The claim, or the reason the payload is not a well-formed one of the given type. */
export function parseClaim(bytes: Buffer, type: string): SignedClaim | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    return 'the signed payload is not JSON';
  }
  if (!doc || typeof doc !== 'object' || !('critical' in doc)) return 'the signed payload has no "critical" section';
  const c = (doc as { critical: unknown }).critical;
  if (!exact(c, ['type', 'image', 'identity'])) return 'the signed payload\'s "critical" section is malformed';
  if (c.type !== type) return `the signed payload is of type ${JSON.stringify(c.type)}, not ${JSON.stringify(type)}`;
  const image = c.image;
  const identity = c.identity;
  if (!exact(image, ['docker-manifest-digest']) || typeof image['docker-manifest-digest'] !== 'string') return 'the signed payload names no manifest digest';
  if (!exact(identity, ['docker-reference']) || typeof identity['docker-reference'] !== 'string') return 'the signed payload names no docker-reference';
  return { manifestDigest: image['docker-manifest-digest'], dockerReference: identity['docker-reference'] };
}
