// The systemd driver without systemd: runc's unit naming and slice expansion, the record for
// v1 and v2 layouts, and linux.resources as unit properties with runc's conversions.
import t from 'tap';
import { expandSlice, systemdRecord, unitName } from '../../src/cgroups/systemd/unit';
import { INFINITY, cpuQuotaProperties, deviceProperties, rangeToBits, resourceProperties, scopeProperties, unifiedProperties } from '../../src/cgroups/systemd/properties';
import { cgroupsFor, parseCgroupRecord } from '../../src/cgroups/manager';
import { SystemdCgroups } from '../../src/cgroups/systemd/cgroups';
import type { Layout } from '../../src/cgroups/layout';
import type { Resources } from '../../src/oci/spec';
import { features } from '../../src/oci/features';

t.test('cgroupsPath slice:prefix:name as runc reads it', async (t) => {
  t.same(unitName(undefined, 'c1'), { slice: 'system.slice', unit: 'skiff-c1.scope' }, 'none: system.slice, prefix skiff');
  t.same(unitName('', 'c1'), { slice: 'system.slice', unit: 'skiff-c1.scope' }, 'empty: the same');
  t.same(unitName('machine.slice:libpod:abc', 'c1'), { slice: 'machine.slice', unit: 'libpod-abc.scope' });
  t.same(unitName(':cri-containerd:abc', 'c1'), { slice: 'system.slice', unit: 'cri-containerd-abc.scope' }, 'empty slice: system.slice');
  t.same(unitName('kubepods-besteffort-pod1.slice:cri-containerd:abc', 'c1').slice, 'kubepods-besteffort-pod1.slice');
  t.throws(() => unitName('/plain/path', 'c1'), /expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups, got "\/plain\/path" instead/, 'a plain path: runc\'s error');
  t.throws(() => unitName('a:b', 'c1'), /slice:prefix:name/);
  t.throws(() => unitName('bad:p:n', 'c1'), /invalid slice name: bad/);
  t.throws(() => unitName('system.slice:p:', 'c1'), /invalid unit name/);
  t.throws(() => unitName('system.slice:p:pod.slice', 'c1'), /cannot hold the container's processes/);
});

t.test('slice expansion (runc\'s ExpandSlice)', async (t) => {
  t.equal(expandSlice('system.slice'), '/system.slice');
  t.equal(expandSlice('a-b.slice'), '/a.slice/a-b.slice');
  t.equal(expandSlice('test-a-b.slice'), '/test.slice/test-a.slice/test-a-b.slice');
  t.equal(expandSlice('-.slice'), '/');
  for (const bad of ['.slice', 'a', 'a/b.slice', 'a--b.slice', '-a.slice', 'a-.slice']) {
    t.throws(() => expandSlice(bad), /invalid slice name/, bad);
  }
});

t.test('the record: the scope under each hierarchy', async (t) => {
  const v2: Layout = { kind: 'v2', v1: new Map(), unified: '/sys/fs/cgroup' };
  t.same(systemdRecord(v2, 'a-b.slice:p:n', 'id'), { kind: 'systemd', unit: 'p-n.scope', slice: 'a-b.slice', fs: { kind: 'v2', unified: '/sys/fs/cgroup/a.slice/a-b.slice/p-n.scope' } });
  const v1: Layout = { kind: 'v1', v1: new Map([['memory', '/sys/fs/cgroup/memory'], ['name=systemd', '/sys/fs/cgroup/systemd']]), unified: '/sys/fs/cgroup/unified' };
  t.same(systemdRecord(v1, undefined, 'c'), {
    kind: 'systemd', unit: 'skiff-c.scope', slice: 'system.slice',
    fs: { kind: 'v1', dirs: { memory: '/sys/fs/cgroup/memory/system.slice/skiff-c.scope', 'name=systemd': '/sys/fs/cgroup/systemd/system.slice/skiff-c.scope' }, unified: '/sys/fs/cgroup/unified/system.slice/skiff-c.scope' },
  });
  const rec = systemdRecord(v2, undefined, 'c');
  t.same(parseCgroupRecord(JSON.parse(JSON.stringify(rec))), rec, 'state.json round trip');
  t.throws(() => parseCgroupRecord({ kind: 'systemd', unit: 'u', slice: 's', fs: { kind: 'systemd', unit: 'u', slice: 's', fs: {} } }), /not a cgroup record/);
  t.throws(() => parseCgroupRecord({ kind: 'systemd', slice: 's', fs: { kind: 'v2' } }), /not a cgroup record/);
  const cg = cgroupsFor(rec);
  t.ok(cg instanceof SystemdCgroups, 'the systemd driver');
  t.same(cg.mountView(true), { type: 'cgroup2' }, 'shown as the cgroupfs driver shows the scope');
  t.equal(features().linux.cgroup.systemd, true, 'features says systemd');
});

t.test('resources as unit properties (v2)', async (t) => {
  const r = {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
    cpu: { shares: 1024, quota: 50000, period: 100000, cpus: '0-1', mems: '0' },
    pids: { limit: 20 },
    blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }] },
  } as unknown as Resources;
  const props = resourceProperties(r, { version: 'v2', skipDevices: true });
  t.same(props, [
    ['MemoryMax', 't', 67108864n],
    ['MemoryLow', 't', 33554432n],
    ['MemorySwapMax', 't', 33554432n],
    ['CPUWeight', 't', 39n],
    ['CPUQuotaPeriodUSec', 't', 100000n],
    ['CPUQuotaPerSecUSec', 't', 500000n],
    ['IOWeight', 't', 4950n],
    ['IOReadBandwidthMax', 'a(st)', [['/dev/block/8:0', 1048576n]]],
    ['TasksMax', 't', 20n],
    ['AllowedCPUs', 'ay', Buffer.from([3])],
    ['AllowedMemoryNodes', 'ay', Buffer.from([1])],
  ]);
  const unlimited = resourceProperties({ memory: { limit: -1 }, pids: { limit: -1 } } as unknown as Resources, { version: 'v2', skipDevices: true });
  t.same(resourceProperties({ memory: { limit: 1 << 20, swap: 1 << 20 } } as unknown as Resources, { version: 'v2', skipDevices: true }),
    [['MemoryMax', 't', 1048576n], ['MemorySwapMax', 't', 0n]], 'swap equal to the limit: MemorySwapMax=0, so systemd keeps memory.swap.max 0');
  t.same(unlimited, [['MemoryMax', 't', INFINITY], ['MemorySwapMax', 't', INFINITY], ['TasksMax', 't', INFINITY]], '-1 is infinity');
  t.same(resourceProperties({ memory: { limit: 1 << 20 }, cpu: { shares: 512 }, blockIO: { weight: 100 } } as unknown as Resources, { version: 'v1', skipDevices: true }),
    [['MemoryLimit', 't', 1048576n], ['CPUShares', 't', 512n], ['BlockIOWeight', 't', 100n]], 'v1 names');
  t.throws(() => resourceProperties({ memory: { limit: 100, swap: 50 } } as unknown as Resources, { version: 'v2' }), /memory\+swap limit should be >= memory limit/);
});

