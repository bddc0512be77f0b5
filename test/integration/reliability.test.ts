// What a kill -9, a second shell and a damaged state dir must not break: every command works
// on a container that `run` supervises, a kill -9 at any step leaves only what `list` shows
// and `delete --force` removes, and setup errors fail the command that caused them.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, processesWith, runc, skiff, uniqueId, waitFor } from '../lib/harness';
import { CRASH_STEPS } from '../../src/container/crash';

const rt = skiff();
const oracle = runc();
t.teardown(() => {
  rt.cleanup();
  oracle.cleanup();
});

// Nothing of container `id` on the host: no state dir, no cgroup, no process naming it.
function assertGone(t: Test, id: string, what: string): void {
  t.equal(fs.existsSync(path.join(rt.root, id)), false, `${what}: no state dir`);
  t.same(cgroupDirsNamed(id), [], `${what}: no cgroup`);
  t.same(processesWith(id), [], `${what}: no process`);
}

t.test('a container that a foreground run supervises takes kill, state and delete from another shell', async (t) => {
  const b = makeBundle({ args: ['sleep', '30'] });
  const id = uniqueId('supervised');
  const child = rt.spawn(['run', '-b', b.dir, id]);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.ok(await waitFor(() => rt.run(['state', id]).stdout.includes('"running"'), 10_000), 'running');
  const began = Date.now();
  const k = rt.run(['kill', id, 'KILL'], { timeout: 10_000 });
  t.equal(k.code, 0, k.stderr);
  t.ok(Date.now() - began < 5000, 'kill does not wait for the container to exit on its own');
  t.equal(await exited, 137, 'run exits 128+9');
  assertGone(t, id, 'after run returns');
});

t.test('a supervising run that finds its container deleted by someone else exits quietly', async (t) => {
  const b = makeBundle({ args: ['sleep', '30'] });
  const id = uniqueId('stolen');
  const child = rt.spawn(['run', '-b', b.dir, id]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.ok(await waitFor(() => rt.run(['state', id]).stdout.includes('"running"'), 10_000));
  const d = rt.run(['delete', '-f', id], { timeout: 10_000 });
  t.equal(d.code, 0, d.stderr);
  t.equal(await exited, 137);
  t.equal(stderr, '', 'no error from run');
  assertGone(t, id, 'after delete -f');
});

t.test('pause of a created container: paused, as runc says, and resume makes it created again', async (t) => {
  for (const r of [rt, oracle]) {
    const b = makeBundle({ args: ['sleep', '1000'] });
    const id = uniqueId(`pc-${r.name}`);
    t.equal(r.run(['create', '-b', b.dir, id]).code, 0);
    t.equal(r.run(['pause', id]).code, 0, `${r.name}: pause`);
    t.equal(r.state(id).status, 'paused', `${r.name}: a frozen created container is paused`);
    const s = r.run(['start', id]);
    t.equal(s.code, 1, `${r.name}: start refuses`);
    t.match(s.stderr, /cannot start a container in the paused state/);
    const e = r.run(['exec', id, 'true'], { timeout: 10_000 });
    t.equal(e.code, 255, `${r.name}: exec refuses`);
    t.match(e.stderr, /cannot exec in a paused container/);
    t.equal(r.run(['resume', id]).code, 0, `${r.name}: resume`);
    t.equal(r.state(id).status, 'created', `${r.name}: created again`);
    t.equal(r.run(['start', id]).code, 0, `${r.name}: and it starts`);
    t.equal(r.state(id).status, 'running');
    t.equal(r.run(['pause', id]).code, 0);
    t.equal(r.run(['kill', id, 'KILL']).code, 0, `${r.name}: kill of a paused container`);
    t.ok(await waitFor(() => r.state(id).status === 'stopped'), `${r.name}: SIGKILL ends a paused container`);
    t.equal(r.run(['delete', id]).code, 0);
  }
});

// A kill -9 at each named step of each command: what is left, `list` shows (or it is nothing),
// and `delete --force` removes all of it.
t.test('kill -9 at every step of create, start, exec and delete leaves nothing delete -f cannot clean', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const crash = (step: string) => ({ SKIFF_TEST_CRASH_AT: step });
  const check = (t: Test, id: string, step: string) => {
    const listed = rt.run(['list', '-q']);
    t.equal(listed.code, 0, `${step}: list works`);
    const dirLeft = fs.existsSync(path.join(rt.root, id));
    if (dirLeft) {
      t.ok(listed.stdout.split('\n').includes(id) || listed.stderr.includes(id), `${step}: list shows what is left`);
    }
    const d = rt.run(['delete', '-f', id], { timeout: 20_000 });
    t.equal(d.code, 0, `${step}: delete -f: ${d.stderr}`);
    assertGone(t, id, step);
  };
  for (const step of CRASH_STEPS.create) {
    const id = uniqueId(`crash-create-${step}`);
    const r = rt.run(['create', '-b', b.dir, id], { env: crash(`create:${step}`), timeout: 20_000 });
    t.equal(r.code, 137, `create killed at ${step}`);
    check(t, id, `create:${step}`);
  }
  for (const step of CRASH_STEPS.start) {
    const id = uniqueId(`crash-start-${step}`);
    t.equal(rt.run(['create', '-b', b.dir, id]).code, 0);
    t.equal(rt.run(['start', id], { env: crash(`start:${step}`) }).code, 137, `start killed at ${step}`);
    check(t, id, `start:${step}`);
  }
  for (const step of CRASH_STEPS.exec) {
    const id = uniqueId(`crash-exec-${step}`);
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    t.equal(rt.run(['exec', id, 'sleep', '999'], { env: crash(`exec:${step}`) }).code, 137, `exec killed at ${step}`);
    check(t, id, `exec:${step}`);
  }
  for (const step of CRASH_STEPS.delete) {
    const id = uniqueId(`crash-delete-${step}`);
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    t.equal(rt.run(['delete', '-f', id], { env: crash(`delete:${step}`) }).code, 137, `delete killed at ${step}`);
    check(t, id, `delete:${step}`);
  }
});

