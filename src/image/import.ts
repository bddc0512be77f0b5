// `skiff image import`: OCI image layouts (a directory), oci-archive (a tar of a layout) and
// docker-archive (`docker save`) tarballs, optionally gzip-compressed.
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { pipeline } from 'stream/promises';
import { Hasher, ImageError, digestHex, sha256 } from './digest';
import { Descriptor, Index, MT, parseJSON, sniffCompression } from './media';
import { BlobSource, ingestImage, stageStream, checkStaged, ProgressEvent } from './ingest';
import { normalizeName } from './refs';
import type { Platform } from './media';
import { RefRecord, Store, Staging } from './store';
import { withLease } from './lease';
import type { Policy, Transport } from './policy/policy';

export interface ImportOptions {
  name?: string;
  /** Which image of a layout/archive holding several: its ref name or tag. */
  tag?: string;
  platform?: Platform;
  unpack?: boolean;
  progress?: (ev: ProgressEvent) => void;
  /** containers-policy.json to judge the image by (transport oci, oci-archive or docker-archive). */
  policy?: Policy;
}

const SMALL_MAX = 16 << 20;
const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';

/** Blobs of an OCI layout directory, read in place. */
class LayoutSource implements BlobSource {
  constructor(readonly dir: string, readonly label: string) {}
  blobFile(desc: Descriptor, what: string): string {
    const f = path.join(this.dir, 'blobs', 'sha256', digestHex(desc.digest));
    if (!fs.existsSync(f)) throw new ImageError(`${what}: blob ${desc.digest} is missing from ${this.label}`);
    return f;
  }
  async readSmall(desc: Descriptor, what: string): Promise<Buffer> {
    const f = this.blobFile(desc, what);
    if (fs.statSync(f).size > SMALL_MAX) throw new ImageError(`${what}: blob ${desc.digest} is too large for a manifest or config`);
    return fs.readFileSync(f);
  }
  async stageBlob(desc: Descriptor, file: string, what: string): Promise<void> {
    await stageStream(fs.createReadStream(this.blobFile(desc, what), { highWaterMark: 1 << 20 }), file, desc, what);
  }
}

/** Blobs already copied out of an archive and verified: handing one over is a rename. */
class StagedSource implements BlobSource {
  constructor(readonly files: Map<string, { file: string; size: number }>, readonly label: string, readonly extra = new Map<string, Buffer>()) {}
  private get(desc: Descriptor, what: string) {
    const f = this.files.get(desc.digest);
    if (!f) throw new ImageError(`${what}: blob ${desc.digest} is missing from ${this.label}`);
    return f;
  }
  async readSmall(desc: Descriptor, what: string): Promise<Buffer> {
    const x = this.extra.get(desc.digest);
    if (x) return x;
    return fs.readFileSync(this.get(desc, what).file);
  }
  async stageBlob(desc: Descriptor, file: string, what: string): Promise<void> {
    const f = this.get(desc, what);
    if (f.size !== desc.size) throw new ImageError(`${what}: blob ${desc.digest} has ${f.size} bytes, the descriptor says ${desc.size}`);
    // Another layer may use the same blob: link, do not move, so both can be served.
    fs.linkSync(f.file, file);
  }
}

/** Picks the image in a layout's index.json and the name it will be stored under. */
function chooseInLayout(index: Index, opts: ImportOptions, label: string): { desc: Descriptor; name: string } {
  const entries = index.manifests ?? [];
  if (entries.length === 0) throw new ImageError(`${label}: the index lists no image`);
  const refName = (d: Descriptor) => d.annotations?.[CONTAINERD_NAME] ?? d.annotations?.[REF_NAME];
  let chosen: Descriptor | undefined;
  if (opts.tag) {
    chosen = entries.find((d) => d.annotations?.[REF_NAME] === opts.tag || d.annotations?.[CONTAINERD_NAME] === opts.tag ||
      (d.annotations?.[CONTAINERD_NAME] ?? '').endsWith(':' + opts.tag));
    if (!chosen) {
      const names = entries.map(refName).filter(Boolean).join(', ') || 'none';
      throw new ImageError(`${label}: no image tagged ${JSON.stringify(opts.tag)} (it has: ${names})`);
    }
  } else {
    const named = new Set(entries.map(refName));
    const platforms = entries.every((d) => d.platform);
    if (entries.length === 1) chosen = entries[0];
    else if (platforms && named.size === 1) {
      // One image for several platforms listed flat in index.json: treat index.json as its index.
      const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: entries }));
      return { desc: { mediaType: MT.ociIndex, digest: sha256(bytes), size: bytes.length, annotations: { __inline: bytes.toString('base64') } }, name: nameFor(entries[0], opts, label) };
    } else {
      const names = entries.map((d) => refName(d) ?? d.digest).join(', ');
      throw new ImageError(`${label}: holds several images (${names}); choose one with --tag`);
    }
  }
  return { desc: chosen, name: nameFor(chosen, opts, label) };
}

