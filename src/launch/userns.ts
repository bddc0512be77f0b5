// The init's uid_map and gid_map, written by the parent between clone and GO. Root writes them
// as given. An unprivileged user may write only its own id, once (and gid_map only after
// "deny" in setgroups, as runc does); any wider mapping goes through the setuid helpers
// newuidmap/newgidmap (Debian's uidmap), which check it against /etc/subuid and /etc/subgid.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import type { IdMapping } from '../oci/spec';

const HELPER = { uid_map: 'newuidmap', gid_map: 'newgidmap' } as const;

export function writeIdMap(pid: number, file: 'uid_map' | 'gid_map', maps: IdMapping[] | undefined): void {
  if (!maps?.length) return;
  const own = file === 'uid_map' ? process.geteuid!() : process.getegid!();
  const onlyOwn = maps.length === 1 && maps[0].size === 1 && maps[0].hostID === own;
  const root = process.geteuid!() === 0;
  if (!root && !onlyOwn) return viaHelper(pid, file, maps);
  if (!root && file === 'gid_map') fs.writeFileSync(`/proc/${pid}/setgroups`, 'deny');
  fs.writeFileSync(`/proc/${pid}/${file}`, maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n'));
}

function viaHelper(pid: number, file: 'uid_map' | 'gid_map', maps: IdMapping[]): void {
  const helper = HELPER[file];
  const args = [String(pid), ...maps.flatMap((m) => [m.containerID, m.hostID, m.size].map(String))];
  try {
    // Required here: child_process costs every create ~0.5 MiB of RSS, and only rootless needs it.
    (require('child_process') as typeof import('child_process')).execFileSync(helper, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    const why = err.code === 'ENOENT' ? `${helper} is not installed (Debian package uidmap)` : (err.stderr?.toString().trim() || err.message);
    throw new SkiffError('setup', `rootless: linux.${file === 'uid_map' ? 'uidMappings' : 'gidMappings'} maps more than your own id, which needs ${helper}: ${why}`);
  }
}
