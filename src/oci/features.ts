// The runtime-spec features document: what this build of Skiff really supports, derived from
// the tables the code itself uses, so it cannot drift from them.
import { CAPABILITIES } from './caps';
import { hasDriver } from '../cgroups/manager';
import { FLAG_WORDS, IDMAP_WORDS, PROPAGATION, REC_ATTR_WORDS } from './mountopts';
import { ACTIONS, ARCHES, FLAGS, OPERATORS } from './seccomp';
import { CLONE_NEW } from './namespaces';
import { HOOK_KINDS } from './spec';
import {
  IOPRIO_CLASSES, MPOL_FLAGS, MPOL_MODES, PERSONALITY_DOMAINS, PERSONALITY_FLAGS, SCHED_FLAGS, SCHED_POLICIES, TIME_CLOCKS,
} from './kernelattrs';

// WAIT_KILLABLE_RECV is known and passed on, but only means something with a listener, and
// runc 1.1's libseccomp does not apply it: not claimed as supported.
const UNSUPPORTED_SECCOMP_FLAGS = new Set(['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);

export function features() {
  return {
    ociVersionMin: '1.0.0',
    ociVersionMax: '1.2.0',
    hooks: [...HOOK_KINDS],
    mountOptions: [...Object.keys(FLAG_WORDS), ...Object.keys(REC_ATTR_WORDS), ...Object.keys(IDMAP_WORDS), ...Object.keys(PROPAGATION)].sort(),
    linux: {
      namespaces: Object.keys(CLONE_NEW).sort(),
      capabilities: CAPABILITIES,
      // systemdUser: rootless systemd (the user's manager) is not done.
      cgroup: { v1: hasDriver('v1'), v2: hasDriver('v2'), systemd: hasDriver('systemd'), systemdUser: false, rdma: true },
      seccomp: {
        enabled: true,
        actions: Object.keys(ACTIONS).sort(),
        operators: Object.keys(OPERATORS).sort(),
        archs: Object.keys(ARCHES).sort(),
        knownFlags: Object.keys(FLAGS),
        supportedFlags: Object.keys(FLAGS).filter((f) => !UNSUPPORTED_SECCOMP_FLAGS.has(f)),
      },
      // Applied through /proc/self/attr where the host has them; refused by name where not.
      apparmor: { enabled: true },
      selinux: { enabled: true },
      intelRdt: { enabled: true, schemata: true, monitoring: true },
      mountExtensions: { idmap: { enabled: true } },
      netDevices: { enabled: true },
      memoryPolicy: { modes: Object.keys(MPOL_MODES), flags: Object.keys(MPOL_FLAGS) },
      // Skiff's own, beyond features-linux.md: the other per-process kernel attributes.
      scheduler: { policies: Object.keys(SCHED_POLICIES), flags: Object.keys(SCHED_FLAGS) },
      ioPriority: { classes: Object.keys(IOPRIO_CLASSES) },
      personality: { domains: Object.keys(PERSONALITY_DOMAINS), flags: Object.keys(PERSONALITY_FLAGS) },
      timeOffsets: { clocks: TIME_CLOCKS },
    },
    annotations: {
      'org.opencontainers.runtime.name': 'skiff',
    },
  };
}
