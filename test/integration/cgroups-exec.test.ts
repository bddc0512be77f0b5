// exec --cgroup [CTRL[,CTRL]:]PATH side by side with runc 1.1.5 on the same bundle: the exec'd
// process joins an existing sub-cgroup of the container's, and runc's refusals in runc's words.
// v1 runs on this host, v2 in the test/vm guest (run-v2.sh integration/cgroups-).
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { runc, skiff, Runtime, runcWords, runDetached } from '../lib/harness';
import { cgroupDirOf, isV2 } from './cgroups-helpers';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });
const both = [rc, sk];
const v2 = isV2();

const words = runcWords;

const start = (rt: Runtime) => runDetached(rt, 'cg-exec');

// The container's directory in hierarchy `name` ("cpu", "name=systemd", "" for cgroup2), from
// its init's /proc/PID/cgroup.
function cgroupDir(pid: number, name: string): string {
  const line = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(name) || (name === '' && l.startsWith('0::')));
  if (!line) throw new Error(`no ${name} line in /proc/${pid}/cgroup`);
  const mount = name === '' ? 'unified' : name.replace(/^name=/, '');
  return path.join('/sys/fs/cgroup', mount, line.split(':').slice(2).join(':'));
}

// /proc/self/cgroup of an exec'd process, with the container's id made neutral.
const cgroupLines = (out: string, id: string) => out.split('\n').filter(Boolean).map((l) => l.split(id).join('ID')).sort();

type Ids = Map<Runtime, string>;

// Each case's flags, given to exec under both: both succeed and land in the same cgroups.
function sameCgroupsAsRunc(t: Test, ids: Ids, cases: [string, string[]][]): void {
  for (const [name, flags] of cases) {
    const [a, b] = both.map((rt) => rt.run(['exec', ...flags, ids.get(rt)!, 'cat', '/proc/self/cgroup']));
    t.equal(a.code, 0, `${name}: runc ${a.stderr}`);
    t.equal(b.code, 0, `${name}: skiff ${b.stderr}`);
    t.same(cgroupLines(b.stdout, ids.get(sk)!), cgroupLines(a.stdout, ids.get(rc)!), `${name}: the same cgroups as runc's (${b.stdout.trim()})`);
  }
}

function deleteBoth(t: Test, ids: Ids): void {
  for (const [rt, id] of ids) {
    const r = rt.run(['delete', '-f', id]);
    t.equal(r.code, 0, `${rt.name}: delete removes the sub-cgroups too: ${r.stderr}`);
  }
}

