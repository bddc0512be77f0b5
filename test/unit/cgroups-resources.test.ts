// linux.resources without root: validation messages, runc's conversions, and what is written
// into fake v1 and v2 cgroup trees (plain files in a temp dir), the device filter program,
// update's merge and the events/update flag parsers.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkResources } from '../../src/cgroups/resources';
import { blkioToIoWeight, sharesToWeight, swapToV2 } from '../../src/cgroups/v2/resources';
import { cgroupsFor } from '../../src/cgroups/manager';
import type { CgroupRecord, Cgroups } from '../../src/cgroups/manager';
import { deviceProgram, emulate } from '../../src/cgroups/v2/bpf';
import { effectiveRules } from '../../src/cgroups/devices';
import { mergeResources } from '../../src/cgroups/resources';
import { ramInBytes } from '../../src/cli/values';
import { parseDuration } from '../../src/cli/values';
import { toJson } from '../../src/oci/json';
import type { Resources } from '../../src/oci/spec';

const MB = 1024 * 1024;

t.test('checkResources names the field and the rule', async (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ memory: { limit: '1g' } }, /^config\.json: linux\.resources\.memory\.limit: must be an integer$/],
    [{ memory: { limit: 1.5 } }, /memory\.limit: must be an integer/],
    [{ memory: { swappiness: 101 } }, /memory\.swappiness: must be between 0 and 100/],
    [{ memory: { disableOOMKiller: 1 } }, /memory\.disableOOMKiller: must be true or false/],
    [{ memory: 5 }, /linux\.resources\.memory: must be an object/],
    [{ memory: { limitt: 5 } }, /linux\.resources\.memory\.limitt: is not supported by skiff/],
    [{ cpu: { shares: -1 } }, /cpu\.shares: must be between 0 and/],
    [{ cpu: { cpus: '0-a' } }, /cpu\.cpus: must be a list such as "0-3,6"/],
    [{ cpu: { mems: 0 } }, /cpu\.mems: must be a string/],
    [{ pids: {} }, /pids\.limit: is required/],
    [{ pids: { limit: 'x' } }, /pids\.limit: must be an integer/],
    [{ blockIO: { weight: 2000 } }, /blockIO\.weight: must be between 10 and 1000/],
    [{ blockIO: { weightDevice: [{ major: 8 }] } }, /blockIO\.weightDevice\[0\]\.minor: is required/],
    [{ blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0 }] } }, /throttleReadBpsDevice\[0\]\.rate: is required/],
    [{ blockIO: { throttleWriteIOPSDevice: {} } }, /throttleWriteIOPSDevice: must be an array/],
    [{ hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, /hugepageLimits\[0\]\.pageSize: must be a size such as "2MB"/],
    [{ hugepageLimits: [{ pageSize: '2MB' }] }, /hugepageLimits\[0\]\.limit: is required/],
    [{ network: { classID: -1 } }, /network\.classID: must be between 0 and/],
    [{ network: { priorities: [{ name: 'eth0' }] } }, /network\.priorities\[0\]\.priority: is required/],
    [{ rdma: { 'mlx/0': {} } }, /rdma\.mlx\/0: is not an RDMA device name/],
    [{ rdma: { mlx5_0: { hcaHandles: 'x' } } }, /rdma\.mlx5_0\.hcaHandles: must be an integer/],
    [{ unified: { 'memory.high': 5 } }, /unified\.memory\.high: must be a string/],
    [{ unified: { '../x': '1' } }, /unified\.\.\.\/x: must be a file name/],
    [{ unified: { memory: '1' } }, /unified\.memory: must be in the form CONTROLLER\.PARAMETER/],
    [{ intelRdt: {} }, /linux\.resources\.intelRdt: is not supported by skiff/],
  ];
  for (const [r, want] of bad) t.throws(() => checkResources(r), want, JSON.stringify(r));
  t.throws(() => checkResources({ memory: { limit: 'x' } }, 'stdin', ''), /^stdin: memory\.limit: must be an integer$/, 'update -r - prefix');
  const good = {
    memory: { limit: 64 * MB, reservation: -1, swap: -1, kernel: 1, kernelTCP: 1, swappiness: 60, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true },
    cpu: { shares: 1024, quota: -1, burst: 0, period: 100000, realtimeRuntime: 0, realtimePeriod: 0, cpus: '0-1,3', mems: '', idle: 0 },
    pids: { limit: -1 },
    blockIO: { weight: 10, leafWeight: 1000, weightDevice: [{ major: 8, minor: 0, weight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 }] },
    hugepageLimits: [{ pageSize: '1GB', limit: 0 }],
    network: { classID: 0x100001, priorities: [{ name: 'lo', priority: 2 }] },
    rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 100 } },
    unified: { 'memory.high': '1000', 'io.max': '8:0 rbps=1' },
    devices: [],
  };
  t.doesNotThrow(() => checkResources(good), 'every field of the spec, well typed');
  t.doesNotThrow(() => checkResources({ memory: { swappiness: -1 } }), 'swappiness -1 is "unset"');
});

