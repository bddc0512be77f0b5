// Commands whose outcome runc's users and scripts rely on, side by side with runc 1.1.5 on the
// same bundle: kill -a and ps of a stopped container, exec --cgroup into sub-cgroups.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, runc, skiff, uniqueId, waitFor, Runtime } from '../lib/harness';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });
const both = [rc, sk];

// runc's message without the logfmt wrapping.
const words = (s: string) => s.replace(/^.*msg="/s, '').replace(/"\s*$/s, '');

function start(rt: Runtime, args = ['sleep', '1000']): string {
  const id = uniqueId(`parity-cli-${rt.name}`);
  const r = rt.run(['run', '-d', '-b', makeBundle({ args }).dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
  return id;
}

async function stopped(rt: Runtime): Promise<string> {
  const id = start(rt);
  rt.run(['kill', id, 'KILL']);
  await waitFor(() => rt.state(id).status === 'stopped', 5000, `${rt.name} ${id} stopped`);
  return id;
}

t.test('kill -a of a stopped container exits 0; without -a it is "container not running"', async (t) => {
  for (const rt of both) {
    const id = await stopped(rt);
    for (const sig of ['KILL', '0', 'TERM']) {
      const r = rt.run(['kill', '-a', id, sig]);
      t.equal(r.code, 0, `${rt.name}: kill -a ${sig} of a stopped container: ${r.stderr}`);
    }
    const r = rt.run(['kill', id, '0']);
    t.equal(r.code, 1, `${rt.name}: kill 0 without -a refuses`);
    t.match(words(r.stderr), 'container not running');
    t.equal(rt.run(['kill', '-a', 'parity-cli-nonexistent', 'KILL']).code, 1, `${rt.name}: kill -a of no container still fails`);
    rt.run(['delete', '-f', id]);
  }
});

t.test('ps of a stopped container: exit 0, the ps header only; json "null"', async (t) => {
  const out = await Promise.all(both.map(async (rt) => {
    const id = await stopped(rt);
    const table = rt.run(['ps', id]);
    const json = rt.run(['ps', '-f', 'json', id]);
    const custom = rt.run(['ps', id, '-o', 'pid,comm']);
    rt.run(['delete', '-f', id]);
    return { table, json, custom };
  }));
  for (const k of ['table', 'json', 'custom'] as const) {
    t.equal(out[1][k].code, 0, `skiff ps (${k}): ${out[1][k].stderr}`);
    t.equal(out[1][k].code, out[0][k].code, `${k}: runc's exit code`);
    t.equal(out[1][k].stdout, out[0][k].stdout, `${k}: runc's output ${JSON.stringify(out[0][k].stdout)}`);
  }
});

t.test('ps of a running container still lists its process (json: the pid array)', async (t) => {
  const id = start(sk);
  const pid = sk.state(id).pid as number;
  t.same(JSON.parse(sk.run(['ps', '-f', 'json', id]).stdout), [pid]);
  t.match(sk.run(['ps', id]).stdout, new RegExp(`^UID .*\\n\\S+\\s+${pid}\\s.*sleep 1000\\n$`, 's'));
  sk.run(['delete', '-f', id]);
});

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

t.test('exec --cgroup (v1): controller:path, several controllers, the plain path form', async (t) => {
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
  for (const [name, flags] of cases) {
    const [a, b] = both.map((rt) => rt.run(['exec', ...flags, ids.get(rt)!, 'cat', '/proc/self/cgroup']));
    t.equal(b.code, 0, `${name}: skiff ${b.stderr}`);
    t.equal(a.code, 0, `${name}: runc ${a.stderr}`);
    t.same(cgroupLines(b.stdout, ids.get(sk)!), cgroupLines(a.stdout, ids.get(rc)!), `${name}: the same cgroups as runc's`);
  }
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
  for (const [rt, id] of ids) {
    const r = rt.run(['delete', '-f', id]);
    t.equal(r.code, 0, `${rt.name}: delete removes the sub-cgroups too: ${r.stderr}`);
  }
});
