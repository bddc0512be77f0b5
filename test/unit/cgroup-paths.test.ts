import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { detectLayout, ownCgroups } from '../../src/cgroups/layout';
import { cgroupRecord } from '../../src/cgroups/paths';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cg-'));
t.teardown(() => fs.rmSync(dir, { recursive: true }));

const hybrid = [
  '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
  '31 30 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  '32 30 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '33 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
  '34 30 0:30 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
].join('\n');
const unified = '30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate';

t.test('hybrid layout: v1 controllers, combined mounts, the unified mount', async (t) => {
  fs.writeFileSync(path.join(dir, 'mi'), hybrid);
  const l = detectLayout(path.join(dir, 'mi'));
  t.equal(l.kind, 'v1');
  t.equal(l.v1.get('cpu'), '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(l.v1.get('cpuacct'), '/sys/fs/cgroup/cpu,cpuacct');
  t.equal(l.v1.get('name=systemd'), '/sys/fs/cgroup/systemd');
  t.equal(l.unified, '/sys/fs/cgroup/unified');
  fs.writeFileSync(path.join(dir, 'cg'), '4:memory:/user.slice\n3:cpu,cpuacct:/\n1:name=systemd:/init.scope\n0::/init.scope\n');
  const own = ownCgroups(path.join(dir, 'cg'));
  t.same(cgroupRecord(l, own, undefined, 'c1'), {
    kind: 'v1',
    dirs: {
      memory: '/sys/fs/cgroup/memory/user.slice/c1', cpu: '/sys/fs/cgroup/cpu,cpuacct/c1', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/c1',
      'name=systemd': '/sys/fs/cgroup/systemd/init.scope/c1',
    },
    unified: '/sys/fs/cgroup/unified/init.scope/c1',
  }, 'no cgroupsPath: under our own cgroup, named by id (runc)');
  const dirs = (p: string) => (cgroupRecord(l, own, p, 'c1') as { dirs: Record<string, string> }).dirs;
  t.equal(dirs('/abs/x').memory, '/sys/fs/cgroup/memory/abs/x', 'absolute: from the root');
  t.equal(dirs('rel/x').memory, '/sys/fs/cgroup/memory/user.slice/rel/x', 'relative: from our own');
});

t.test('pure v2', async (t) => {
  fs.writeFileSync(path.join(dir, 'mi2'), unified);
  const l = detectLayout(path.join(dir, 'mi2'));
  t.equal(l.kind, 'v2');
  t.same(cgroupRecord(l, { v1: new Map(), unified: '/system.slice/x.service' }, '/k8s/pod1', 'c'), { kind: 'v2', unified: '/sys/fs/cgroup/k8s/pod1' });
});
