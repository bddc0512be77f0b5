// Key-based sigstore signatures as cosign (and skopeo --sign-by-sigstore-private-key) attach
// them: the claim is a blob of media type simplesigning, its signature (base64, ASN.1 DER for
// ECDSA over the SHA-256 of the blob) in the layer's dev.cosignproject.cosign/signature
// annotation. Verified with node's crypto against the policy's public key (PEM).
import { createPublicKey, KeyObject, verify } from 'crypto';
import { ImageError } from '../digest';

export const SIMPLESIGNING_MT = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';

export function loadSigstoreKey(key: { data: Buffer; from: string }): KeyObject {
  try {
    return createPublicKey({ key: key.data, format: 'pem' });
  } catch (e) {
    throw new ImageError(`sigstore key ${key.from}: not a PEM public key (${(e as Error).message})`);
  }
}

/** True when sig (base64) is key's signature of payload. */
export function sigstoreVerifies(key: KeyObject, payload: Buffer, base64Sig: string): boolean {
  const sig = Buffer.from(base64Sig, 'base64');
  if (sig.length === 0) return false;
  try {
    // Ed25519 hashes internally; ECDSA and RSA keys sign the SHA-256 of the payload.
    return verify(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', payload, key, sig);
  } catch {
    return false;
  }
}
