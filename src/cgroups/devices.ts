// Device cgroup rules: the config's list plus the devices every container gets (runc's
// AllowedDevices), as the v1 devices.allow / devices.deny lines.
import type { DeviceRule } from '../oci/spec';

export const DEFAULT_ALLOWED: DeviceRule[] = [
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: null, minor: null, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 136, minor: null, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' }, // /dev/net/tun
];

export function ruleLine(r: DeviceRule): string {
  const n = (v: number | null | undefined) => (v === undefined || v === null || v < 0 ? '*' : String(v));
  const type = r.type ?? 'a';
  if (type === 'a') return 'a';
  return `${type} ${n(r.major)}:${n(r.minor)} ${r.access ?? 'rwm'}`;
}

export function effectiveRules(configured: DeviceRule[] | undefined): DeviceRule[] {
  return [...(configured ?? []), ...DEFAULT_ALLOWED];
}