t.test('cpu quota: runc\'s rounding up to 10 ms per second', async (t) => {
  t.same(cpuQuotaProperties(0, 0), []);
  t.same(cpuQuotaProperties(12345, 0), [['CPUQuotaPerSecUSec', 't', 130000n]], 'default period 100 ms, rounded up');
  t.same(cpuQuotaProperties(-1, 50000), [['CPUQuotaPeriodUSec', 't', 50000n], ['CPUQuotaPerSecUSec', 't', INFINITY]], 'no quota with a period: infinity');
  t.same(cpuQuotaProperties(200000, 100000), [['CPUQuotaPeriodUSec', 't', 100000n], ['CPUQuotaPerSecUSec', 't', 2000000n]]);
});

t.test('cpu lists as bit masks (runc\'s RangeToBits)', async (t) => {
  t.same(rangeToBits('0'), Buffer.from([1]));
  t.same(rangeToBits('0-2,7'), Buffer.from([0x87]));
  t.same(rangeToBits('9'), Buffer.from([0, 2]));
  t.throws(() => rangeToBits('3-1'), /invalid range/);
});

t.test('devices: a strict whitelist of the emulated rules', async (t) => {
  const procDevices = 'Character devices:\n  1 mem\n136 pts\n\nBlock devices:\n  8 sd\n';
  const props = deviceProperties([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'b', major: 8, minor: null, access: 'r' }, { allow: true, type: 'c', major: 250, minor: null, access: 'r' }], procDevices);
  t.same(props.slice(0, 2), [['DevicePolicy', 's', 'strict'], ['DeviceAllow', 'a(ss)', []]], 'strict, the list emptied first');
  const allow = props[2][2] as [string, string][];
  t.ok(allow.some(([p, a]) => p === '/dev/char/10:229' && a === 'rw'), 'a device by /dev/char/MAJ:MIN');
  t.ok(allow.some(([p, a]) => p === '/dev/char/1:3' && a === 'rwm'), 'runc\'s default devices (/dev/null)');
  t.ok(allow.some(([p]) => p === 'char-pts'), 'a wildcard minor by its /proc/devices group, as runc 1.1 (/dev/pts)');
  t.ok(allow.some(([p, a]) => p === 'block-sd' && a === 'r'), 'block-sd');
  t.ok(allow.some(([p]) => p === 'char-250'), 'a major /proc/devices does not list: char-MAJOR');
  t.ok(allow.some(([p, a]) => p === 'char-*' && a === 'm'), 'mknod of any char device');
  t.same(deviceProperties([{ allow: true, access: 'rwm' }]), [['DevicePolicy', 's', 'auto'], ['DeviceAllow', 'a(ss)', []]], 'allow-all: auto');
});

t.test('unified keys systemd has properties for', async (t) => {
  t.same(unifiedProperties({ 'memory.high': '1000', 'pids.max': 'max', 'cpu.max': '20000 50000', 'io.max': '8:0 rbps=1' }), [
    ['MemoryHigh', 't', 1000n],
    ['TasksMax', 't', INFINITY],
    ['CPUQuotaPeriodUSec', 't', 50000n],
    ['CPUQuotaPerSecUSec', 't', 400000n],
  ], 'io.max is only a file');
  t.throws(() => unifiedProperties({ 'memory.high': 'lots' }), /unified.memory.high: "lots" is not a value systemd can take/);
});

t.test('the scope: delegated, accounted, in its slice around one pid', async (t) => {
  const p = scopeProperties('system.slice', 'd', 42, 'v2');
  t.same(p.find(([n]) => n === 'PIDs'), ['PIDs', 'au', [42]]);
  t.same(p.find(([n]) => n === 'Delegate'), ['Delegate', 'b', true]);
  t.same(p.find(([n]) => n === 'Slice'), ['Slice', 's', 'system.slice']);
  t.ok(p.some(([n]) => n === 'IOAccounting'), 'v2: IOAccounting');
  t.ok(scopeProperties('system.slice', 'd', 42, 'v1').some(([n]) => n === 'BlockIOAccounting'), 'v1: BlockIOAccounting');
});