t.test('setup errors the init meets after its mounts fail create, as runc', async (t) => {
  // This host's bounding set lacks CAP_SYS_RESOURCE: asking for it must fail create itself.
  const hostBounding = BigInt('0x' + /CapBnd:\s+([0-9a-f]+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
  const cases: [string, (s: import('../../src/oci/spec').Spec) => void][] = [
    // Thousands of masked argument rules: a BPF program past the kernel's 4096 instructions.
    ['a seccomp filter the kernel rejects', (s) => {
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ALLOW',
        syscalls: Array.from({ length: 3000 }, (_, i) => ({
          names: ['write'], action: 'SCMP_ACT_ERRNO' as const, args: [{ index: 0, value: 1000 + i, valueTwo: i, op: 'SCMP_CMP_MASKED_EQ' as const }],
        })),
      };
    }],
    // The kernel takes WAIT_KILLABLE_RECV only with a listener.
    ['a seccomp flag the kernel refuses without a listener', (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV'] as never[], syscalls: [] };
    }],
  ];
  if ((hostBounding & (1n << 24n)) === 0n) {
    cases.push(['a capability outside the host bounding set', (s) => {
      const caps = s.process!.capabilities!;
      for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...(caps[set] ?? []), 'CAP_SYS_RESOURCE'];
    }]);
  } else {
    t.comment('this host has CAP_SYS_RESOURCE in its bounding set: the capset case is not run');
  }
  for (const [what, edit] of cases) {
    const b = makeBundle({ args: ['sleep', '1000'], edit });
    for (const r of [rt, oracle]) {
      const id = uniqueId(`late-${r.name}`);
      const c = r.run(['create', '-b', b.dir, id], { timeout: 30_000 });
      t.not(c.code, 0, `${r.name}: ${what}: create fails`);
      if (r === rt) {
        t.match(c.stderr, /skiff create failed: /, `${what}: in create's words`);
        t.equal(c.stderr.trim().split('\n').length, 1, `${what}: one line: ${c.stderr}`);
        assertGone(t, id, what);
      } else {
        r.run(['delete', '-f', id]);
      }
    }
  }
});

