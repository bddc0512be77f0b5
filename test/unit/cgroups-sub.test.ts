// exec --cgroup's grammar and the records it makes, v2 and combined v1 mounts included (the
// host of the integration tests is v1 hybrid with separate mounts).
import t from 'tap';
import { parseSubCgroupArgs, subCgroupRecord } from '../../src/cgroups/sub';
import type { CgroupRecord } from '../../src/cgroups/manager';

const v2: CgroupRecord = { kind: 'v2', unified: '/sys/fs/cgroup/c1' };
const v1: CgroupRecord = {
  kind: 'v1', unified: '/sys/fs/cgroup/unified/c1',
  dirs: { cpu: '/sys/fs/cgroup/cpu,cpuacct/c1', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c1', memory: '/sys/fs/cgroup/memory/c1' },
};
const sub = (rec: CgroupRecord, ...args: string[]) => subCgroupRecord(rec, parseSubCgroupArgs(args)!);

t.test('the grammar: runc\'s getSubCgroupPaths', async (t) => {
  t.equal(parseSubCgroupArgs(undefined), undefined);
  t.equal(parseSubCgroupArgs([]), undefined);
  t.same([...parseSubCgroupArgs(['foo'])!], [['', 'foo']]);
  t.same([...parseSubCgroupArgs(['cpu,memory:a', 'pids:b'])!], [['cpu', 'a'], ['memory', 'a'], ['pids', 'b']]);
  t.throws(() => parseSubCgroupArgs(['a:b:c']), /^invalid --cgroup argument: a:b:c$/);
  t.throws(() => parseSubCgroupArgs(['a', 'cpu:b']), /^invalid --cgroup argument: a \(missing <controller>: prefix\)$/);
});

t.test('v2: the plain path moves the one directory; a controller is unknown', async (t) => {
  t.same(sub(v2, 'foo/bar'), { kind: 'v2', unified: '/sys/fs/cgroup/c1/foo/bar' });
  t.same(sub(v2, '/'), v2);
  t.same(sub(v2, '/x/../y'), { kind: 'v2', unified: '/sys/fs/cgroup/c1/y' });
  t.throws(() => sub(v2, '..'), /\.\. is not a sub cgroup path/);
  t.throws(() => sub(v2, '../c1x'), /\.\.\/c1x is not a sub cgroup path/, 'a sibling sharing the name\'s prefix is not below');
  t.throws(() => sub(v2, 'memory:foo'), /unknown controller memory in SubCgroupPaths/);
});

t.test('v1: every hierarchy for a plain path; a controller moves its co-mounted ones', async (t) => {
  t.same(sub(v1, 'x'), {
    kind: 'v1', unified: '/sys/fs/cgroup/unified/c1/x',
    dirs: { cpu: '/sys/fs/cgroup/cpu,cpuacct/c1/x', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c1/x', memory: '/sys/fs/cgroup/memory/c1/x' },
  });
  t.same(sub(v1, 'cpu:x'), { ...v1, dirs: { ...(v1 as { dirs: object }).dirs, cpu: '/sys/fs/cgroup/cpu,cpuacct/c1/x', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c1/x' } });
  t.same(sub(v1, 'memory:m', 'cpu:x').kind, 'v1');
  t.throws(() => sub(v1, 'pids:x'), /unknown controller pids/);
});
