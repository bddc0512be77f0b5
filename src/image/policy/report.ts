// What inspect says about an image's signatures: each one, with what every requirement of the
// policy made of it (key, identity, accepted or why not), and whether the policy accepts the
// image, judged as pull or import judged it (same transport, scope and reference).
import type { RefRecord, Store } from '../store';
import { loadSignatures } from '../signature/stored';
import { evaluatePolicy } from './evaluate';
import type { Policy } from './policy';
import { storedPolicyImage } from './sources';

export interface SignatureReport {
  kind: 'simple' | 'sigstore';
  source: string;
  verdicts: { requirement: number; type: string; accepted: boolean; key?: string; identity?: string; manifestDigest?: string; reason?: string }[];
}

export interface TrustReport {
  signatures: SignatureReport[];
  policy: { file?: string; scope?: string; accepted?: boolean; reason?: string; error?: string };
}

export async function judgeStored(store: Store, rec: RefRecord, policyOf: () => Policy): Promise<TrustReport> {
  const sigs = loadSignatures(store, rec.index ?? rec.digest);
  const signatures: SignatureReport[] = sigs.map((s) => ({ kind: s.kind, source: s.source, verdicts: [] }));
  const img = storedPolicyImage(store, rec);
  if (!img) return { signatures, policy: { error: 'the image was stored before Skiff recorded where images come from: pull or import it again to judge it' } };
  let policy: Policy;
  try {
    policy = policyOf();
  } catch (e) {
    return { signatures, policy: { error: (e as Error).message } };
  }
  let d;
  try {
    d = await evaluatePolicy(policy, img, true);
  } catch (e) {
    return { signatures, policy: { file: policy.file, error: (e as Error).message } };
  }
  d.requirements.forEach((r, i) => {
    for (const v of r.signatures ?? []) {
      const row = signatures.find((s) => s.source === v.source && s.kind === v.kind);
      row?.verdicts.push({ requirement: i, type: r.type, accepted: v.accepted, key: v.key, identity: v.identity, manifestDigest: v.manifestDigest, reason: v.reason });
    }
  });
  return { signatures, policy: { file: d.policy, scope: d.scope, accepted: d.accepted, ...(d.reason ? { reason: d.reason } : {}) } };
}
