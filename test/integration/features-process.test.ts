// The per-process kernel features of runtime-spec 1.2/1.3, each turned on in a config.json
// and checked from inside the container: linux.personality, a time namespace with
// linux.timeOffsets, process.ioPriority, process.scheduler and linux.memoryPolicy. runc
// 1.1.5 has none of them (it ignores all five without a word, and refuses a "time"
// namespace), so the reference is the runtime-spec text and the kernel's own reports.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import { leftBehind, makeBundle, runc, skiff, tmpDir, uniqueId } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const rt = skiff();
t.teardown(() => rt.cleanup());

function run(script: string, edit: (s: Spec) => void) {
  const b = makeBundle({ args: ['sh', '-c', script], edit });
  return rt.run(['run', '-b', b.dir, uniqueId('fproc')]);
}

// Runs `script` in a container of the default spec plus `edit`; its stdout.
function inside(t: Test, script: string, edit: (s: Spec) => void): string {
  const r = run(script, edit);
  t.equal(r.code, 0, `container ran: ${r.stderr}`);
  return r.stdout;
}

// create and run refuse it with words matching `why`, and leave nothing behind.
function refused(t: Test, edit: (s: Spec) => void, why: RegExp): void {
  const b = makeBundle({ edit });
  for (const cmd of ['create', 'run']) {
    const id = uniqueId('fproc-bad');
    const r = rt.run([cmd, '-b', b.dir, id]);
    t.equal(r.code, 1, `${cmd} fails`);
    t.match(r.stderr.replace(/\\"/g, '"'), why, `${cmd} says why`);  // logrus escapes quotes
    t.same(leftBehind(rt, id), [], `${cmd} leaves nothing behind`);
  }
}

// A detached container that sleeps, for exec.
function running(t: Test, edit: (s: Spec) => void): string {
  const id = uniqueId('fproc-exec');
  const r = rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'], edit }).dir, id]);
  t.equal(r.code, 0, `started: ${r.stderr}`);
  t.teardown(() => rt.run(['delete', '-f', id]));
  return id;
}

// /proc/PID/stat's fields after the command name: [state, ...], so field N is at N-3.
const statFields = (line: string) => line.slice(line.lastIndexOf(')') + 2).trim().split(' ');
const STAT = { nice: 19 - 3, rtPriority: 40 - 3, policy: 41 - 3 };

t.test('linux.personality LINUX32: uname -m says i686, in the init and in exec', async (t) => {
  const edit = (s: Spec) => { s.linux!.personality = { domain: 'LINUX32' }; };
  t.equal(inside(t, 'uname -m', edit).trim(), 'i686');
  // A createContainer hook runs in the container's namespaces but is the runtime's program.
  const seen = `${tmpDir('fproc-hook')}/arch`;
  inside(t, 'true', (s) => { edit(s); s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `uname -m > ${seen}`] }] }; });
  t.equal(fs.readFileSync(seen, 'utf8').trim(), os.arch() === 'x64' ? 'x86_64' : fs.readFileSync(seen, 'utf8').trim(), 'hooks keep the runtime\'s personality');
  t.equal(inside(t, 'uname -m', (s) => { s.linux!.personality = { domain: 'LINUX' }; }).trim(), 'x86_64');
  const id = running(t, edit);
  t.equal(rt.run(['exec', id, 'uname', '-m']).stdout.trim(), 'i686', 'exec runs with the container personality');
  // A flag bit of personality(2): ADDR_NO_RANDOMIZE shows in /proc/self/personality.
  const flags = inside(t, 'cat /proc/self/personality', (s) => { s.linux!.personality = { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] }; });
  t.equal(parseInt(flags, 16), 0x0040000);
  refused(t, (s) => { s.linux!.personality = { domain: 'LINUX64' }; }, /linux\.personality\.domain: must be one of LINUX, LINUX32, not "LINUX64"/);
  refused(t, (s) => { s.linux!.personality = { domain: 'LINUX', flags: ['NOPE'] }; }, /linux\.personality\.flags\[0\]: must be one of UNAME26/);
});

