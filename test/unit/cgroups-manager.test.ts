// The cgroup manager without root: the factory picks the driver from the record, records in
// the format before the drivers (the cgroup2 directory under the key "") still load, and a
// driver made from such a record removes the container's directories.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { cgroupsFor, parseCgroupRecord } from '../../src/cgroups/manager';
import { V1Cgroups } from '../../src/cgroups/v1/cgroups';
import { V2Cgroups } from '../../src/cgroups/v2/cgroups';
import { Store } from '../../src/container/store';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-cgm-'));
t.teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

t.test('the factory picks the driver from the record', async (t) => {
  const v1 = cgroupsFor({ kind: 'v1', dirs: { memory: '/sys/fs/cgroup/memory/c' }, unified: '/sys/fs/cgroup/unified/c' });
  t.ok(v1 instanceof V1Cgroups, 'v1 (and hybrid): the v1 driver');
  t.equal(v1.cloneIntoFd(), undefined, 'v1 places the init with join(), not clone3');
  t.same(v1.mountView(true), { type: 'hierarchies', dirs: [{ dir: '/sys/fs/cgroup/memory/c', name: 'memory' }] }, 'the cgroup2 companion is not shown');
  const v2 = cgroupsFor({ kind: 'v2', unified: '/sys/fs/cgroup/c' });
  t.ok(v2 instanceof V2Cgroups, 'v2: the v2 driver');
  t.same(v2.mountView(false), { type: 'bind', dir: '/sys/fs/cgroup/c' });
  t.same(v2.mountView(true), { type: 'cgroup2' });
  const none = cgroupsFor(undefined);
  t.ok(none instanceof V2Cgroups, 'no record: an empty one');
  t.same(none.pids(), []);
  t.equal(none.isFrozen(), false);
  t.same(none.destroy(), []);
  t.throws(() => none.freeze(), /no freezer cgroup for this container/);
});

t.test('records before the drivers: "" becomes unified', async (t) => {
  t.same(parseCgroupRecord({ kind: 'v1', dirs: { memory: '/m/c', cpu: '/c/c', '': '/u/c' } }),
    { kind: 'v1', dirs: { memory: '/m/c', cpu: '/c/c' }, unified: '/u/c' }, 'hybrid');
  t.same(parseCgroupRecord({ kind: 'v1', dirs: { memory: '/m/c' } }), { kind: 'v1', dirs: { memory: '/m/c' } }, 'v1 without cgroup2');
  t.same(parseCgroupRecord({ kind: 'v2', dirs: { '': '/sys/fs/cgroup/c' } }), { kind: 'v2', unified: '/sys/fs/cgroup/c' }, 'v2');
  t.same(parseCgroupRecord({ kind: 'v2', dirs: {} }), { kind: 'v2' }, 'the empty v2 record');
  const now = { kind: 'v2', unified: '/sys/fs/cgroup/c' };
  t.same(parseCgroupRecord(now), now, 'today\'s records as they are');
  for (const bad of [null, 'v1', [], { kind: 'v1' }, { kind: 'v3', dirs: {} }, { kind: 'v1', dirs: { memory: 1 } }, { kind: 'v2', unified: 5 }]) {
    t.throws(() => parseCgroupRecord(bad), /not a cgroup record/, JSON.stringify(bad));
  }
});

t.test('a container recorded before the drivers still loads and its cgroups go', async (t) => {
  const root = path.join(tmp, 'root');
  const cg = path.join(tmp, 'cg');
  const dirs = { memory: path.join(cg, 'memory', 'old'), cpu: path.join(cg, 'cpu,cpuacct', 'old'), cpuacct: path.join(cg, 'cpu,cpuacct', 'old') };
  const unified = path.join(cg, 'unified', 'old');
  for (const d of [...Object.values(dirs), unified]) fs.mkdirSync(d, { recursive: true });
  fs.mkdirSync(path.join(root, 'old'), { recursive: true });
  fs.writeFileSync(path.join(root, 'old', 'state.json'), JSON.stringify({
    ociVersion: '1.0.2', id: 'old', pid: 0, bundle: '/b', rootfs: '/b/rootfs', created: '', initStartTime: '', started: true,
    cgroup: { kind: 'v1', dirs: { ...dirs, '': unified } }, config: {},
  }));
  const store = new Store(root);
  const state = store.load('old');
  t.same(state.cgroup, { kind: 'v1', dirs, unified }, 'converted on load');
  const c = cgroupsFor(state.cgroup);
  t.ok(c instanceof V1Cgroups);
  t.same(c.destroy(), [], 'every directory removed');
  for (const d of [...Object.values(dirs), unified]) t.notOk(fs.existsSync(d), `${d} is gone`);
  store.save(state);
  t.same(JSON.parse(fs.readFileSync(path.join(root, 'old', 'state.json'), 'utf8')).cgroup, { kind: 'v1', dirs, unified }, 'saved in today\'s format');
  fs.writeFileSync(path.join(root, 'old', 'state.json'), JSON.stringify({ ...state, cgroup: { kind: 'v1', dirs: 7 } }));
  t.throws(() => store.load('old'), /state\.json is damaged: "cgroup" is not a cgroup record/);
});
