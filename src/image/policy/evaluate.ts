// Deciding whether a policy accepts an image: every requirement of the scope that applies must
// accept it (containers-policy.json(5)); signedBy and sigstoreSigned accept when at least one
// signature of their kind is by a trusted key, for this very manifest, under an identity the
// signedIdentity rule accepts.
import { createHash, getHashes } from 'crypto';
import { ImageError } from '../digest';
import { GpgVerifier } from '../signature/gpg';
import { COSIGN_TYPE, parseClaim, SIMPLE_SIGNING_TYPE, SignedClaim } from '../signature/payload';
import { loadSigstoreKey, sigstoreVerifies } from '../signature/sigstore';
import type { Signature } from '../signature/fetch';
import { describeRule, identityMatches } from './identity';
import { Policy, Requirement, requirementsFor, Transport } from './policy';
import { DockerRef, refString } from './reference';

export interface PolicyImage {
  /** How messages name the image. */
  label: string;
  transport: Transport;
  /** The scope the transport gives the image, and its namespaces, most specific first. */
  identity: string;
  namespaces: string[];
  /** The reference it was asked for by (docker transport); none for archives and layouts. */
  intended?: DockerRef;
  manifestBytes: Buffer;
  /** Fetched only when a requirement needs them. */
  signatures: () => Promise<Signature[]>;
  /** Where signatures were looked for, for "no signature found". */
  lookedIn: string;
}

export interface SignatureVerdict {
  source: string;
  kind: Signature['kind'];
  accepted: boolean;
  /** The signing key (fingerprint, or the key file for sigstore), when the signature verified. */
  key?: string;
  identity?: string;
  manifestDigest?: string;
  reason?: string;
}

export interface RequirementVerdict {
  type: Requirement['type'];
  accepted: boolean;
  reason?: string;
  signatures?: SignatureVerdict[];
}

export interface Decision {
  accepted: boolean;
  policy: string;
  scope: string;
  /** The first refusal, in one line. */
  reason?: string;
  requirements: RequirementVerdict[];
}

function digestOf(bytes: Buffer, digest: string): string | undefined {
  const alg = digest.slice(0, digest.indexOf(':'));
  if (!getHashes().includes(alg)) return undefined;
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`;
}

/** Checks what a verified payload claims against the image; a reason when it does not fit. */
function checkClaim(claim: SignedClaim | string, req: Extract<Requirement, { signedIdentity: unknown }>, img: PolicyImage): string | undefined {
  if (typeof claim === 'string') return claim;
  if (digestOf(img.manifestBytes, claim.manifestDigest) !== claim.manifestDigest) {
    return `signed manifest ${claim.manifestDigest}, not this image's ${digestOf(img.manifestBytes, 'sha256:')}`;
  }
  if (!identityMatches(req.signedIdentity, img.intended, claim.dockerReference)) {
    return `signed for identity ${claim.dockerReference}, which ${describeRule(req.signedIdentity)} does not accept for ${img.intended ? refString(img.intended) : `an image from ${img.transport}`}`;
  }
  return undefined;
}

function judgeSimple(req: Extract<Requirement, { type: 'signedBy' }>, sigs: Signature[], img: PolicyImage): SignatureVerdict[] {
  const v = new GpgVerifier(req.keys);
  try {
    return sigs.map((s) => {
      if (s.kind !== 'simple') throw new Error('unreachable');
      const r = v.verify(s.bytes);
      if (!r.ok) return { source: s.source, kind: s.kind, accepted: false, reason: r.reason };
      const claim = parseClaim(r.payload, SIMPLE_SIGNING_TYPE);
      const reason = checkClaim(claim, req, img);
      const c = typeof claim === 'string' ? undefined : claim;
      return { source: s.source, kind: s.kind, accepted: !reason, key: r.fingerprint, identity: c?.dockerReference, manifestDigest: c?.manifestDigest, reason: reason && `by key ${r.fingerprint}: ${reason}` };
    });
  } finally {
    v.close();
  }
}

function judgeSigstore(req: Extract<Requirement, { type: 'sigstoreSigned' }>, sigs: Signature[], img: PolicyImage): SignatureVerdict[] {
  const key = loadSigstoreKey(req.key);
  return sigs.map((s) => {
    if (s.kind !== 'sigstore') throw new Error('unreachable');
    if (!sigstoreVerifies(key, s.payload, s.signature)) {
      return { source: s.source, kind: s.kind, accepted: false, reason: `does not verify with the key ${req.key.from} (made by another key, or altered)` };
    }
    const claim = parseClaim(s.payload, COSIGN_TYPE);
    const reason = checkClaim(claim, req, img);
    const c = typeof claim === 'string' ? undefined : claim;
    return { source: s.source, kind: s.kind, accepted: !reason, key: req.key.from, identity: c?.dockerReference, manifestDigest: c?.manifestDigest, reason: reason && `by key ${req.key.from}: ${reason}` };
  });
}

async function judge(req: Requirement, img: PolicyImage): Promise<RequirementVerdict> {
  if (req.type === 'insecureAcceptAnything') return { type: req.type, accepted: true };
  if (req.type === 'reject') return { type: req.type, accepted: false, reason: 'the policy rejects every image here (reject)' };
  const kind = req.type === 'signedBy' ? 'simple' : 'sigstore';
  const sigs = (await img.signatures()).filter((s) => s.kind === kind);
  if (sigs.length === 0) {
    const keys = req.type === 'signedBy' ? req.keys.map((k) => k.from).join(', ') : req.key.from;
    const what = req.type === 'signedBy' ? 'simple signature (signedBy' : 'sigstore signature (sigstoreSigned';
    return { type: req.type, accepted: false, reason: `no ${what} ${keys}) found; looked in ${img.lookedIn}`, signatures: [] };
  }
  const verdicts = req.type === 'signedBy' ? judgeSimple(req, sigs, img) : judgeSigstore(req, sigs, img);
  if (verdicts.some((v) => v.accepted)) return { type: req.type, accepted: true, signatures: verdicts };
  const reason = verdicts.length === 1 ? `its signature ${verdicts[0].source} is not accepted: ${verdicts[0].reason}`
    : `none of its ${verdicts.length} signatures is accepted: ${verdicts.map((v, i) => `${i + 1}) ${v.reason}`).join('; ')}`;
  return { type: req.type, accepted: false, reason, signatures: verdicts };
}

/** all: judge every requirement (for inspect) instead of stopping at the first refusal. */
export async function evaluatePolicy(policy: Policy, img: PolicyImage, all = false): Promise<Decision> {
  const { scope, reqs } = requirementsFor(policy, img.transport, img.identity, img.namespaces);
  const d: Decision = { accepted: true, policy: policy.file, scope, requirements: [] };
  for (const req of reqs) {
    const v = await judge(req, img);
    d.requirements.push(v);
    if (!v.accepted && d.accepted) {
      d.accepted = false;
      d.reason = v.reason;
      if (!all) break;
    }
  }
  return d;
}

/** Throws the refusal as one line: the image, the policy and scope, and why. */
export async function enforcePolicy(policy: Policy, img: PolicyImage): Promise<void> {
  const d = await evaluatePolicy(policy, img);
  if (!d.accepted) throw new ImageError(`${img.label}: refused by policy ${policy.file} (${d.scope}): ${d.reason}`);
}
