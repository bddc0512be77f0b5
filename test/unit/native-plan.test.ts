// The plan crosses into C checked: the addon names any key it does not know, any it misses,
// a NUL byte, a value out of its C type's range. All refused before anything is opened.
import t, { Test } from 'tap';
import { native } from '../../src/native';
import type { NativePlan } from '../../src/native';
import { PLAN_FILE_NAMES } from '../../src/launch/statedir';

function plan(): NativePlan {
  return {
    execMode: false, cloneFlags: 0, joins: [], newMountNs: true, hostMountNs: false, rootfs: '/nonexistent', rootfsReadonly: false,
    rootfsPropagation: 0, noPivot: false, mounts: [], setupDev: false, devices: [], maskedPaths: [], readonlyPaths: [],
    sysctls: [], inUserns: false, rlimits: [], uid: 0, gid: 0, gids: [], capLastCap: 40, noNewPrivs: false,
    cwd: '/', args: ['true'], env: [], preserveFds: 0, stateDir: '/nonexistent-state', ...PLAN_FILE_NAMES,
    processAttrs: {},
  };
}

const refused = (t: Test, edit: (p: Record<string, unknown>) => void, why: RegExp, name: string) => {
  const p = plan() as unknown as Record<string, unknown>;
  edit(p);
  t.throws(() => native().spawnInit(p as unknown as NativePlan), why, name);
};

t.test('a well-formed plan gets past the checks (to the missing state dir)', async (t) => {
  t.throws(() => native().spawnInit(plan()), /open state dir \/nonexistent-state/);
});

t.test('the boundary names what is wrong', async (t) => {
  refused(t, (p) => { p.rootfsReadOnly = true; }, /plan\.rootfsReadOnly: is not a key of the plan/, 'a misspelt key');
  refused(t, (p) => { delete p.cwd; }, /plan\.cwd: is missing/, 'a missing key');
  refused(t, (p) => { p.args = ['ec\0ho']; }, /plan\.args\[0\]: holds a NUL byte/, 'a NUL byte');
  refused(t, (p) => { p.uid = 2 ** 32; }, /plan\.uid: is out of range/, 'a uid past 32 bits');
  refused(t, (p) => { p.uid = 1.5; }, /plan\.uid: is not a safe integer/, 'a fraction');
  refused(t, (p) => { p.rlimits = [{ resource: 7, soft: 1024, hard: 1024n, name: 'RLIMIT_NOFILE' }]; }, /plan\.rlimits\[0\]\.soft: is not a BigInt/, 'an rlimit as a double');
  refused(t, (p) => { p.mounts = [{ destination: '/x', flags: 0, propagation: 0, remount: 0, recAttrSet: 0, recAttrClr: 0, bind: false, sourceIsDir: false, extra: 1 }]; },
    /plan\.mounts\[0\]\.extra: is not a key of the plan/, 'an unknown key in a mount');
  refused(t, (p) => { p.seccompFilter = Buffer.alloc(8 * 70000); }, /seccompFilter: is not a BPF program of at most 65535/, 'a filter whose length would wrap');
  refused(t, (p) => { p.oomScoreAdj = -1001; }, /plan\.oomScoreAdj: is out of range/, 'oom_score_adj past -1000');
  refused(t, (p) => { delete p.processAttrs; }, /plan\.processAttrs: is missing/, 'no process attributes');
  refused(t, (p) => { p.processAttrs = { ioPriority: 0x10000 }; }, /plan\.processAttrs\.ioPriority: is out of range/, 'an ioprio past 16 bits');
  refused(t, (p) => { p.processAttrs = { scheduler: { policy: 7, nice: 0, priority: 0, flags: 0n, runtime: 0n, deadline: 0n, period: 0n, what: 'x' } }; },
    /plan\.processAttrs\.scheduler\.policy: is out of range/, 'a policy the kernel has not');
  refused(t, (p) => { p.processAttrs = { memoryPolicy: { mode: 2, nodemask: Buffer.alloc(8), maxnode: 65 } }; },
    /plan\.processAttrs\.memoryPolicy\.maxnode: is past the end of nodemask/, 'a maxnode the mask does not hold');
  refused(t, (p) => { p.processAttrs = { personality: 8, persona: 1 }; }, /plan\.processAttrs\.persona: is not a key of the plan/, 'a misspelt attribute');
});
