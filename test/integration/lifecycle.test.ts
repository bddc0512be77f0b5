// The OCI lifecycle on real containers: every command, every rule, every error case.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, processesWith, skiff, tmpDir, uniqueId, waitFor } from '../lib/harness';

const rt = skiff();
t.teardown(() => rt.cleanup());

t.test('create -> start -> state -> kill -> delete', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const id = uniqueId('life');
  const pidFile = path.join(tmpDir('pid'), 'init.pid');
  const c = rt.run(['create', '-b', b.dir, '--pid-file', pidFile, id]);
  t.equal(c.code, 0, c.stderr);
  const pidText = fs.readFileSync(pidFile, 'utf8');
  t.match(pidText, /^\d+$/, 'pid file holds the pid without a newline');
  let st = rt.state(id);
  t.equal(st.status, 'created');
  t.equal(st.pid, Number(pidText));
  t.equal(st.id, id);
  t.equal(st.bundle, b.dir);
  t.ok(fs.existsSync(`/proc/${st.pid}`), 'init is alive after create returned');
  t.equal(fs.readFileSync(`/proc/${st.pid}/status`, 'utf8').match(/PPid:\s+(\d+)/)![1] !== String(process.pid), true);

  const s = rt.run(['start', id]);
  t.equal(s.code, 0, s.stderr);
  st = rt.state(id);
  t.equal(st.status, 'running');
  t.match(fs.readFileSync(`/proc/${st.pid}/cmdline`, 'utf8'), /^sleep\0/, 'the user process replaced the init');

  const again = rt.run(['start', id]);
  t.equal(again.code, 1);
  t.match(again.stderr, /cannot start an already running container/);

  const del = rt.run(['delete', id]);
  t.equal(del.code, 1, 'delete of a running container fails without --force');
  t.match(del.stderr, new RegExp(`cannot delete container ${id} that is not stopped: running`));
  t.equal(rt.state(id).status, 'running', 'and changes nothing');

  t.equal(rt.run(['kill', id, 'KILL']).code, 0);
  await waitFor(() => rt.state(id).status === 'stopped');
  t.equal(rt.state(id).pid, 0);
  const k = rt.run(['kill', id, 'KILL']);
  t.equal(k.code, 1, 'kill of a stopped container fails');
  t.match(k.stderr, /container not running/);
  const startStopped = rt.run(['start', id]);
  t.match(startStopped.stderr, /cannot start a container that has stopped/);

  t.equal(rt.run(['delete', id]).code, 0);
  t.same(cgroupDirsNamed(id), [], 'delete removes every cgroup');
  t.equal(fs.existsSync(path.join(rt.root, id)), false, 'and the state dir');
  const gone = rt.run(['state', id]);
  t.equal(gone.code, 1);
  t.match(gone.stderr, /container does not exist/);
});


t.test('kill accepts names with and without SIG, and numbers; rejects unknown signals', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'trap "exit 7" USR1; trap "exit 8" HUP; while :; do sleep 0.05; done'] });
  for (const sig of ['USR1', 'SIGUSR1', '10']) {
    const id = uniqueId('sig');
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    const bad = rt.run(['kill', id, 'FOO']);
    t.equal(bad.code, 1);
    t.match(bad.stderr, /unknown signal \\"FOO\\"/);
    const pid = rt.state(id).pid as number;
    t.equal(rt.run(['kill', id, sig]).code, 0, `kill ${sig}`);
    await waitFor(() => !fs.existsSync(`/proc/${pid}/stat`) || /\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')));
    t.equal(rt.state(id).status, 'stopped', `${sig} delivered`);
    t.equal(rt.run(['delete', id]).code, 0);
  }
});

t.test('kill --all signals every process in the container', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'] });
  const id = uniqueId('killall');
  t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
  await waitFor(() => JSON.parse(rt.run(['ps', '-f', 'json', id]).stdout).length === 3);
  const pids: number[] = JSON.parse(rt.run(['ps', '-f', 'json', id]).stdout);
  t.equal(rt.run(['kill', '--all', id, 'KILL']).code, 0);
  await waitFor(() => pids.every((p) => !fs.existsSync(`/proc/${p}/stat`) || /\) Z/.test(fs.readFileSync(`/proc/${p}/stat`, 'utf8'))));
  t.pass('all processes gone');
  t.equal(rt.run(['delete', id]).code, 0);
});