t.test('runc\'s conversions', async (t) => {
  t.equal(sharesToWeight(0), 0);
  t.equal(sharesToWeight(2), 1);
  t.equal(sharesToWeight(1024), 39);
  t.equal(sharesToWeight(262144), 10000);
  t.equal(sharesToWeight(1), 1, 'Go truncates toward zero');
  t.equal(blkioToIoWeight(0), 0);
  t.equal(blkioToIoWeight(10), 1);
  t.equal(blkioToIoWeight(500), 4950);
  t.equal(blkioToIoWeight(1000), 10000);
  t.equal(swapToV2(0, 0), 0);
  t.equal(swapToV2(0, -1), -1, 'unlimited memory, unset swap: unlimited swap');
  t.equal(swapToV2(-1, 100), -1);
  t.equal(swapToV2(300, 100), 200);
  t.equal(swapToV2(100, 100), 0);
  t.throws(() => swapToV2(100, 0), /unable to set swap limit without memory limit/);
  t.throws(() => swapToV2(50, 100), /memory\+swap limit should be >= memory limit/);
});

// A fake cgroup tree: each listed file exists with the given content. "unified" is the
// cgroup2 directory, any other key a v1 hierarchy.
function fakeTree(kind: 'v1' | 'v2', files: Record<string, Record<string, string>>): Cgroups {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `skiff-fakecg-${kind}-`));
  const dirs: Record<string, string> = {};
  for (const [ctrl, fl] of Object.entries(files)) {
    if (!fl) continue;
    const d = path.join(root, ctrl, 'ctr');
    fs.mkdirSync(d, { recursive: true });
    for (const [f, v] of Object.entries(fl)) fs.writeFileSync(path.join(d, f), v);
    dirs[ctrl] = d;
  }
  const { unified, ...v1 } = dirs;
  const rec: CgroupRecord = kind === 'v1' ? { kind, dirs: v1, ...(unified ? { unified } : {}) } : { kind, unified };
  return cgroupsFor(rec);
}
const dirOf = (cg: Cgroups, ctrl: string) => (ctrl === 'unified' ? (cg.record as { unified?: string }).unified : (cg.record as { dirs: Record<string, string> }).dirs[ctrl])!;
const read = (cg: Cgroups, ctrl: string, f: string) => fs.readFileSync(path.join(dirOf(cg, ctrl), f), 'utf8');