t.test('a time namespace with timeOffsets: uptime and the monotonic clock shifted inside', async (t) => {
  const days = 10 * 86400;
  const edit = (s: Spec) => {
    s.linux!.namespaces!.push({ type: 'time' });
    s.linux!.timeOffsets = { boottime: { secs: days, nanosecs: 0 }, monotonic: { secs: 2 * days, nanosecs: 500 } };
  };
  const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  const [uptime, offsets, ns] = inside(t, 'cut -d" " -f1 /proc/uptime; cat /proc/self/timens_offsets | tr "\\n" ";"; echo; readlink /proc/self/ns/time', edit).split('\n');
  t.ok(Number(uptime) - hostUptime > days - 60 && Number(uptime) - hostUptime < days + 60, `uptime ${uptime} is the host's ${hostUptime} + 10 days`);
  t.match(offsets, /monotonic\s+1728000\s+500;boottime\s+864000\s+0;/, 'the kernel holds the offsets as given');
  t.not(ns, fs.readlinkSync('/proc/self/ns/time'), 'its own time namespace');
  // exec joins the container's time namespace, before start (the init has not execve'd: its
  // namespace is its time_for_children) and after.
  const id = uniqueId('fproc-time');
  t.equal(rt.run(['create', '-b', makeBundle({ args: ['sleep', '1000'], edit }).dir, id]).code, 0);
  t.teardown(() => rt.run(['delete', '-f', id]));
  const before = Number(rt.run(['exec', id, 'cut', '-d ', '-f1', '/proc/uptime']).stdout);
  t.ok(before - hostUptime > days - 60, `exec before start sees the shifted uptime (${before})`);
  t.equal(rt.run(['start', id]).code, 0);
  const after = Number(rt.run(['exec', id, 'cut', '-d ', '-f1', '/proc/uptime']).stdout);
  t.ok(after - hostUptime > days - 60, `exec after start too (${after})`);
  // A time namespace without offsets is fine: clocks as the host's.
  const plain = Number(inside(t, 'cut -d" " -f1 /proc/uptime', (s) => { s.linux!.namespaces!.push({ type: 'time' }); }));
  t.ok(Math.abs(plain - hostUptime) < 60, 'no offsets: the host clocks');
  // runc 1.1.5 does not know the namespace at all.
  const rc = runc();
  t.teardown(() => rc.cleanup());
  t.match(rc.run(['run', '-b', makeBundle({ edit }).dir, uniqueId('fproc-rc')]).stderr, /namespace \{\\"time\\" \\"\\"\} does not exist/);
  refused(t, (s) => { s.linux!.timeOffsets = { boottime: { secs: 1 } }; }, /linux\.timeOffsets: needs a time namespace in linux\.namespaces/);
  refused(t, (s) => { edit(s); s.linux!.timeOffsets = { realtime: { secs: 1 } }; }, /linux\.timeOffsets\.realtime: is not a clock a time namespace offsets/);
  refused(t, (s) => { edit(s); s.linux!.timeOffsets = { boottime: { nanosecs: 1e9 } }; }, /nanosecs: 1000000000 is not below 1000000000/);
  refused(t, (s) => { s.linux!.namespaces!.push({ type: 'time', path: '/proc/self/ns/time' }); s.linux!.timeOffsets = { boottime: { secs: 1 } }; },
    /linux\.timeOffsets: cannot be set for a time namespace joined by path/);
});

t.test('process.ioPriority: each class, as busybox ionice reads it back', async (t) => {
  const cases: [string, number, RegExp][] = [
    ['IOPRIO_CLASS_RT', 3, /^realtime: prio 3$/],
    ['IOPRIO_CLASS_BE', 6, /^best-effort: prio 6$/],
    ['IOPRIO_CLASS_IDLE', 0, /^idle$/],
  ];
  for (const [cls, priority, want] of cases) {
    t.match(inside(t, 'ionice', (s) => { s.process!.ioPriority = { class: cls, priority }; }).trim(), want, cls);
  }
  t.match(inside(t, 'ionice', () => {}).trim(), /^none: prio 0$/, 'unset: left as it was');
  const id = running(t, () => {});
  const p = JSON.stringify({ ...makeBundle().spec.process, args: ['ionice'], ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 1 } });
  const file = `${makeBundle().dir}/process.json`;
  fs.writeFileSync(file, p);
  t.equal(rt.run(['exec', '-p', file, id]).stdout.trim(), 'best-effort: prio 1', 'exec --process applies its own');
  refused(t, (s) => { s.process!.ioPriority = { class: 'IOPRIO_CLASS_NOPE' }; }, /process\.ioPriority\.class: must be one of IOPRIO_CLASS_RT/);
  refused(t, (s) => { s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }; }, /process\.ioPriority\.priority: 8 is outside 0\.\.7/);
});