t.test('exec --cgroup (v1): controller:path, several controllers, the plain path form', { skip: v2 && 'a v1 host' }, async (t) => {
  const ids = new Map(both.map((rt) => [rt, start(rt)]));
  const hierarchies = fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n').filter(Boolean).map((l) => l.split(':')[1]);
  for (const [rt, id] of ids) {
    const pid = rt.state(id).pid as number;
    for (const [ctrl, sub] of [['memory', 'submem'], ['cpu', 'subcpu'], ['cpuacct', 'subcpu']]) fs.mkdirSync(path.join(cgroupDir(pid, ctrl), sub));
    for (const h of hierarchies) fs.mkdirSync(path.join(cgroupDir(pid, h.split(',')[0]), 'all'), { recursive: true });
    // A new v1 cpuset takes no task until it has cpus and mems.
    const cpuset = cgroupDir(pid, 'cpuset');
    for (const f of ['cpuset.cpus', 'cpuset.mems']) fs.writeFileSync(path.join(cpuset, 'all', f), fs.readFileSync(path.join(cpuset, f)));
  }
  const cases: [string, string[]][] = [
    ['controller:path', ['--cgroup', 'memory:submem']],
    ['two values, a controller list', ['--cgroup', 'memory:submem', '--cgroup', 'cpu,cpuacct:subcpu']],
    ['a plain path (every hierarchy)', ['--cgroup', 'all']],
    ['/ (the container\'s own)', ['--cgroup', '/']],
  ];
  sameCgroupsAsRunc(t, ids, cases);
  t.match(sk.run(['exec', '--cgroup', 'cpu,cpuacct:subcpu', ids.get(sk)!, 'cat', '/proc/self/cgroup']).stdout, /:cpu:.*\/subcpu\n/);

  const refused: [string, string[], RegExp][] = [
    ['the parent', ['--cgroup', '..'], /^exec failed: unable to create new parent process: \.\. is not a sub cgroup path$/],
    ['out and back in elsewhere', ['--cgroup', 'cpu:../x'], /^exec failed: unable to create new parent process: \.\.\/x is not a sub cgroup path$/],
    ['an unknown controller', ['--cgroup', 'whaaat:/'], /^exec failed: unable to create new parent process: unknown controller whaaat in SubCgroupPaths$/],
    ['three fields', ['--cgroup', 'a:b:c'], /^exec failed: invalid --cgroup argument: a:b:c$/],
    ['a plain path beside another', ['--cgroup', 'all', '--cgroup', 'cpu:subcpu'], /^exec failed: invalid --cgroup argument: all \(missing <controller>: prefix\)$/],
    ['a missing sub-cgroup', ['--cgroup', 'cpu:nonexistent'], /^exec failed: unable to start container process: error adding pid \d+ to cgroups: failed to write \d+: \w+ \/sys\/fs\/cgroup\/cpu\/.*\/nonexistent\/cgroup.procs: no such file or directory$/],
    ['missing in every hierarchy', ['--cgroup', 'nonexistent'], /^exec failed: unable to start container process: error adding pid \d+ to cgroups: .*\/nonexistent\/cgroup.procs: no such file or directory$/],
  ];
  for (const [name, flags, want] of refused) {
    const [a, b] = both.map((rt) => rt.run(['exec', ...flags, ids.get(rt)!, 'true']));
    t.equal(b.code, 255, `${name}: skiff exits 255`);
    t.equal(b.code, a.code, `${name}: runc's exit code`);
    t.match(words(a.stderr), want, `${name}: runc says ${words(a.stderr)}`);
    t.match(words(b.stderr), want, `${name}: skiff says ${words(b.stderr)}`);
  }
  deleteBoth(t, ids);
});

t.test('exec --cgroup (v2): a sub-cgroup by path, the container\'s own, and the refusals', { skip: !v2 && 'a cgroup v2 host (test/vm/run-v2.sh)' }, async (t) => {
  const ids = new Map(both.map((rt) => [rt, start(rt)]));
  for (const [rt, id] of ids) {
    const dir = cgroupDirOf(rt.state(id).pid as number, '')!;
    for (const sub of ['sub', 'sub/deeper']) fs.mkdirSync(path.join(dir, sub));
  }
  const cases: [string, string[]][] = [
    ['a plain path', ['--cgroup', 'sub']],
    ['a deeper one', ['--cgroup', 'sub/deeper']],
    ['/ (the container\'s own)', ['--cgroup', '/']],
  ];
  sameCgroupsAsRunc(t, ids, cases);
  t.match(sk.run(['exec', '--cgroup', 'sub/deeper', ids.get(sk)!, 'cat', '/proc/self/cgroup']).stdout, /^0::\/.*\/sub\/deeper\n$/);

  const refused: [string, string[]][] = [
    ['the parent', ['--cgroup', '..']],
    ['out and back in elsewhere', ['--cgroup', '../x']],
    ['a controller prefix', ['--cgroup', 'memory:sub']],
    ['three fields', ['--cgroup', 'a:b:c']],
    ['a missing sub-cgroup', ['--cgroup', 'nonexistent']],
  ];
  for (const [name, flags] of refused) {
    const [a, b] = both.map((rt) => rt.run(['exec', ...flags, ids.get(rt)!, 'true']));
    t.equal(b.code, a.code, `${name}: runc's exit code (${a.code})`);
    // runc names its openat2(2), Skiff its open(2).
    const say = (s: string, id: string) => words(s).split(id).join('ID').replace(/pid \d+/g, 'pid N').replace(/failed to write \d+: openat2 /g, 'failed to write N: open ').replace(/failed to write \d+/g, 'failed to write N');
    t.equal(say(b.stderr, ids.get(sk)!), say(a.stderr, ids.get(rc)!), `${name}: runc's words: ${words(a.stderr)}`);
  }
  deleteBoth(t, ids);
});