const V1_FILES = {
  memory: { 'memory.limit_in_bytes': '9223372036854771712', 'memory.memsw.limit_in_bytes': '9223372036854771712', 'memory.soft_limit_in_bytes': '', 'memory.swappiness': '60', 'memory.oom_control': '', 'memory.use_hierarchy': '1' },
  cpu: { 'cpu.shares': '1024', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_period_us': '100000', 'cpu.cfs_burst_us': '0', 'cpu.rt_runtime_us': '0', 'cpu.rt_period_us': '1000000', 'cpu.idle': '0' },
  cpuset: { 'cpuset.cpus': '0-1', 'cpuset.mems': '0' },
  pids: { 'pids.max': 'max' },
  blkio: { 'blkio.weight': '', 'blkio.weight_device': '', 'blkio.leaf_weight': '', 'blkio.leaf_weight_device': '', 'blkio.throttle.read_bps_device': '', 'blkio.throttle.write_bps_device': '', 'blkio.throttle.read_iops_device': '', 'blkio.throttle.write_iops_device': '' },
  hugetlb: { 'hugetlb.2MB.limit_in_bytes': '', 'hugetlb.2MB.rsvd.limit_in_bytes': '' },
  net_cls: { 'net_cls.classid': '' },
  net_prio: { 'net_prio.ifpriomap': '' },
  rdma: { 'rdma.max': '' },
  devices: { 'devices.allow': '', 'devices.deny': '' },
};

const FULL: Resources = {
  memory: { limit: 64 * MB, reservation: 32 * MB, swap: 128 * MB, swappiness: 10, disableOOMKiller: true },
  cpu: { shares: 512, quota: 20000, period: 50000, burst: 1000, realtimeRuntime: 500, realtimePeriod: 100000, cpus: '1', mems: '0', idle: 1 },
  pids: { limit: 99 },
  blockIO: { weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 100 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 10 }] },
  hugepageLimits: [{ pageSize: '2MB', limit: 4 * MB }],
  network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 5 }] },
  rdma: { mlx5_0: { hcaHandles: 2, hcaObjects: 9 } },
};

t.test('v1: every field written where runc writes it', async (t) => {
  const cg = fakeTree('v1', V1_FILES);
  cg.applyResources(FULL);
  const want: [string, string, string][] = [
    ['memory', 'memory.limit_in_bytes', String(64 * MB)], ['memory', 'memory.memsw.limit_in_bytes', String(128 * MB)],
    ['memory', 'memory.soft_limit_in_bytes', String(32 * MB)], ['memory', 'memory.swappiness', '10'], ['memory', 'memory.oom_control', '1'],
    ['cpu', 'cpu.shares', '512'], ['cpu', 'cpu.cfs_quota_us', '20000'], ['cpu', 'cpu.cfs_period_us', '50000'], ['cpu', 'cpu.cfs_burst_us', '1000'],
    ['cpu', 'cpu.rt_runtime_us', '500'], ['cpu', 'cpu.rt_period_us', '100000'], ['cpu', 'cpu.idle', '1'],
    ['cpuset', 'cpuset.cpus', '1'], ['cpuset', 'cpuset.mems', '0'], ['pids', 'pids.max', '99'],
    ['blkio', 'blkio.weight', '300'], ['blkio', 'blkio.leaf_weight', '200'], ['blkio', 'blkio.weight_device', '8:0 400'],
    ['blkio', 'blkio.leaf_weight_device', '8:0 100'], ['blkio', 'blkio.throttle.read_bps_device', '8:0 1000'], ['blkio', 'blkio.throttle.write_iops_device', '8:0 10'],
    ['hugetlb', 'hugetlb.2MB.limit_in_bytes', String(4 * MB)], ['hugetlb', 'hugetlb.2MB.rsvd.limit_in_bytes', String(4 * MB)],
    ['net_cls', 'net_cls.classid', '1048577'], ['net_prio', 'net_prio.ifpriomap', 'eth0 5'], ['rdma', 'rdma.max', 'mlx5_0 hca_handle=2 hca_object=9'],
  ];
  for (const [c, f, v] of want) t.equal(read(cg, c, f), v, f);
  t.match(read(cg, 'devices', 'devices.allow'), /c 10:200 rwm/, 'device rules through the same seam');
});

