// Image config → runtime config.json, per the image-spec's conversion rules (conversion.md).
import * as fs from 'fs';
import * as path from 'path';
import { defaultSpec, DEFAULT_PATH } from '../oci/defaults';
import type { Mount, Spec } from '../oci/spec';
import { ImageError } from './digest';
import type { ImageConfig } from './media';
import { dirView, resolveInTree } from './resolve';
import { parseGroup, parsePasswd } from '../passwd';

/**
 * Reads a file of the container's tree without ever leaving it: symlinks are resolved as the
 * container would see them (absolute ones from the container's root, `..` stops at the root).
 * Returns undefined when the file does not exist.
 */
export function readInRoot(root: string, file: string): string | undefined {
  try {
    const r = resolveInTree(dirView(root), file);
    if (r.rest.length > 0 || !r.st?.isFile()) return undefined;
    const fd = fs.openSync(path.join(root, r.rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      return fs.readFileSync(fd, 'utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

const isNum = (s: string) => /^\d+$/.test(s);

/** Resolves the image's User ("user", "uid", "user:group", "uid:gid", …) through its /etc files. */
export function resolveUser(user: string | undefined, rootfs: string, what: string): { uid: number; gid: number; additionalGids?: number[] } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':', 2);
  const passwd = parsePasswd(readInRoot(rootfs, '/etc/passwd'));
  const groups = parseGroup(readInRoot(rootfs, '/etc/group'));
  let uid: number;
  let gid: number | undefined;
  let name: string | undefined;
  if (isNum(u)) {
    uid = Number(u);
    const pw = passwd.find((p) => p.uid === uid);
    if (pw) {
      gid = pw.gid;
      name = pw.name;
    }
  } else {
    const pw = passwd.find((p) => p.name === u);
    if (!pw) throw new ImageError(`${what}: user ${JSON.stringify(u)} is not in the image's /etc/passwd`);
    uid = pw.uid;
    gid = pw.gid;
    name = pw.name;
  }
  if (g !== undefined && g !== '') {
    if (isNum(g)) gid = Number(g);
    else {
      const gr = groups.find((x) => x.name === g);
      if (!gr) throw new ImageError(`${what}: group ${JSON.stringify(g)} is not in the image's /etc/group`);
      gid = gr.gid;
    }
  }
  gid ??= 0;
  const out: { uid: number; gid: number; additionalGids?: number[] } = { uid, gid };
  // Supplementary groups only when the group was not given explicitly, as docker does.
  if (name && (g === undefined || g === '')) {
    const extra = [...new Set(groups.filter((x) => x.members.includes(name!) && x.gid !== gid).map((x) => x.gid))];
    if (extra.length) out.additionalGids = extra;
  }
  return out;
}

export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal';

export function imageToSpec(img: ImageConfig, rootfs: string, bundleDir: string, what: string): Spec {
  const spec = defaultSpec();
  const c = img.config ?? {};
  const p = spec.process!;
  p.terminal = false;
  const args = [...(c.Entrypoint ?? []), ...(c.Cmd ?? [])];
  if (args.length) p.args = args;
  const env = [...(c.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  p.env = env;
  p.cwd = c.WorkingDir || '/';
  if (!p.cwd.startsWith('/')) p.cwd = '/' + p.cwd;
  p.user = resolveUser(c.User, rootfs, what);
  // The image's tree is the container's to change (it has its own upper dir or copy).
  spec.root = { path: 'rootfs', readonly: false };

  const ann: Record<string, string> = {};
  if (img.os) ann['org.opencontainers.image.os'] = img.os;
  if (img.architecture) ann['org.opencontainers.image.architecture'] = img.architecture;
  if (img.variant) ann['org.opencontainers.image.variant'] = img.variant;
  if (img.author) ann['org.opencontainers.image.author'] = img.author;
  if (img.created) ann['org.opencontainers.image.created'] = img.created;
  if (c.ExposedPorts && Object.keys(c.ExposedPorts).length) ann['org.opencontainers.image.exposedPorts'] = Object.keys(c.ExposedPorts).sort().join(',');
  if (c.StopSignal) ann[STOP_SIGNAL_ANNOTATION] = c.StopSignal;
  // Labels win over the derived annotations above, as the conversion rules say.
  Object.assign(ann, c.Labels ?? {});
  if (Object.keys(ann).length) spec.annotations = ann;

  const vols = Object.keys(c.Volumes ?? {}).sort();
  if (vols.length) {
    const mounts: Mount[] = spec.mounts ?? [];
    for (const v of vols) {
      const dest = path.posix.normalize('/' + v);
      const src = path.join(bundleDir, 'volumes', encodeURIComponent(dest.slice(1)) || 'root');
      fs.mkdirSync(src, { recursive: true });
      mounts.push({ destination: dest, type: 'bind', source: src, options: ['rbind', 'rw'] });
    }
    spec.mounts = mounts;
  }
  return spec;
}
