// `skiff image pull`: resolve a reference on a registry and ingest the image through the same
// verify-then-publish path as import.
import { shortDigest } from './digest';
import { Descriptor, INDEX_TYPES, MANIFEST_TYPES, MT } from './media';
import { BlobSource, ingestImage, ProgressEvent } from './ingest';
import { parseRegistryRef } from './refs';
import { RegistryClient, RegistryOptions } from './registry';
import { RefRecord, Store } from './store';
import { withLease } from './lease';
import type { Platform } from './media';
import type { Policy } from './policy/policy';
import type { PolicyImage } from './policy/evaluate';
import { saveSignatures } from './signature/stored';
import type { RegistriesD } from './signature/registriesd';

export interface PullOptions extends RegistryOptions {
  platform?: Platform;
  /** Store the image under this name instead of the reference. */
  name?: string;
  concurrency?: number;
  unpack?: boolean;
  progress?: (ev: ProgressEvent) => void;
  /** Checked against the top manifest (what the reference names) before anything is fetched. */
  policy?: { policy: Policy; registriesD: RegistriesD };
}

export async function pullImage(store: Store, reference: string, opts: PullOptions = {}): Promise<RefRecord> {
  const ref = parseRegistryRef(reference);
  const name = opts.name ?? (ref.digest ? reference : reference.includes(':', reference.lastIndexOf('/') + 1) ? reference : `${reference}:${ref.tag}`);
  const client = new RegistryClient(ref, name, { ...opts, partialDir: store.dir('tmp', 'partial') });
  const top = await client.getManifest(ref.digest ?? ref.tag!, 'manifest');
  let judged: PolicyImage | undefined;
  if (opts.policy) {
    const { enforcePolicy } = require('./policy/evaluate') as typeof import('./policy/evaluate');
    const { dockerPolicyImage } = require('./policy/sources') as typeof import('./policy/sources');
    judged = dockerPolicyImage(reference, name, client, opts.policy.registriesD, top);
    await enforcePolicy(opts.policy.policy, judged);
  }
  return withLease(store, async () => {
    const topDesc: Descriptor = { mediaType: top.mediaType || MT.ociManifest, digest: top.digest, size: top.bytes.length };
    const src: BlobSource = {
      readSmall: async (desc, what) => {
        if (desc.digest === top.digest) return top.bytes;
        if ([...INDEX_TYPES, ...MANIFEST_TYPES].includes(desc.mediaType as never)) {
          const m = await client.getManifest(desc.digest, `manifest ${desc.digest}`);
          return m.bytes;
        }
        return client.getSmallBlob(desc, what);
      },
      stageBlob: (desc, file, what) => client.fetchBlob(desc, file, what),
    };
    const rec = await ingestImage(store, src, topDesc, {
      name, platform: opts.platform, concurrency: opts.concurrency ?? 4, unpack: opts.unpack, progress: opts.progress, source: { transport: 'docker', ref: reference },
    });
    // Kept for inspect; a policy that needed none did not fetch them, and cannot fail on them.
    if (judged) saveSignatures(store, top.digest, await judged.signatures().catch(() => []));
    return rec;
  });
}

/** Progress on a terminal (one line, rewritten) or quiet lines for logs. */
export function progressPrinter(name: string, out: NodeJS.WriteStream = process.stderr): { onBytes: (d: string, n: number) => void; progress: (ev: ProgressEvent) => void; done: () => void } {
  const tty = !!out.isTTY;
  const sizes = new Map<string, number>();
  const got = new Map<string, number>();
  let last = 0;
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const line = (force = false) => {
    if (!tty) return;
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    let total = 0;
    let have = 0;
    for (const [d, s] of sizes) {
      total += s;
      have += Math.min(got.get(d) ?? 0, s);
    }
    out.write(`\r\x1b[Kpulling ${name}: ${[...got.values()].length}/${sizes.size} blobs, ${mb(have)}/${mb(total)} MB`);
  };
  return {
    onBytes: (d, n) => {
      got.set(d, (got.get(d) ?? 0) + n);
      line();
    },
    progress: (ev) => {
      if (ev.kind === 'blob-start') sizes.set(ev.digest, ev.size);
      if (!tty) {
        if (ev.kind === 'blob-done') out.write(`${ev.cached ? 'exists' : 'fetched'} ${shortDigest(ev.digest)} ${mb(ev.size)} MB\n`);
        if (ev.kind === 'layer-done') out.write(`unpacked ${shortDigest(ev.diffID)} ${ev.stats.entries} entries in ${ev.ms} ms\n`);
      } else line(true);
    },
    done: () => {
      if (tty) out.write('\r\x1b[K');
    },
  };
}