t.test('v1: BFQ file names, -1, and missing controllers', async (t) => {
  const cg = fakeTree('v1', { ...V1_FILES, blkio: { 'blkio.bfq.weight': '', 'blkio.bfq.weight_device': '' }, hugetlb: undefined as never });
  cg.applyResources({ blockIO: { weight: 700, weightDevice: [{ major: 8, minor: 16, weight: 50 }] }, memory: { limit: -1 }, pids: { limit: -1 } });
  t.equal(read(cg, 'blkio', 'blkio.bfq.weight'), '700', 'no blkio.weight: blkio.bfq.weight');
  t.equal(read(cg, 'blkio', 'blkio.bfq.weight_device'), '8:16 50');
  t.equal(read(cg, 'memory', 'memory.limit_in_bytes'), '-1');
  t.equal(read(cg, 'memory', 'memory.memsw.limit_in_bytes'), '-1', 'limit -1 with no swap: swap -1 too');
  t.equal(read(cg, 'pids', 'pids.max'), 'max');
  t.throws(() => cg.applyResources({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }),
    /^config\.json: linux\.resources\.hugepageLimits\[0\]: the hugetlb cgroup controller is not available on this host \(cgroup v1\)$/);
  t.throws(() => cg.applyResources({ unified: { 'memory.high': '1' } }), /linux\.resources\.unified: cannot use unified on cgroup v1/);
  t.throws(() => cg.applyResources({ memory: { swappiness: 200 } }), /invalid memory swappiness value: 200 \(valid range is 0-100\)/);
  t.throws(() => cg.applyResources({ blockIO: { leafWeight: 100 } }), /blockIO\.leafWeight: this host's blkio cgroup has no blkio\.leaf_weight/);
  t.throws(() => cg.applyResources({ blockIO: { leafWeight: 100 } }, { file: 'update', base: '' }), /^update: blockIO\.leafWeight: /, 'update messages');
});

const V2_FILES = {
  unified: {
    'cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma', 'memory.max': 'max', 'memory.low': '0', 'memory.swap.max': 'max', 'memory.high': 'max', 'memory.current': String(10 * MB),
    'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0', 'cpu.idle': '0', 'cpuset.cpus': '', 'cpuset.mems': '', 'pids.max': 'max',
    'io.weight': 'default 100', 'io.max': '', 'hugetlb.2MB.max': 'max', 'hugetlb.2MB.rsvd.max': 'max', 'rdma.max': '',
  },
};

t.test('v2: runc\'s fs2 translations', async (t) => {
  const cg = fakeTree('v2', V2_FILES);
  // attachDeviceFilter needs the kernel: skip devices here.
  cg.applyResources({ ...FULL, memory: { limit: 64 * MB, reservation: 32 * MB, swap: 128 * MB }, cpu: { shares: 512, quota: 20000, period: 50000, burst: 1000, cpus: '1', mems: '0', idle: 1 }, blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] }, network: undefined, unified: { 'memory.high': String(60 * MB) } }, { skipDevices: true });
  const want: [string, string][] = [
    ['memory.max', String(64 * MB)], ['memory.low', String(32 * MB)], ['memory.swap.max', String(64 * MB)],
    ['cpu.weight', String(sharesToWeight(512))], ['cpu.max', '20000 50000'], ['cpu.max.burst', '1000'], ['cpu.idle', '1'],
    ['cpuset.cpus', '1'], ['cpuset.mems', '0'], ['pids.max', '99'], ['io.weight', String(blkioToIoWeight(300))], ['io.max', '8:0 rbps=1000'],
    ['hugetlb.2MB.max', String(4 * MB)], ['hugetlb.2MB.rsvd.max', String(4 * MB)], ['rdma.max', 'mlx5_0 hca_handle=2 hca_object=9'],
    ['memory.high', String(60 * MB)],
  ];
  for (const [f, v] of want) t.equal(read(cg, 'unified', f), v, f);
  cg.applyResources({ memory: { limit: 100 * MB, swap: 100 * MB }, cpu: { quota: -1, period: 100000 } }, { skipDevices: true });
  t.equal(read(cg, 'unified', 'memory.swap.max'), '0', 'memory == memory+swap: no swap');
  t.equal(read(cg, 'unified', 'cpu.max'), 'max 100000', 'quota -1: max');
  cg.applyResources({ memory: { limit: -1 }, cpu: { period: 20000 } }, { skipDevices: true });
  t.equal(read(cg, 'unified', 'memory.max'), 'max');
  t.equal(read(cg, 'unified', 'memory.swap.max'), 'max');
  t.equal(read(cg, 'unified', 'cpu.max'), 'max 20000', 'period alone');
});

