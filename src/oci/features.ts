// The runtime-spec features document: what this build of Skiff really supports. Keep it in
// step with validate.ts; a feature listed here must work.
import { CAPABILITIES } from './caps';
import { PROPAGATION } from '../launch/mounts';

const MOUNT_WORDS = [
  'async', 'atime', 'bind', 'defaults', 'dev', 'diratime', 'dirsync', 'exec', 'lazytime', 'mand', 'noatime',
  'nodev', 'nodiratime', 'noexec', 'nolazytime', 'nomand', 'norelatime', 'nostrictatime', 'nosuid',
  'nosymfollow', 'rbind', 'relatime', 'remount', 'ro', 'rw', 'strictatime', 'suid', 'symfollow', 'sync',
];

export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: [] as string[],
    mountOptions: [...MOUNT_WORDS, ...Object.keys(PROPAGATION)].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: CAPABILITIES,
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: { enabled: false },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
      mountExtensions: { idmap: { enabled: false } },
    },
    annotations: {
      'org.opencontainers.runtime.name': 'skiff',
    },
  };
}
