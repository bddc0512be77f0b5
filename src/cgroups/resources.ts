// linux.resources: which keys are understood (checked at create), and writing them into the
// container's cgroups. Each controller's translation lives beside its hierarchy's rules.
import { SkiffError } from '../errors';
import type { Resources } from '../oci/spec';
import type { CgroupManager } from './manager';

const SUPPORTED = new Set(['devices']);

export function checkResources(r: Record<string, unknown>): void {
  for (const k of Object.keys(r)) {
    if (!SUPPORTED.has(k)) throw new SkiffError(`config.json: linux.resources.${k}: is not supported by skiff yet`);
  }
}

export function applyResources(cgroups: CgroupManager, r: Resources | undefined): void {
  cgroups.applyDevices(r?.devices);
}