function nameFor(d: Descriptor, opts: ImportOptions, label: string): string {
  if (opts.name) return normalizeName(opts.name);
  const full = d.annotations?.[CONTAINERD_NAME];
  if (full) return normalizeName(full);
  const rn = d.annotations?.[REF_NAME];
  if (rn && (rn.includes('/') || rn.includes(':'))) return normalizeName(rn);
  throw new ImageError(`${label}: the image has no full name${rn ? ` (only the tag ${JSON.stringify(rn)})` : ''}: give one with --name`);
}

/** A source wrapper that serves an inline (synthesized) index from its descriptor. */
function withInline(src: BlobSource): BlobSource {
  return {
    readSmall: (d, w) => (d.annotations?.__inline ? Promise.resolve(Buffer.from(d.annotations.__inline, 'base64')) : src.readSmall(d, w)),
    stageBlob: (d, f, w) => src.stageBlob(d, f, w),
  };
}

async function importLayoutDir(store: Store, dir: string, opts: ImportOptions): Promise<RefRecord> {
  const label = `layout ${dir}`;
  const layoutFile = path.join(dir, 'oci-layout');
  if (!fs.existsSync(layoutFile)) throw new ImageError(`${label}: not an OCI image layout (no oci-layout file)`);
  const index = parseJSON<Index>(fs.readFileSync(path.join(dir, 'index.json')), `${label}: index.json`);
  const { desc, name } = chooseInLayout(index, opts, label);
  return ingestImage(store, withInline(new LayoutSource(dir, label)), desc, { name, platform: opts.platform, unpack: opts.unpack, progress: opts.progress, source: sourceOf('oci', dir) });
}

interface ArchiveContents {
  blobs: Map<string, { file: string; size: number }>;
  /** Other regular files (docker-archive): path → staged file, digest, size */
  files: Map<string, { file: string; digest: string; size: number }>;
  small: Map<string, Buffer>;
}

/** Streams an archive once, copying every file into staging and hashing it on the way. */
async function readArchive(file: string, staging: Staging, label: string): Promise<ArchiveContents> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(4);
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  const out: ArchiveContents = { blobs: new Map(), files: new Map(), small: new Map() };
  const dir = staging.file('archive');
  fs.mkdirSync(dir);
  let n = 0;
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    const name = path.posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
    if (h.type !== 'file' && h.type !== 'contiguous-file') {
      stream.resume();
      return next();
    }
    if (name === 'index.json' || name === 'manifest.json' || name === 'oci-layout' || name === 'repositories') {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('end', () => {
        out.small.set(name, Buffer.concat(chunks));
        next();
      });
      return;
    }
    const m = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(name);
    const target = path.join(dir, String(n++));
    const h2 = new Hasher();
    pipeline(stream as unknown as NodeJS.ReadableStream, h2, fs.createWriteStream(target)).then(() => {
      const digest = h2.digest();
      if (m) {
        const desc = { digest: 'sha256:' + m[1], size: h2.bytes, mediaType: '' };
        checkStaged(target, digest, h2.bytes, desc, label);
        out.blobs.set(desc.digest, { file: target, size: h2.bytes });
      } else {
        out.files.set(name, { file: target, digest, size: h2.bytes });
      }
      next();
    }, next);
  });
  const src = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  try {
    if (sniffCompression(head) === 'gzip') await pipeline(src, zlib.createGunzip(), extract as never);
    else await pipeline(src, extract as never);
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError(`${label}: the archive is truncated or corrupt (${(e as Error).message})`);
  }
  return out;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

