// The systemd driver (runc's systemd.NewUnifiedManager / NewLegacyManager): the container's
// cgroup is a transient scope that systemd makes over D-Bus (StartTransientUnit with
// Delegate=yes), the resources systemd owns are unit properties (SetUnitProperties), and the
// rest is what the cgroupfs driver for the scope's directories does: files, the freezer,
// pids, stats, OOM events. `delete` stops the unit.
//
// Placement: systemd starts a scope only around a process, and on v2 the init is to be
// cloned straight into its cgroup (CLONE_INTO_CGROUP), never into ours. So the scope is
// started around a placeholder child, the init is cloned into the scope's directory, and
// the placeholder is killed once the init is in (join). On v1 the init is written into the
// scope's directories as with cgroupfs. runc starts the scope with the init's pid after the
// init has run in runc's own cgroup for a while.
import type { DeviceRule, Resources } from '../../oci/spec';
import type { CgroupView, Cgroups, OomWatch, SystemdRecord } from '../manager';
import type { ApplyOptions } from '../writer';
import { SkiffError } from '../../errors';
import { logWarn } from '../../log';
import { native } from '../../native';
import { killAndReap } from '../../launch/proc';
import { V1Cgroups } from '../v1/cgroups';
import { V2Cgroups } from '../v2/cgroups';
import { busDo } from './bus';
import { resourceProperties, scopeProperties } from './properties';

export class SystemdCgroups implements Cgroups {
  private readonly fs: V1Cgroups | V2Cgroups;
  private placeholder = 0;
  private started = false;

  constructor(readonly record: SystemdRecord) {
    this.fs = record.fs.kind === 'v2' ? new V2Cgroups(record.fs) : new V1Cgroups(record.fs);
  }

  private get version(): 'v1' | 'v2' {
    return this.record.fs.kind;
  }

  create(): void {
    this.placeholder = native().cgroups.spawnPlaceholder();
    const { unit, slice } = this.record;
    busDo({ op: 'start', unit, props: scopeProperties(slice, `skiff container ${unit}`, this.placeholder, this.version) });
    this.started = true;
    // The scope's directories exist now (systemd made them in the hierarchies it manages);
    // the cgroupfs driver enables the controllers above them and, on v1, makes the rest.
    this.fs.create();
  }

  undo(): void {
    this.endPlaceholder();
    this.fs.undo();
    if (this.started) this.stop();
  }

  cloneIntoFd(): number | undefined {
    return this.fs.cloneIntoFd();
  }

  // The init is in the scope (cloned into it on v2, written on v1): the placeholder's work is done.
  join(pid: number): void {
    this.fs.join(pid);
    this.endPlaceholder();
  }

  private endPlaceholder(): void {
    if (this.placeholder > 0) killAndReap(this.placeholder);
    this.placeholder = 0;
  }

  // Unit properties first, then the files (runc's Set), so systemd and the files agree.
  applyResources(r: Resources | undefined, opts: ApplyOptions = {}): void {
    let props;
    try {
      props = resourceProperties(r, { version: this.version, skipDevices: opts.skipDevices });
    } catch (e) {
      throw new SkiffError('config', `${opts.file ?? 'config.json'}: ${opts.base ?? 'linux.resources'}: ${(e as Error).message}`);
    }
    if (props.length) busDo({ op: 'set', unit: this.record.unit, props });
    this.fs.applyResources(r, opts);
  }

  update(r: Resources): void {
    this.applyResources(r, { file: 'update', base: '', skipDevices: true });
  }

  setDevices(rules: DeviceRule[] | undefined): void {
    this.fs.setDevices(rules);
  }

  freeze(): void {
    this.fs.freeze();
  }

  thaw(): void {
    this.fs.thaw();
  }

  isFrozen(): boolean {
    return this.fs.isFrozen();
  }

  pids(): number[] {
    return this.fs.pids();
  }

  stats(): Record<string, unknown> {
    return this.fs.stats();
  }

  watchOom(onOom: () => void, onGone: () => void): OomWatch {
    return this.fs.watchOom(onOom, onGone);
  }

  oomKilled(): boolean {
    return this.fs.oomKilled();
  }

  mountView(newCgroupNs: boolean): CgroupView {
    return this.fs.mountView(newCgroupNs);
  }

  private stop(): void {
    const r = busDo({ op: 'stop', unit: this.record.unit });
    if (r.warning) logWarn(r.warning);
    this.started = false;
  }

  // StopUnit (and ResetFailedUnit), then whatever directories systemd left (runc removes
  // the path too; on v1 the hierarchies systemd does not manage are ours to remove).
  destroy(): string[] {
    this.endPlaceholder();
    this.stop();
    return this.fs.destroy();
  }
}