t.test('run exits with the container status, 128+N on signal N', async (t) => {
  const ok = rt.run(['run', '-b', makeBundle({ args: ['true'] }).dir, uniqueId('run')]);
  t.equal(ok.code, 0, ok.stderr);
  const three = rt.run(['run', '-b', makeBundle({ args: ['sh', '-c', 'echo out; echo err >&2; exit 3'] }).dir, uniqueId('run')]);
  t.equal(three.code, 3);
  t.equal(three.stdout, 'out\n', 'stdout passes through');
  t.equal(three.stderr, 'err\n', 'stderr passes through');
  // pid 1 of a pid namespace ignores its own SIGKILL: kill it from the host instead.
  const killedId = uniqueId('run');
  const killed = rt.spawn(['run', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, killedId]);
  await waitFor(() => rt.run(['state', killedId]).stdout.includes('"running"'));
  process.kill(rt.state(killedId).pid as number, 'SIGKILL');
  t.equal(await new Promise((r) => killed.on('exit', (c) => r(c))), 137);
  t.same(rt.run(['list', '-q']).stdout, '', 'run deletes the container afterwards');
  const input = rt.run(['run', '-b', makeBundle({ args: ['cat'] }).dir, uniqueId('run')], { input: 'via stdin\n' });
  t.equal(input.stdout, 'via stdin\n', 'stdin passes through');
});

t.test('run --keep keeps the stopped container', async (t) => {
  const id = uniqueId('keep');
  t.equal(rt.run(['run', '--keep', '-b', makeBundle({ args: ['true'] }).dir, id]).code, 0);
  t.equal(rt.state(id).status, 'stopped');
  t.equal(rt.run(['delete', id]).code, 0);
});

t.test('run forwards the signals it receives to the container', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'trap "echo got-term; exit 42" TERM; echo ready; while :; do sleep 0.05; done'] });
  const id = uniqueId('fwd');
  const child = rt.spawn(['run', '-b', b.dir, id]);
  let out = '';
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready')) resolve();
  }));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.equal(code, 42);
  t.match(out, /got-term/);
});

t.test('run -d returns with the container running', async (t) => {
  const id = uniqueId('detach');
  const pidFile = path.join(tmpDir('pid'), 'p');
  const r = rt.run(['run', '-d', '--pid-file', pidFile, '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]);
  t.equal(r.code, 0, r.stderr);
  t.equal(rt.state(id).status, 'running');
  t.equal(String(rt.state(id).pid), fs.readFileSync(pidFile, 'utf8'));
  t.equal(rt.run(['delete', '-f', id]).code, 0, 'delete --force kills and removes');
  t.equal(rt.run(['state', id]).code, 1);
  t.same(cgroupDirsNamed(id), []);
});

t.test('delete of a created container kills its init', async (t) => {
  const id = uniqueId('delcreated');
  t.equal(rt.run(['create', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]).code, 0);
  const pid = rt.state(id).pid as number;
  t.equal(rt.run(['delete', id]).code, 0);
  t.notOk(fs.existsSync(`/proc/${pid}/stat`) && !/\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')), 'init gone');
});

t.test('pause and resume through the freezer', async (t) => {
  const id = uniqueId('pause');
  t.equal(rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]).code, 0);
  t.equal(rt.run(['pause', id]).code, 0);
  t.equal(rt.state(id).status, 'paused');
  t.match(rt.run(['start', id]).stderr, /cannot start a container in the paused state/);
  t.equal(rt.run(['resume', id]).code, 0);
  t.equal(rt.state(id).status, 'running');
  t.match(rt.run(['resume', id]).stderr, /container not paused/);
  t.equal(rt.run(['delete', '-f', id]).code, 0);
});

t.test('an id that exists or is malformed is refused before anything is made', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const id = uniqueId('dup');
  t.equal(rt.run(['create', '-b', b.dir, id]).code, 0);
  const pid = rt.state(id).pid;
  const dup = rt.run(['create', '-b', b.dir, id]);
  t.equal(dup.code, 1);
  t.match(dup.stderr, /container with given ID already exists/);
  t.equal(rt.state(id).pid, pid, 'the first container is untouched');
  t.equal(rt.state(id).status, 'created');
  for (const bad of ['bad id', '../x', 'a/b', '..']) {
    const r = rt.run(['create', '-b', b.dir, bad]);
    t.equal(r.code, 1, `id ${JSON.stringify(bad)}`);
    t.match(r.stderr, /invalid container ID format/);
  }
  t.equal(rt.run(['delete', '-f', id]).code, 0);
});