t.test('v2: what cgroup v2 cannot do is refused by name', async (t) => {
  const cg = fakeTree('v2', V2_FILES);
  const o = { skipDevices: true };
  t.throws(() => cg.applyResources({ memory: { swappiness: 10 } }, o), /^config\.json: linux\.resources\.memory\.swappiness: cgroup v2 has no per-cgroup swappiness/);
  t.doesNotThrow(() => cg.applyResources({ memory: { swappiness: -1, disableOOMKiller: false } }, o), 'unset values pass');
  t.throws(() => cg.applyResources({ memory: { disableOOMKiller: true } }, o), /memory\.disableOOMKiller: cgroup v2 cannot disable the OOM killer/);
  t.throws(() => cg.applyResources({ cpu: { realtimeRuntime: 10 } }, o), /cpu\.realtimeRuntime: cgroup v2 has no realtime/);
  t.throws(() => cg.applyResources({ network: { classID: 1 } }, o), /network\.classID: cgroup v2 has no net_cls or net_prio controller/);
  t.throws(() => cg.applyResources({ blockIO: { leafWeight: 10 } }, o), /blockIO\.leafWeight: cgroup v2 has no leaf weights/);
  t.throws(() => cg.applyResources({ blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 10 }] } }, o), /weightDevice\[0\]\.weight: per-device weights need the BFQ/);
  t.throws(() => cg.applyResources({ memory: { swap: 10 * MB } }, o), /memory\.swap: unable to set swap limit without memory limit/);
  t.throws(() => cg.applyResources({ memory: { limit: MB, checkBeforeUpdate: true } }, o), /memory\.limit: rejecting memory limit 1048576 below current usage 10485760/);
  t.doesNotThrow(() => cg.applyResources({ memory: { limit: MB } }, o), 'without checkBeforeUpdate the kernel decides (reclaim/OOM)');
  t.throws(() => cg.applyResources({ unified: { 'misc.max': 'x 1' } }, o), /unified\.misc\.max: can't be set: controller "misc" not available/);
  t.throws(() => cg.applyResources({ unified: { 'memory.nope': '1' } }, o), /unified\.memory\.nope: no such file/);
  t.throws(() => cg.applyResources({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] }, o), /hugepageLimits\[0\]\.pageSize: this host has no 1GB huge pages/);
  fs.unlinkSync(path.join(dirOf(cg, 'unified'), 'pids.max'));
  t.throws(() => cg.applyResources({ pids: { limit: 5 } }, o), /pids\.limit: the pids controller is not enabled for this cgroup \(pids\.max is missing\)/);
  const bfq = fakeTree('v2', { unified: { ...V2_FILES.unified, 'io.bfq.weight': 'default 100' } });
  bfq.applyResources({ blockIO: { weight: 300, weightDevice: [{ major: 8, minor: 0, weight: 50 }] } }, o);
  t.equal(read(bfq, 'unified', 'io.bfq.weight'), '8:0 50', 'BFQ: weights as they are, per device too');
  t.equal(read(bfq, 'unified', 'io.weight'), 'default 100', 'io.weight untouched with BFQ');
});

