// The cgroup part of the addon (native/cgroup_bpf.cc), reached as native().cgroups.
import { native } from '../native';

export interface CgroupNative {
  // Loads a BPF_PROG_TYPE_CGROUP_DEVICE program and attaches it to the cgroup directory,
  // replacing the device programs attached there before.
  attachDeviceFilter(dir: string, insns: Buffer): void;
  // How many device programs are attached directly to the directory.
  deviceFilterCount(dir: string): number;
  // A close-on-exec eventfd, for cgroup.event_control.
  eventfd(): number;
}

export const cgroupNative = (): CgroupNative => native().cgroups;