t.test('unknown ids: each command fails with "container does not exist"', async (t) => {
  for (const cmd of [['start'], ['state'], ['kill'], ['delete'], ['pause'], ['resume'], ['ps']]) {
    const r = rt.run([...cmd, 'no-such-container']);
    t.equal(r.code, 1, cmd[0]);
    t.match(r.stderr, /container does not exist/, cmd[0]);
  }
  t.equal(rt.run(['delete', '-f', 'no-such-container']).code, 0, 'delete -f of an unknown id succeeds, as runc');
});

t.test('a failing create leaves no state dir, cgroup, mount or process', async (t) => {
  const marker = `nosuchbinary-${process.pid}`;
  const b = makeBundle({ args: [marker] });
  const id = uniqueId('fail');
  const mountsBefore = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
  const r = rt.run(['create', '-b', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`exec: \\\\"${marker}\\\\": executable file not found in \\$PATH`));
  t.equal(fs.existsSync(path.join(rt.root, id)), false, 'no state dir');
  t.same(cgroupDirsNamed(id), [], 'no cgroup');
  t.same(processesWith(marker), [], 'no process');
  t.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length, mountsBefore, 'no mount on the host');
});

t.test('list shows containers as table, json and ids', async (t) => {
  const id = uniqueId('list');
  t.equal(rt.run(['create', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]).code, 0);
  const table = rt.run(['list']).stdout.split('\n');
  t.match(table[0], /^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER$/);
  t.ok(table.some((l) => l.startsWith(id) && /\screated\s/.test(l) && / root$/.test(l)));
  const json = JSON.parse(rt.run(['list', '-f', 'json']).stdout);
  t.equal(json.find((s: { id: string }) => s.id === id).status, 'created');
  t.match(rt.run(['list', '-q']).stdout, new RegExp(`^${id}$`, 'm'));
  t.equal(rt.run(['delete', id]).code, 0);
  const empty = skiff();
  t.equal(empty.run(['list', '-f', 'json']).stdout, 'null\n', 'no containers: null, as runc');
  empty.cleanup();
});

t.test('--version and --log-format json', async (t) => {
  const v = rt.run(['--version']);
  t.match(v.stdout, /^skiff version \S+\ncommit: \S+\nspec: 1\.\d+\.\d+\n/);
  const log = path.join(tmpDir('log'), 'log.json');
  const r = rt.run(['--log', log, '--log-format', 'json', 'start', 'nope']);
  t.equal(r.code, 1);
  const line = JSON.parse(fs.readFileSync(log, 'utf8').trim().split('\n').pop()!);
  t.equal(line.level, 'error');
  t.equal(line.msg, 'container does not exist');
  t.match(line.time, /^\d{4}-\d\d-\d\dT/);
  t.match(r.stderr, /container does not exist/, 'the error still reaches stderr');
});

t.test('--systemd-cgroup without systemd is a clear error that makes nothing', async (t) => {
  const id = uniqueId('systemd');
  const r = rt.run(['--systemd-cgroup', 'create', '-b', makeBundle().dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /systemd cgroup manager: /);
  t.equal(fs.existsSync(path.join(rt.root, id)), false);
});

t.test('concurrent commands on one container and on many are serialized and consistent', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const ids = [0, 1, 2, 3].map(() => uniqueId('conc'));
  const wait = (c: ReturnType<typeof rt.spawn>) => new Promise<number | null>((r) => c.on('exit', (code) => r(code)));
  // Four creates at once, then for each a start and a state racing each other.
  const codes = await Promise.all(ids.map((id) => wait(rt.spawn(['create', '-b', b.dir, id]))));
  t.same(codes, [0, 0, 0, 0], 'parallel creates');
  const starts = await Promise.all(ids.flatMap((id) => [wait(rt.spawn(['start', id])), wait(rt.spawn(['start', id]))]));
  for (let i = 0; i < ids.length; i++) {
    t.same([starts[2 * i], starts[2 * i + 1]].sort(), [0, 1], `${ids[i]}: exactly one of two racing starts wins`);
    t.equal(rt.state(ids[i]).status, 'running');
  }
  const dels = await Promise.all(ids.map((id) => wait(rt.spawn(['delete', '-f', id]))));
  t.same(dels, [0, 0, 0, 0]);
  t.same(ids.filter((id) => fs.existsSync(path.join(rt.root, id))), [], 'all gone');
});
