// The kernel attribute tables turn config.json fields into the numbers the syscalls take.
import t from 'tap';
import { ioPriorityValue, memoryPolicyAttrs, parseNodes, personalityValue, schedulerAttrs, timeOffsetsText } from '../../src/oci/kernelattrs';

t.test('numbers as the kernel headers define them', async (t) => {
  t.equal(ioPriorityValue({ class: 'IOPRIO_CLASS_BE', priority: 4 }), (2 << 13) | 4, 'IOPRIO_PRIO_VALUE(BE, 4)');
  t.equal(ioPriorityValue({ class: 'IOPRIO_CLASS_IDLE' }), 3 << 13);
  t.equal(personalityValue({ domain: 'LINUX32', flags: ['ADDR_NO_RANDOMIZE'] }), 0x0008 | 0x0040000);
  const s = schedulerAttrs({ policy: 'SCHED_DEADLINE', runtime: 1, deadline: 2, period: 3, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_DL_OVERRUN'] });
  t.same({ ...s }, { policy: 6, nice: 0, priority: 0, flags: 0x05n, runtime: 1n, deadline: 2n, period: 3n, what: 'process.scheduler' });
  t.equal(timeOffsetsText({ monotonic: { secs: -5, nanosecs: 7 }, boottime: {} }), 'monotonic -5 7\nboottime 0 0');
});

t.test('node lists and the set_mempolicy mask', async (t) => {
  t.same(parseNodes('0-2,5, 7', 'f'), [0, 1, 2, 5, 7]);
  t.throws(() => parseNodes('3-1', 'f'), /"3-1" is not a node range/);
  t.throws(() => parseNodes('', 'f'), /is not a node list/);
  const m = memoryPolicyAttrs({ mode: 'MPOL_INTERLEAVE', nodes: '0,65', flags: ['MPOL_F_STATIC_NODES'] });
  t.equal(m.mode, 3 | (1 << 15));
  t.equal(m.maxnode, 128, 'two 64-bit words');
  t.equal(m.nodemask.readBigUInt64LE(0), 1n);
  t.equal(m.nodemask.readBigUInt64LE(8), 2n, 'node 65 is bit 1 of the second word');
  t.same(memoryPolicyAttrs({ mode: 'MPOL_LOCAL' }).maxnode, 0);
});