t.test('a hook that exits without reading its stdin is judged by its exit status (EPIPE ignored, as runc)', async (t) => {
  // State past the 64 KiB pipe buffer: the write meets a closed pipe every time.
  const annotations: Record<string, string> = {};
  for (let i = 0; i < 40; i++) annotations[`big.${i}`] = 'x'.repeat(4096);
  const b = makeBundle({
    args: ['true'],
    edit: (s) => {
      s.annotations = annotations;
      s.hooks = { prestart: [{ path: '/bin/true' }], poststart: [{ path: '/bin/true' }], poststop: [{ path: '/bin/true' }] };
    },
  });
  const r = rt.run(['run', '-b', b.dir, uniqueId('epipe')], { timeout: 30_000 });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stderr, '');
  const bad = makeBundle({ args: ['true'], edit: (s) => { s.annotations = annotations; s.hooks = { prestart: [{ path: '/bin/false' }] }; } });
  const f = rt.run(['run', '-b', bad.dir, uniqueId('epipe-false')], { timeout: 30_000 });
  t.equal(f.code, 1, 'a failing hook that did not read still fails');
  t.match(f.stderr, /prestart hook \/bin\/false: exit status 1/);
});

t.test('state dirs: paths come from the id given, and one damaged state.json spoils nothing else', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const good = uniqueId('good');
  const victim = uniqueId('victim');
  const bad = uniqueId('bad');
  for (const id of [good, victim, bad]) t.equal(rt.run(['create', '-b', b.dir, id]).code, 0);
  // bad's state.json claims to be victim: a delete of bad must not touch victim.
  const file = path.join(rt.root, bad, 'state.json');
  const st = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify({ ...st, id: victim }));
  const l = rt.run(['list', '-q']);
  t.equal(l.code, 0, 'list still works');
  t.same(l.stdout.split('\n').filter((x) => x === good || x === victim || x === bad), [good, victim].sort(), 'the good ones are listed');
  t.match(l.stderr, new RegExp(`${bad}: container ${bad}: state.json is damaged`), 'a warning names the bad one');
  const s = rt.run(['state', bad]);
  t.equal(s.code, 1);
  t.match(s.stderr, /state.json is damaged/, 'state says so, no made-up state');
  t.equal(rt.run(['delete', '-f', bad]).code, 0);
  t.equal(rt.state(victim).status, 'created', 'the victim is untouched');
  assertGone(t, bad, 'delete -f of a damaged record still ends what it names');
  const goodFile = path.join(rt.root, good, 'state.json');
  const intact = fs.readFileSync(goodFile, 'utf8');
  for (const garbage of ['{"id":', '[]', '{}', 'null']) {
    fs.writeFileSync(goodFile, garbage);
    const g = rt.run(['list', '--format', 'json']);
    t.equal(g.code, 0, `list with state.json ${garbage}`);
    t.notMatch(g.stderr, /Cannot read properties|TypeError/);
    t.ok(JSON.parse(g.stdout).some((x: { id: string }) => x.id === victim), 'the others are still listed');
  }
  fs.writeFileSync(goodFile, intact);
  for (const id of [good, victim]) t.equal(rt.run(['delete', '-f', id]).code, 0);
  for (const id of [good, victim]) assertGone(t, id, 'deleted');
});

t.test('an id too long for a directory name is a clear error', async (t) => {
  const b = makeBundle();
  const r = rt.run(['create', '-b', b.dir, 'a'.repeat(300)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /container ID is too long: 300 characters/);
  t.notMatch(r.stderr, /ENAMETOOLONG/);
});
