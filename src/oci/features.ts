// The runtime-spec features document: what this build of Skiff really supports, derived from
// the tables the code itself uses, so it cannot drift from them.
import { CAPABILITIES } from './caps';
import { hasDriver } from '../cgroups/manager';
import { FLAG_WORDS, PROPAGATION } from './mountopts';
import { ACTIONS, ARCHES, FLAGS, OPERATORS } from './seccomp';

// WAIT_KILLABLE_RECV is known and passed on, but only means something with a listener, and
// runc 1.1's libseccomp does not apply it: not claimed as supported.
const UNSUPPORTED_SECCOMP_FLAGS = new Set(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);

export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'],
    mountOptions: [...Object.keys(FLAG_WORDS), ...Object.keys(PROPAGATION)].sort(),
    linux: {
      namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'],
      capabilities: CAPABILITIES,
      // systemdUser: rootless systemd (the user's manager) is not done.
      cgroup: { v1: hasDriver('v1'), v2: hasDriver('v2'), systemd: hasDriver('systemd'), systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS).sort(),
        operators: Object.keys(OPERATORS).sort(),
        archs: Object.keys(ARCHES).sort(),
        knownFlags: Object.keys(FLAGS),
        supportedFlags: Object.keys(FLAGS).filter((f) => !UNSUPPORTED_SECCOMP_FLAGS.has(f)),
      },
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