/**
 * Whether an archive is a docker-archive (it has manifest.json) or an oci-archive, reading only
 * the tar headers (up to the first of manifest.json, index.json): the policy judges an archive by
 * its transport before anything of it is copied into the store.
 */
async function archiveTransport(file: string, label: string): Promise<'docker-archive' | 'oci-archive'> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tar = require('tar-stream') as typeof import('tar-stream');
  const head = Buffer.alloc(4);
  const fd = fs.openSync(file, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  let kind: 'docker-archive' | 'oci-archive' | undefined;
  const extract = tar.extract();
  const src = fs.createReadStream(file, { highWaterMark: 1 << 20 });
  extract.on('entry', (h, stream, next) => {
    const name = path.posix.normalize(h.name).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
    if (name === 'manifest.json') kind = 'docker-archive';
    else if (name === 'index.json') kind ??= 'oci-archive';
    stream.on('end', next);
    stream.on('error', () => undefined); // a truncated entry: the pipeline reports it
    stream.resume();
  });
  try {
    if (sniffCompression(head) === 'gzip') await pipeline(src, zlib.createGunzip(), extract as never);
    else await pipeline(src, extract as never);
  } catch (e) {
    throw new ImageError(`${label}: the archive is truncated or corrupt (${(e as Error).message})`);
  }
  return kind ?? 'oci-archive';
}

async function importArchive(store: Store, file: string, opts: ImportOptions): Promise<RefRecord> {
  const label = `archive ${file}`;
  const staging = store.stage('import');
  try {
    const a = await readArchive(file, staging, label);
    if (a.small.has('index.json')) {
      const index = parseJSON<Index>(a.small.get('index.json')!, `${label}: index.json`);
      // docker save (25+) writes both; its manifest.json carries the names, index.json the OCI view.
      const { desc, name } = chooseInLayout(index, { ...opts, name: opts.name ?? dockerNameFor(a, opts) }, label);
      return await ingestImage(store, withInline(new StagedSource(a.blobs, label)), desc, { name, platform: opts.platform, unpack: opts.unpack, progress: opts.progress, source: sourceOf(a.small.has('manifest.json') ? 'docker-archive' : 'oci-archive', file) });
    }
    if (a.small.has('manifest.json')) return await importDocker(store, a, opts, label);
    throw new ImageError(`${label}: neither an OCI archive (no index.json) nor a docker archive (no manifest.json)`);
  } finally {
    staging.drop();
  }
}

function dockerNameFor(a: ArchiveContents, opts: ImportOptions): string | undefined {
  if (!a.small.has('manifest.json')) return undefined;
  try {
    const entries = JSON.parse(a.small.get('manifest.json')!.toString()) as DockerManifestEntry[];
    if (entries.length !== 1) return undefined;
    const tags = entries[0].RepoTags ?? [];
    return opts.tag ? tags.find((t) => t.endsWith(':' + opts.tag) || t === opts.tag) : tags[0];
  } catch {
    return undefined;
  }
}