t.test('process.scheduler: every policy, as /proc/PID/stat and /proc/PID/sched report it', async (t) => {
  // With RT_GROUP_SCHED on cgroup v1 a realtime task needs realtime time in its cpu group
  // (cgroup v2 has no such knob, and needs none).
  const rtGroups = fs.existsSync('/sys/fs/cgroup/cpu/cpu.rt_runtime_us');
  const rtTime = (s: Spec) => {
    if (rtGroups) s.linux!.resources = { ...s.linux!.resources, cpu: { realtimeRuntime: 100000, realtimePeriod: 1000000 } };
  };
  const statOf = (sched: Record<string, unknown>, extra: (s: Spec) => void = () => {}) =>
    statFields(inside(t, 'cat /proc/$$/stat', (s) => { s.process!.scheduler = sched; extra(s); }));
  let f = statOf({ policy: 'SCHED_OTHER', nice: 7 });
  t.same([f[STAT.policy], f[STAT.nice]], ['0', '7'], 'SCHED_OTHER, nice 7');
  t.equal(statOf({ policy: 'SCHED_BATCH', nice: -3 })[STAT.policy], '3', 'SCHED_BATCH');
  t.equal(statOf({ policy: 'SCHED_IDLE' })[STAT.policy], '5', 'SCHED_IDLE');
  f = statOf({ policy: 'SCHED_FIFO', priority: 10 }, rtTime);
  t.same([f[STAT.policy], f[STAT.rtPriority]], ['1', '10'], 'SCHED_FIFO, priority 10');
  f = statOf({ policy: 'SCHED_RR', priority: 20 }, rtTime);
  t.same([f[STAT.policy], f[STAT.rtPriority]], ['2', '20'], 'SCHED_RR, priority 20');
  // A deadline task may not fork: read with shell builtins only.
  const dl = { policy: 'SCHED_DEADLINE', runtime: 10_000_000, deadline: 20_000_000, period: 30_000_000 };
  const builtinRead = 'while read k c v; do case $k in policy|dl.runtime|dl.period|dl.deadline) echo $k=$v;; esac; done < /proc/$$/sched';
  for (const flags of [[], ['SCHED_FLAG_RECLAIM'], ['SCHED_FLAG_DL_OVERRUN']]) {
    t.match(inside(t, builtinRead, (s) => { s.process!.scheduler = { ...dl, flags }; }), /policy=6\n/, `SCHED_DEADLINE ${flags}`);
  }
  // Reset on fork: the shell keeps FIFO, what it forks does not.
  const [self, child] = inside(t, 'cat /proc/$$/stat; cat /proc/self/stat; :', (s) => { // ':' so sh forks cat, not execs it
    s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 5, flags: ['SCHED_FLAG_RESET_ON_FORK'] };
    rtTime(s);
  }).split('\n').map(statFields);
  t.same([self[STAT.policy], child[STAT.policy]], ['1', '0'], 'SCHED_FLAG_RESET_ON_FORK');
  f = statOf({ policy: 'SCHED_BATCH', nice: 4, flags: ['SCHED_FLAG_KEEP_POLICY'] });
  t.same([f[STAT.policy], f[STAT.nice]], ['0', '4'], 'SCHED_FLAG_KEEP_POLICY: the policy stays, nice changes');
  f = statOf({ policy: 'SCHED_BATCH', nice: 4, flags: ['SCHED_FLAG_KEEP_PARAMS'] });
  // The nice value the init inherited from skiff, that is from this test (`nice npm test`...).
  t.same([f[STAT.policy], f[STAT.nice]], ['0', String(os.getPriority())], 'SCHED_FLAG_KEEP_PARAMS: the parameters stay');
  // Utilization clamps need CONFIG_UCLAMP_TASK: where the kernel lacks it, its error says so.
  for (const flag of ['SCHED_FLAG_UTIL_CLAMP_MIN', 'SCHED_FLAG_UTIL_CLAMP_MAX']) {
    const r = run('cat /proc/$$/stat', (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', flags: [flag] }; });
    if (r.code === 0) t.equal(statFields(r.stdout)[STAT.policy], '0', flag);
    else t.match(r.stderr, /sched_setattr process\.scheduler: operation not supported/, `${flag}: this kernel has no utilization clamping`);
  }
  // exec applies the exec process's own scheduler.
  const id = running(t, () => {});
  const file = `${makeBundle().dir}/process.json`;
  fs.writeFileSync(file, JSON.stringify({ ...makeBundle().spec.process, args: ['cat', '/proc/self/stat'], scheduler: { policy: 'SCHED_IDLE' } }));
  t.equal(statFields(rt.run(['exec', '-p', file, id]).stdout)[STAT.policy], '5', 'exec --process with SCHED_IDLE');
  // What the kernel refuses is a create error, in its words; what runc's validator refuses too.
  refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_ISO' }; }, /sched_setattr process\.scheduler: invalid argument/);
  if (rtGroups) {
    refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 1 }; },
      /sched_setattr process\.scheduler \(a realtime policy in a cgroup v1 cpu group needs linux\.resources\.cpu\.realtimeRuntime\): operation not permitted/);
  }
  refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', priority: 3 }; }, /process\.scheduler\.priority: can only be set for SCHED_FIFO or SCHED_RR/);
  refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', nice: 20 }; }, /process\.scheduler\.nice: 20 is outside -20\.\.19/);
  refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_FIFO', priority: 1, runtime: 5 }; }, /runtime, deadline and period can only be set for SCHED_DEADLINE/);
  refused(t, (s) => { s.process!.scheduler = { nice: 1 }; }, /process\.scheduler\.policy: is required/);
  refused(t, (s) => { s.process!.scheduler = { policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_NOPE'] }; }, /process\.scheduler\.flags\[0\]: must be one of/);
});

t.test('linux.memoryPolicy: the mode in /proc/self/numa_maps', async (t) => {
  const policyOf = (mp: Record<string, unknown>) =>
    inside(t, 'head -1 /proc/self/numa_maps', (s) => { s.linux!.memoryPolicy = mp; }).split(' ')[1];
  t.equal(policyOf({ mode: 'MPOL_INTERLEAVE', nodes: '0' }), 'interleave:0');
  t.equal(policyOf({ mode: 'MPOL_BIND', nodes: '0' }), 'bind:0');
  t.equal(policyOf({ mode: 'MPOL_PREFERRED', nodes: '0' }), 'prefer:0');
  t.equal(policyOf({ mode: 'MPOL_LOCAL' }), 'local');
  t.equal(policyOf({ mode: 'MPOL_DEFAULT' }), 'default');
  t.equal(policyOf({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_STATIC_NODES'] }), 'interleave=static:0');
  t.equal(policyOf({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_RELATIVE_NODES'] }), 'bind=relative:0');
  t.equal(policyOf({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }), 'bind=balancing:0');
  const id = running(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_INTERLEAVE', nodes: '0' }; });
  t.equal(rt.run(['exec', id, 'head', '-1', '/proc/self/numa_maps']).stdout.split(' ')[1], 'interleave:0', 'exec too');
  // The nodes the kernel does not have: its error, at create.
  const last = fs.readFileSync('/sys/devices/system/node/possible', 'utf8').trim().split(/[-,]/).pop();
  refused(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: String(Number(last) + 1) }; }, /set_mempolicy linux\.memoryPolicy: invalid argument/);
  refused(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND' }; }, /linux\.memoryPolicy\.nodes: MPOL_BIND needs at least one node/);
  refused(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_LOCAL', nodes: '0' }; }, /linux\.memoryPolicy\.nodes: must be empty for MPOL_LOCAL/);
  refused(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0-x' }; }, /"0-x" is not a node list/);
  refused(t, (s) => { s.linux!.memoryPolicy = { mode: 'MPOL_NOPE' }; }, /linux\.memoryPolicy\.mode: must be one of MPOL_DEFAULT/);
});

t.test('all five together in a user namespace (the time namespace is the container user namespace\'s)', async (t) => {
  const edit = (s: Spec) => {
    s.linux!.namespaces!.push({ type: 'user' }, { type: 'time' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // sysfs cannot be mounted for a netns that the user namespace does not own: bind it.
    s.mounts = s.mounts!.map((m) => (m.type === 'sysfs' ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m));
    s.linux!.timeOffsets = { boottime: { secs: 1_000_000 } };
    s.linux!.personality = { domain: 'LINUX32' };
    s.linux!.memoryPolicy = { mode: 'MPOL_BIND', nodes: '0' };
    s.process!.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 2 };
    // Without CAP_SYS_NICE in the host's user namespace a process may only lower its priority.
    s.process!.scheduler = { policy: 'SCHED_BATCH', nice: 19 };
  };
  const hostUptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  // The mapped root must reach the rootfs: a copy in the 0755 bundle (as isolation.test.ts).
  const b = makeBundle({ args: ['sh', '-c', 'id -u; cut -d" " -f1 /proc/uptime; uname -m; ionice; head -1 /proc/self/numa_maps | cut -d" " -f2; cat /proc/$$/stat'], edit, copyRootfs: true });
  const r = rt.run(['run', '-b', b.dir, uniqueId('fproc-userns')]);
  t.equal(r.code, 0, r.stderr);
  const [uid, uptime, arch, io, mpol, stat] = r.stdout.split('\n');
  t.equal(uid, '0');
  t.ok(Number(uptime) - hostUptime > 1_000_000 - 60, `uptime shifted (${uptime})`);
  t.same([arch, io, mpol, statFields(stat)[STAT.policy]], ['i686', 'best-effort: prio 2', 'bind:0', '3']);
});
