// `skiff features` says what the code accepts: each list comes from the table the code uses.
import t from 'tap';
import { features } from '../../src/oci/features';
import { normalizeSeccomp } from '../../src/oci/seccomp';
import { parseOptions } from '../../src/oci/mountopts';

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
