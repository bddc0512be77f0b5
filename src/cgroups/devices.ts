// Device cgroup rules: the config's list plus the devices every container gets (runc's
// AllowedDevices). v1 writes them as devices.allow / devices.deny lines, v2 compiles them
// into a BPF program.
import type { DeviceRule } from '../oci/spec';
import { DEFAULT_DEVICE_NODES } from '../oci/devices';

export const DEFAULT_ALLOWED: DeviceRule[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  ...DEFAULT_DEVICE_NODES.map(({ major, minor }) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

// runc reads an access string letter by letter and ignores what is not r, w or m ("rwa" is
// rw); absent means all three.
export function devicePermissions(access: string | undefined): string {
  if (access === undefined) return 'rwm';
  return ['r', 'w', 'm'].filter((c) => access.includes(c)).join('');
}

export function effectiveRules(configured: DeviceRule[] | undefined): DeviceRule[] {
  return [...(configured ?? []).map((r) => ({ ...r, access: devicePermissions(r.access) })), ...DEFAULT_ALLOWED];
}
