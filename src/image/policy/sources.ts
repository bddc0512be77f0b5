// How each transport presents an image to the policy: its scope identity and namespaces (as
// containers/image's transports define them), the reference signatures are matched against, and
// where its signatures come from.
import * as fs from 'fs';
import * as path from 'path';
import { digestHex } from '../digest';
import type { RegistryClient } from '../registry';
import type { RefRecord, Store } from '../store';
import { loadSignatures } from '../signature/stored';
import { dockerSignatures, Signature } from '../signature/fetch';
import { lookasideBase, RegistriesD, usesSigstoreAttachments } from '../signature/registriesd';
import type { PolicyImage } from './evaluate';
import type { Transport } from './policy';
import { DockerRef, dockerNamespaces, isNameOnly, parseDockerRef, refString } from './reference';

function once<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= f());
}

/** An image on a registry, asked for by reference (a bare name means :latest, as in docker://). */
export function dockerPolicyImage(reference: string, label: string, client: RegistryClient, cfg: RegistriesD, manifest: { bytes: Buffer; digest: string }): PolicyImage {
  const parsed = parseDockerRef(reference);
  const intended: DockerRef = isNameOnly(parsed) ? { ...parsed, tag: 'latest' } : parsed;
  const hex = digestHex(manifest.digest);
  const attach = usesSigstoreAttachments(cfg, intended);
  return {
    label, transport: 'docker', identity: refString(intended), namespaces: dockerNamespaces(intended), intended,
    manifestBytes: manifest.bytes,
    signatures: once(() => dockerSignatures(client, cfg, intended, manifest.digest)),
    lookedIn: `${lookasideBase(cfg, intended)}@sha256=${hex}/signature-1` +
      (attach ? ` and the attachment sha256-${hex}.sig` : ` (sigstore attachments are not enabled for ${intended.name} in ${cfg.dir})`),
  };
}

/** Parent directories of an absolute path, the path itself first, "/" left out. */
function pathNamespaces(p: string): string[] {
  const out: string[] = [];
  for (let d = p; d !== '/' && d !== '.'; d = path.dirname(d)) out.push(d);
  return out;
}

/**
 * A layout dir (oci), an oci-archive or a docker-archive: scopes are the resolved path and its
 * parents (the tag is no part of it: `DIR:tag` and `DIR:` may be one image, as containers/image
 * reasons); docker-archive has only "". None of them carries signatures Skiff (or
 * containers/image) reads.
 */
export function localPolicyImage(transport: Exclude<Transport, 'docker'>, file: string, label: string, manifestBytes: Buffer): PolicyImage {
  let resolved = file;
  try {
    resolved = fs.realpathSync(file);
  } catch {
    /* gone since: judged by the path it had */
  }
  const none = async (): Promise<Signature[]> => [];
  return {
    label, transport, manifestBytes, signatures: none, lookedIn: `${transport}:${resolved} (it carries no signatures)`,
    identity: transport === 'docker-archive' ? '' : resolved,
    namespaces: transport === 'docker-archive' ? [] : pathNamespaces(resolved),
  };
}

/** A stored image, judged by where it came from, with the signatures kept beside it. */
export function storedPolicyImage(store: Store, rec: RefRecord): PolicyImage | undefined {
  if (!rec.source) return undefined;
  const top = rec.index ?? rec.digest;
  const manifestBytes = store.readBlob(top, `image ${rec.name}: manifest`);
  if (rec.source.transport !== 'docker') return localPolicyImage(rec.source.transport, rec.source.ref, rec.name, manifestBytes);
  const parsed = parseDockerRef(rec.source.ref);
  const intended: DockerRef = isNameOnly(parsed) ? { ...parsed, tag: 'latest' } : parsed;
  return {
    label: rec.name, transport: 'docker', identity: refString(intended), namespaces: dockerNamespaces(intended), intended, manifestBytes,
    signatures: async () => loadSignatures(store, top), lookedIn: 'the signatures pulled with the image',
  };
}
