// The character devices every container gets (runc's default devices): created in its /dev
// and allowed by its device cgroup, from this one list. In runc's AllowedDevices order.
export const DEFAULT_DEVICE_NODES = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/tty', major: 5, minor: 0 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/urandom', major: 1, minor: 9 },
] as const;
