// signedIdentity: does the identity a signature claims (its docker-reference) fit the image as it
// was asked for? The rules of containers-policy.json(5), as containers/image applies them.
import type { IdentityRule } from './policy';
import { DockerRef, isNameOnly, parseDockerRef, refString } from './reference';

/** The name equals the prefix or goes on below it (`/`); then the prefix is replaced. */
function remap(intended: DockerRef, prefix: string, signedPrefix: string): DockerRef {
  const n = intended.name;
  if (!(n === prefix || (n.startsWith(prefix) && n.charAt(prefix.length) === '/'))) return intended;
  try {
    return parseDockerRef(signedPrefix + refString(intended).slice(prefix.length));
  } catch {
    return intended;
  }
}

function repoDigestOrExact(intended: DockerRef, signed: DockerRef): boolean {
  if (isNameOnly(signed)) return false;
  if (intended.tag) return refString(signed) === refString(intended);
  if (intended.digest) return signed.name === intended.name; // the digest itself is checked against the manifest
  return false;
}

/**
 * intended: the reference the image was pulled by (undefined when its transport gives none, as
 * archives and layouts do: only exactReference and exactRepository can accept those).
 */
export function identityMatches(rule: IdentityRule, intended: DockerRef | undefined, signedIdentity: string): boolean {
  let signed: DockerRef;
  try {
    signed = parseDockerRef(signedIdentity);
  } catch {
    return false;
  }
  switch (rule.type) {
    case 'exactReference':
      return !isNameOnly(signed) && refString(signed) === refString(parseDockerRef(rule.dockerReference));
    case 'exactRepository':
      return signed.name === parseDockerRef(rule.dockerRepository).name;
    default:
      break;
  }
  if (!intended) return false;
  switch (rule.type) {
    case 'matchExact':
      return !isNameOnly(intended) && !isNameOnly(signed) && refString(signed) === refString(intended);
    case 'matchRepository':
      return signed.name === intended.name;
    case 'matchRepoDigestOrExact':
      return repoDigestOrExact(intended, signed);
    case 'remapIdentity':
      return repoDigestOrExact(remap(intended, rule.prefix, rule.signedPrefix), signed);
  }
}

export function describeRule(rule: IdentityRule): string {
  switch (rule.type) {
    case 'exactReference': return `exactReference ${rule.dockerReference}`;
    case 'exactRepository': return `exactRepository ${rule.dockerRepository}`;
    case 'remapIdentity': return `remapIdentity ${rule.prefix} -> ${rule.signedPrefix}`;
    default: return rule.type;
  }
}