/** docker-archive: synthesize an OCI manifest over the archive's files, then ingest as usual. */
async function importDocker(store: Store, a: ArchiveContents, opts: ImportOptions, label: string): Promise<RefRecord> {
  const entries = parseJSON<DockerManifestEntry[]>(a.small.get('manifest.json')!, `${label}: manifest.json`);
  if (!Array.isArray(entries) || entries.length === 0) throw new ImageError(`${label}: manifest.json lists no image`);
  let entry = entries[0];
  if (opts.tag) {
    const hit = entries.find((e) => (e.RepoTags ?? []).some((t) => t === opts.tag || t.endsWith(':' + opts.tag)));
    if (!hit) throw new ImageError(`${label}: no image tagged ${JSON.stringify(opts.tag)}`);
    entry = hit;
  } else if (entries.length > 1) {
    throw new ImageError(`${label}: holds ${entries.length} images (${entries.map((e) => (e.RepoTags ?? [])[0]).join(', ')}); choose one with --tag`);
  }
  const name = opts.name ? normalizeName(opts.name)
    : entry.RepoTags?.length ? normalizeName(opts.tag ? entry.RepoTags.find((t) => t.endsWith(':' + opts.tag) || t === opts.tag)! : entry.RepoTags[0])
      : undefined;
  if (!name) throw new ImageError(`${label}: the image has no RepoTags: give a name with --name`);
  const fileOf = (p: string, what: string) => {
    const n = path.posix.normalize(p).replace(/^(\.\/)+/, '');
    const f = a.files.get(n) ?? (isBlobPath(n) ? blobAsFile(a, n) : undefined);
    if (!f) throw new ImageError(`${label} (${name}): ${what} ${p} is missing from the archive`);
    return f;
  };
  const cfg = fileOf(entry.Config, 'config');
  const files = new Map(a.blobs);
  files.set(cfg.digest, { file: cfg.file, size: cfg.size });
  const layers: Descriptor[] = entry.Layers.map((p) => {
    const f = fileOf(p, 'layer');
    files.set(f.digest, { file: f.file, size: f.size });
    const head = Buffer.alloc(4);
    const fd = fs.openSync(f.file, 'r');
    fs.readSync(fd, head, 0, 4, 0);
    fs.closeSync(fd);
    const c = sniffCompression(head);
    const mediaType = c === 'gzip' ? MT.ociLayerGzip : c === 'zstd' ? MT.ociLayerZstd : MT.ociLayer;
    return { mediaType, digest: f.digest, size: f.size };
  });
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: cfg.digest, size: cfg.size },
    layers,
  }));
  const desc: Descriptor = { mediaType: MT.ociManifest, digest: sha256(manifest), size: manifest.length };
  const src = new StagedSource(files, label, new Map([[desc.digest, manifest]]));
  return ingestImage(store, src, desc, { name, platform: opts.platform, unpack: opts.unpack, progress: opts.progress, source: sourceOf('docker-archive', label.slice('archive '.length)) });
}

function sourceOf(transport: Exclude<Transport, 'docker'>, input: string): RefRecord['source'] {
  return { transport, ref: fs.realpathSync(input) };
}

function isBlobPath(n: string): boolean {
  return /^blobs\/sha256\/[a-f0-9]{64}$/.test(n);
}
function blobAsFile(a: ArchiveContents, n: string) {
  const digest = 'sha256:' + n.slice(13);
  const b = a.blobs.get(digest);
  return b ? { file: b.file, digest, size: b.size } : undefined;
}

export async function importImage(store: Store, input: string, opts: ImportOptions = {}): Promise<RefRecord> {
  let st: fs.Stats;
  try {
    st = fs.statSync(input);
  } catch {
    throw new ImageError(`import ${input}: no such file or directory`);
  }
  if (opts.policy) await checkPolicy(opts.policy, input, st.isDirectory(), opts);
  return withLease(store, () => (st.isDirectory() ? importLayoutDir(store, input, opts) : importArchive(store, input, opts)));
}

/**
 * Refuses the image before anything is stored (not even the store's dirs) when the policy does
 * not accept it: a layout is judged as transport oci (scope: its path), an archive as
 * docker-archive or oci-archive by what it holds. None of them carries signatures.
 */
async function checkPolicy(policy: Policy, input: string, isDir: boolean, opts: ImportOptions): Promise<void> {
  const { enforcePolicy } = require('./policy/evaluate') as typeof import('./policy/evaluate');
  const { localPolicyImage } = require('./policy/sources') as typeof import('./policy/sources');
  let transport: Exclude<Transport, 'docker'> = 'oci';
  let label: string;
  if (isDir) {
    const l = `layout ${input}`;
    if (!fs.existsSync(path.join(input, 'oci-layout'))) throw new ImageError(`${l}: not an OCI image layout (no oci-layout file)`);
    label = chooseInLayout(parseJSON<Index>(fs.readFileSync(path.join(input, 'index.json')), `${l}: index.json`), opts, l).name;
  } else {
    transport = await archiveTransport(input, `archive ${input}`);
    label = opts.name ? normalizeName(opts.name) : `archive ${input}`;
  }
  await enforcePolicy(policy, localPolicyImage(transport, input, label, Buffer.alloc(0)));
}
