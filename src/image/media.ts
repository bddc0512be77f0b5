// Media types and the JSON documents of the image-spec (and their Docker schema 2 twins).
import { ImageError } from './digest';

export const MT = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const MANIFEST_TYPES = [MT.ociManifest, MT.dockerManifest];
export const INDEX_TYPES = [MT.ociIndex, MT.dockerList];
export const CONFIG_TYPES = [MT.ociConfig, MT.dockerConfig];

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

export interface Manifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface Index {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    ExposedPorts?: Record<string, unknown>;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Volumes?: Record<string, unknown>;
    WorkingDir?: string;
    Labels?: Record<string, string>;
    StopSignal?: string;
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: unknown[];
}

export type Compression = 'none' | 'gzip' | 'zstd';

/** The compression of a layer, from its media type; unknown types are refused by name. */
export function layerCompression(mediaType: string, what: string): Compression {
  // Non-distributable (foreign) layers use the same suffixes; accept them when the blob is present.
  const t = mediaType.replace('.nondistributable.', '.').replace('vnd.docker.image.rootfs.foreign.', 'vnd.docker.image.rootfs.');
  switch (t) {
    case MT.ociLayer:
    case MT.dockerLayer:
      return 'none';
    case MT.ociLayerGzip:
    case MT.dockerLayerGzip:
      return 'gzip';
    case MT.ociLayerZstd:
    case 'application/vnd.docker.image.rootfs.diff.tar.zstd':
      return 'zstd';
    default:
      throw new ImageError(`${what}: unknown layer media type ${JSON.stringify(mediaType)}`);
  }
}

/** Guesses a compression from the first bytes (docker-archive layers carry no media type). */
export function sniffCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

export function parseJSON<T>(buf: Buffer | string, what: string): T {
  try {
    return JSON.parse(buf.toString()) as T;
  } catch (e) {
    throw new ImageError(`${what}: not valid JSON (${(e as Error).message})`);
  }
}

/** Checks the shape of a manifest enough that later code can trust the fields it reads. */
export function checkManifest(m: Manifest, what: string): Manifest {
  if (!m || typeof m !== 'object' || !m.config || typeof m.config.digest !== 'string' || !Array.isArray(m.layers)) {
    throw new ImageError(`${what}: not an image manifest (no config or layers)`);
  }
  if (m.mediaType && !MANIFEST_TYPES.includes(m.mediaType as never)) {
    throw new ImageError(`${what}: unknown manifest media type ${JSON.stringify(m.mediaType)}`);
  }
  return m;
}

export function checkConfig(c: ImageConfig, what: string): ImageConfig {
  if (!c || typeof c !== 'object' || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) {
    throw new ImageError(`${what}: not an image config (no rootfs.diff_ids)`);
  }
  return c;
}
