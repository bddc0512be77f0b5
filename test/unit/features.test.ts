// `skiff features` says what the code accepts: each list comes from the table the code uses.
import t from 'tap';
import { features } from '../../src/oci/features';
import { normalizeSeccomp } from '../../src/oci/seccomp';
import { parseOptions } from '../../src/oci/mountopts';
import { validateSpec } from '../../src/oci/validate';
import { ioPriorityValue, memoryPolicyAttrs, personalityValue, schedulerAttrs, timeOffsetsText } from '../../src/oci/kernelattrs';

t.test('every seccomp name in features is one the profile checker takes', async (t) => {
  const f = features().linux.seccomp;
  t.ok(f.archs.length >= 19, 'all the architectures the checker knows');
  for (const a of f.archs) t.doesNotThrow(() => normalizeSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [a] }), a);
  for (const a of f.actions) t.doesNotThrow(() => normalizeSeccomp({ defaultAction: a, listenerPath: '/x' }), a);
  for (const op of f.operators) {
    t.doesNotThrow(() => normalizeSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op }] }] }), op);
  }
  for (const flag of f.knownFlags) t.doesNotThrow(() => normalizeSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', flags: [flag] }), flag);
  t.throws(() => normalizeSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_NOPE'] }));
});

t.test('every mount option in features is a word the mount planner knows', async (t) => {
  for (const o of features().mountOptions) {
    const p = parseOptions([o], 'mounts[0].options');
    t.same(p.data, [], `${o} is a flag or a propagation (no filesystem data)`);
  }
});

t.test('namespaces, hooks and the kernel attributes in features are what validation takes', async (t) => {
  const f = features();
  const spec = () => ({ ociVersion: '1.2.0', root: { path: 'rootfs' }, process: { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } }, linux: {} as Record<string, unknown> });
  t.same(f.linux.namespaces, ['cgroup', 'ipc', 'mount', 'network', 'pid', 'time', 'user', 'uts'], 'the eight, time included');
  for (const type of f.linux.namespaces) {
    const s = spec();
    s.linux.namespaces = [{ type }];
    t.doesNotThrow(() => validateSpec(s), `namespace ${type}`);
  }
  const s = spec();
  s.linux.namespaces = [{ type: 'nope' }];
  t.throws(() => validateSpec(s), /unknown namespace type/, 'a namespace features does not list is refused');
  for (const kind of f.hooks) {
    const h = spec() as Record<string, unknown>;
    h.hooks = { [kind]: [{ path: '/bin/true' }] };
    t.doesNotThrow(() => validateSpec(h), `hook ${kind}`);
  }
  t.equal(f.linux.seccomp.archs.length, 19, 'all 19 architectures the seccomp checker accepts');
  for (const mode of f.linux.memoryPolicy.modes) {
    for (const flag of f.linux.memoryPolicy.flags) {
      t.doesNotThrow(() => memoryPolicyAttrs({ mode, nodes: ['MPOL_DEFAULT', 'MPOL_LOCAL'].includes(mode) ? undefined : '0', flags: [flag] }), `${mode} ${flag}`);
    }
  }
  for (const policy of f.linux.scheduler.policies) t.doesNotThrow(() => schedulerAttrs({ policy, flags: f.linux.scheduler.flags }), policy);
  for (const cls of f.linux.ioPriority.classes) t.doesNotThrow(() => ioPriorityValue({ class: cls }), cls);
  for (const domain of f.linux.personality.domains) t.doesNotThrow(() => personalityValue({ domain, flags: f.linux.personality.flags }), domain);
  for (const clock of f.linux.timeOffsets.clocks) t.doesNotThrow(() => timeOffsetsText({ [clock]: { secs: 1 } }), clock);
  t.ok(f.linux.netDevices.enabled && f.linux.intelRdt.enabled, 'netDevices and intelRdt are implemented');
});
