// Platforms: the host's, parsing --platform, and choosing a manifest from an index.
import { ImageError } from './digest';
import type { Descriptor, ImageConfig, Index, Platform } from './media';

const ARCH: Record<string, string> = {
  x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64', mips64el: 'mips64le',
};

export function hostPlatform(): Platform {
  const architecture = ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm64') p.variant = 'v8';
  if (architecture === 'arm') {
    const v = (process.config.variables as unknown as Record<string, unknown>).arm_version;
    p.variant = `v${v ?? 7}`;
  }
  return p;
}

export function parsePlatform(s: string): Platform {
  const parts = s.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !p)) {
    throw new ImageError(`invalid platform ${JSON.stringify(s)}: expected os/arch[/variant], e.g. linux/arm64/v8`);
  }
  return { os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  if (!p) return 'unknown';
  return [p.os ?? '?', p.architecture ?? '?', p.variant].filter(Boolean).join('/');
}

function variantMatches(want: Platform, have: Platform | undefined): boolean {
  if (!want.variant) return true;
  const hv = have?.variant ?? (have?.architecture === 'arm64' ? 'v8' : undefined);
  return hv === want.variant;
}

/** Picks the manifest for a platform; an explicit choice must match exactly, the host's default loosely. */
export function selectManifest(index: Index, want: Platform, what: string): Descriptor {
  const manifests = (index.manifests ?? []).filter((d) => d.platform && d.platform.os !== 'unknown');
  const same = manifests.filter((d) => d.platform!.os === want.os && d.platform!.architecture === want.architecture);
  const exact = same.find((d) => variantMatches(want, d.platform));
  if (exact) return exact;
  if (same.length && !want.variant) return same[0];
  // An index whose entries carry no platform at all (e.g. one image in a layout): take the only one.
  const all = index.manifests ?? [];
  if (all.length === 1 && !all[0].platform) return all[0];
  const avail = manifests.map((d) => formatPlatform(d.platform)).join(', ') || 'none';
  throw new ImageError(`${what}: no manifest for platform ${formatPlatform(want)} (the index has: ${avail}); use --platform`);
}

export function configMatches(c: ImageConfig, want: Platform): boolean {
  if (c.os !== want.os || c.architecture !== want.architecture) return false;
  return !want.variant || !c.variant || c.variant === want.variant;
}