t.test('device filter: runc\'s emulator and program layout', async (t) => {
  const e = emulate(effectiveRules([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'm' }]));
  t.equal(e.defaultAllow, false);
  t.same(e.rules.find((r) => r.major === 10 && r.minor === 229), { type: 'c', major: 10, minor: 229, access: 'rwm', allow: true }, 'exceptions merge');
  t.same(e.rules.slice(0, 2).map((r) => `${r.type} ${r.major}:${r.minor}`), ['b -1:-1', 'c -1:-1'], 'sorted as runc sorts');
  const allowAll = emulate([{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'w' }]);
  t.equal(allowAll.defaultAllow, true);
  t.same(allowAll.rules, [{ type: 'c', major: 1, minor: 3, access: 'w', allow: false }]);
  t.throws(() => emulate([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: -1, minor: -1, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 3, access: 'r' }]),
    /cannot punch a hole in the wildcard rule c \*:\* rwm/);
  const prog = deviceProgram([{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
  t.equal(prog.length % 8, 0);
  const insn = (i: number) => ({ op: prog[i * 8], regs: prog[i * 8 + 1], off: prog.readInt16LE(i * 8 + 2), imm: prog.readInt32LE(i * 8 + 4) });
  const n = prog.length / 8;
  // prologue (6) + one rule (type, major, minor, mov, exit = 5) + default (mov, exit)
  t.equal(n, 6 + 5 + 2);
  t.same(insn(0), { op: 0x61, regs: 0x12, off: 0, imm: 0 }, 'r2 = *(u32 *)(r1 + 0)');
  t.same(insn(6), { op: 0x55, regs: 0x02, off: 4, imm: 2 }, 'if r2 != CHAR goto next block');
  t.same(insn(7), { op: 0x55, regs: 0x04, off: 3, imm: 1 }, 'if r4 != 1 goto next block');
  t.same(insn(8), { op: 0x55, regs: 0x05, off: 2, imm: 3 }, 'if r5 != 3 goto next block');
  t.same(insn(9), { op: 0xb4, regs: 0x00, off: 0, imm: 1 }, 'r0 = 1 (allow)');
  t.same(insn(n - 2), { op: 0xb4, regs: 0x00, off: 0, imm: 0 }, 'default: r0 = 0 (deny)');
  t.same(insn(n - 1), { op: 0x95, regs: 0, off: 0, imm: 0 }, 'exit');
  const partial = deviceProgram([{ allow: true, type: 'c', major: 1, minor: 3, access: 'r' }]);
  t.same({ op: partial[7 * 8], imm: partial.readInt32LE(8 * 8 + 4) }, { op: 0xbc, imm: 2 }, 'access check: r1 = r3; r1 &= READ');
});

t.test('update: runc\'s merge, sizes and durations', async (t) => {
  const old: Resources = { memory: { limit: 64 * MB, swap: 128 * MB }, cpu: { shares: 100, cpus: '0' }, pids: { limit: 10 }, devices: [{ allow: false, access: 'rwm' }] };
  const m = mergeResources(old, { memory: { limit: 256 * MB }, cpu: { quota: 1000 }, pids: { limit: 20 } });
  t.same(m, { memory: { limit: 256 * MB, swap: 128 * MB }, cpu: { shares: 100, cpus: '0', quota: 1000 }, pids: { limit: 20 }, devices: [{ allow: false, access: 'rwm' }] });
  t.same(mergeResources(old, { memory: { limit: -1 } }).memory, { limit: -1, swap: -1 }, 'memory -1 alone: swap unlimited too');
  t.same(mergeResources(old, { hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }), old, 'fields update does not handle are ignored, as in runc');
  t.same(old.memory, { limit: 64 * MB, swap: 128 * MB }, 'the old record is not modified');
  t.equal(ramInBytes('64m'), 64 * MB);
  t.equal(ramInBytes('1.5GiB'), 1.5 * 1024 * MB);
  t.equal(ramInBytes('512k'), 512 * 1024);
  t.equal(ramInBytes('1000'), 1000);
  t.throws(() => ramInBytes('lots'));
  t.equal(parseDuration('5s'), 5000);
  t.equal(parseDuration('100ms'), 100);
  t.equal(parseDuration('1m30s'), 90_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.throws(() => parseDuration('5'), /invalid value "5" for flag -interval/);
  t.throws(() => parseDuration(''), /invalid value/);
});

t.test('stats JSON keeps uint64 exact', async (t) => {
  t.equal(toJson({ a: 9223372036854771712n, b: 18446744073709551615n, c: -1n, d: 'x' }), '{"a":9223372036854771712,"b":18446744073709551615,"c":-1,"d":"x"}');
});

t.test('oomKilled reads the kernel\'s OOM kill counter', async (t) => {
  t.equal(fakeTree('v1', { memory: { 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n' } }).oomKilled(), true);
  t.equal(fakeTree('v1', { memory: { 'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n' } }).oomKilled(), false);
  t.equal(fakeTree('v2', { unified: { 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n' } }).oomKilled(), true);
  t.equal(fakeTree('v2', { unified: { 'memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n' } }).oomKilled(), false);
  t.equal(fakeTree('v2', { unified: {} }).oomKilled(), false, 'no memory controller');
});
