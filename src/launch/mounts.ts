// OCI mount entries -> the native mount list: option words to MS_* flags, propagation and
// filesystem data, bind sources resolved against the bundle, the cgroup mount expanded as the
// container's cgroup driver shows it.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import type { NativeMount } from '../native';
import type { IdMapping, Mount } from '../oci/spec';
import type { Cgroups } from '../cgroups/manager';
import { MS, parseOptions } from '../oci/mountopts';
import type { ParsedOptions } from '../oci/mountopts';



const REMOUNT_FLAGS = MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.NOATIME | MS.NODIRATIME |
  MS.RELATIME | MS.STRICTATIME | MS.NOSYMFOLLOW;

// The container's own user namespace mappings: what `idmap` without mappings of its own uses.
export interface UsernsMaps {
  uid?: IdMapping[];
  gid?: IdMapping[];
}

const mapText = (maps: IdMapping[]) => maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n');

// An idmapped bind (runtime-spec 1.2, runc's semantics): the mount's own mappings, or with
// only `idmap`/`ridmap` the container's; written to the mount's user namespace as given.
function idmapOf(m: Mount, o: ParsedOptions, field: string, userns: UsernsMaps): NativeMount['idmap'] {
  const own = Boolean(m.uidMappings?.length || m.gidMappings?.length);
  if (!own && o.idmapRecursive === undefined) return undefined;
  const uid = own ? m.uidMappings : userns.uid;
  const gid = own ? m.gidMappings : userns.gid;
  if (!own && !(uid?.length && gid?.length)) {
    throw new SkiffError('config', `config.json: ${field}.options: "idmap" without uidMappings and gidMappings maps through the container's user namespace, and the container has none`);
  }
  if (!uid?.length || !gid?.length) throw new SkiffError('config', `config.json: ${field}: an idmapped mount needs both uidMappings and gidMappings`);
  return { uidMap: mapText(uid), gidMap: mapText(gid), recursive: o.idmapRecursive === true };
}

function bindMount(m: Mount, o: ParsedOptions, bundle: string, field: string, userns: UsernsMaps): NativeMount {
  if (!m.source) throw new SkiffError('config', `config.json: ${field}.source: a bind mount needs a source`);
  const source = path.resolve(bundle, m.source);
  let st: fs.Stats;
  try {
    st = fs.statSync(source);
  } catch {
    throw new SkiffError('config', `config.json: ${field}.source: mount source ${source} does not exist`);
  }
  const remount = o.flags & REMOUNT_FLAGS;
  const idmap = idmapOf(m, o, field, userns);
  return {
    source, destination: m.destination, flags: o.flags & MS.REC, propagation: o.propagation,
    remount, ...recAttrs(o), bind: true, sourceIsDir: st.isDirectory(),
    ...(idmap ? { idmap } : {}),
  };
}

function recAttrs(o: ParsedOptions): Pick<NativeMount, 'recAttrSet' | 'recAttrClr'> {
  return { recAttrSet: o.recAttrSet, recAttrClr: o.recAttrClr };
}

// The "cgroup" mount, as the cgroup driver says the container sees its cgroups.
function cgroupMounts(m: Mount, o: ParsedOptions, cgroups: Cgroups, newCgroupNs: boolean): NativeMount[] {
  const base = { propagation: 0, remount: 0, bind: false, sourceIsDir: true, ...recAttrs(o) };
  const view = cgroups.mountView(newCgroupNs);
  if (view.type === 'cgroup2') return [{ ...base, source: 'cgroup2', destination: m.destination, fstype: 'cgroup2', flags: o.flags }];
  if (view.type === 'bind') {
    return [{ ...base, source: view.dir, destination: m.destination, flags: MS.REC, remount: o.flags & REMOUNT_FLAGS, bind: true }];
  }
  // The tmpfs itself stays writable, as runc leaves it; the hierarchies in it are read-only.
  return [
    { ...base, source: 'tmpfs', destination: m.destination, fstype: 'tmpfs', flags: o.flags & ~MS.RDONLY, data: 'mode=755' },
    ...view.dirs.map(({ dir, name }) => ({
      ...base, source: dir, destination: path.join(m.destination, name), flags: MS.REC,
      remount: (o.flags & REMOUNT_FLAGS) | MS.NOSUID | MS.NODEV | MS.NOEXEC, bind: true,
    })),
  ];
}

export function nativeMounts(mounts: Mount[] | undefined, bundle: string, cgroups: Cgroups, newCgroupNs: boolean,
  userns: UsernsMaps = {}): NativeMount[] {
  const out: NativeMount[] = [];
  (mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const o = parseOptions(m.options, field);
    const isBind = m.type === 'bind' || (o.flags & MS.BIND) !== 0;
    if (isBind) {
      out.push(bindMount(m, o, bundle, field, userns));
    } else if (idmapOf(m, o, field, userns)) {
      throw new SkiffError('config', `config.json: ${field}: idmapped mounts are only supported for bind mounts (as with runc)`);
    } else if (m.type === 'cgroup' || m.type === 'cgroup2') {
      out.push(...cgroupMounts(m, o, cgroups, newCgroupNs));
    } else {
      if (!m.type || m.type === 'none') throw new SkiffError('config', `config.json: ${field}.type: needed for a mount that is not a bind`);
      out.push({
        source: m.source ?? m.type, destination: m.destination, fstype: m.type, data: o.data.join(',') || undefined,
        flags: o.flags, propagation: o.propagation, remount: 0, ...recAttrs(o), bind: false, sourceIsDir: true,
      });
    }
  });
  return out;
}

// runc sets up /dev itself unless the config binds one in.
export function needsDevSetup(mounts: Mount[] | undefined): boolean {
  return !(mounts ?? []).some((m) => path.resolve('/', m.destination) === '/dev' &&
    (m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind')));
}
