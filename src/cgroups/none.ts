// No cgroups of its own: a rootless container whose user may not create any (runc's rootless
// cgroup manager ignores those permission errors alike). The container stays in the runtime's
// cgroups; what would need cgroups of its own (limits, pause, ps) says so instead of pretending.
import { SkiffError } from '../errors';
import type { Resources } from '../oci/spec';
import type { CgroupView, Cgroups, NoneRecord, OomWatch } from './manager';
import { cgroupsFor } from './manager';
import { detectLayout, ownCgroups } from './layout';
import { cgroupRecord } from './paths';

const none = (what: string) => new SkiffError('host', `${what}: the container has no cgroups of its own (rootless, and this user cannot create them)`);

// Resources that are empty or only device rules (which a user namespace cannot enforce and
// runc's rootless manager skips) need no cgroup; anything else does.
function needsCgroups(r: Resources | undefined): string | undefined {
  for (const [k, v] of Object.entries(r ?? {})) {
    if (k === 'devices' || v === undefined || v === null) continue;
    if (typeof v === 'object' && Object.keys(v as object).length === 0) continue;
    return k;
  }
  return undefined;
}

export class NoCgroups implements Cgroups {
  constructor(readonly record: NoneRecord) {}
  create(): void {}
  undo(): void {}
  cloneIntoFd(): undefined { return undefined; }
  join(): void {}
  applyResources(r: Resources | undefined): void {
    const field = needsCgroups(r);
    if (field) throw new SkiffError('config', `config.json: linux.resources.${field}: cannot set this limit: the container could not create a cgroup (rootless)`);
  }
  update(r: Resources): void {
    const field = needsCgroups(r);
    if (field) throw none(`update: ${field}`);
  }
  setDevices(): void {}
  freeze(): void { throw none('pause'); }
  // Nothing is ever frozen; delete and run's cleanup thaw on the way.
  thaw(): void {}
  isFrozen(): boolean { return false; }
  // Only the init is known to be the container's: the runtime's cgroups hold other processes.
  pids(): number[] { return []; }
  stats(): Record<string, unknown> { return {}; }
  watchOom(): OomWatch { return { close() {} }; }
  oomKilled(): boolean { return false; }
  // What runc's rootless containers see: the runtime's own cgroups, where they are.
  mountView(newCgroupNs: boolean): CgroupView {
    return cgroupsFor(cgroupRecord(detectLayout(), ownCgroups(), '', '')).mountView(newCgroupNs);
  }
  destroy(): string[] { return []; }
}
