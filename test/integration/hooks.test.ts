// The six hooks: order, namespace, state on stdin, args, env, timeouts and failures.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, skiff, tmpDir, uniqueId } from '../lib/harness';
import type { Hook, Spec } from '../../src/oci/spec';

const rt = skiff();
t.teardown(() => rt.cleanup());

// A hook script that lives in a directory bound into the container at the same path, so it
// resolves both in the runtime namespace and in the container's.
function hookDir() {
  const dir = tmpDir('hooks');
  const script = path.join(dir, 'hook.sh');
  fs.writeFileSync(script, [
    '#!/bin/sh',
    'state=$(cat)',
    'echo "$1 ns=$(readlink /proc/self/ns/mnt) var=$HOOK_VAR state=$state" >> ' + path.join(dir, 'log'),
    'exit ${2:-0}', '',
  ].join('\n'), { mode: 0o755 });
  return { dir, script, log: () => fs.readFileSync(path.join(dir, 'log'), 'utf8').trim().split('\n') };
}

function withHooks(dir: string, hooks: Spec['hooks'], args = ['true']) {
  return makeBundle({ args, edit: (s) => {
    s.hooks = hooks;
    s.mounts!.push({ destination: dir, type: 'bind', source: dir, options: ['rbind'] });
  } });
}

const hook = (script: string, kind: string, extra: Partial<Hook> = {}): Hook => ({ path: script, args: ['hook.sh', kind], env: ['HOOK_VAR=v'], ...extra });

t.test('all six run in order, each in its namespace, with the state on stdin', async (t) => {
  const h = hookDir();
  const kinds = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
  const hooks = Object.fromEntries(kinds.map((k) => [k, [hook(h.script, k)]]));
  const id = uniqueId('hooks');
  const b = withHooks(h.dir, hooks, ['sleep', '1000']);
  t.equal(rt.run(['create', '-b', b.dir, id]).code, 0);
  const pid = rt.state(id).pid as number;
  const containerNs = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
  t.equal(rt.run(['start', id]).code, 0);
  t.equal(rt.run(['delete', '-f', id]).code, 0);
  const lines = h.log();
  t.same(lines.map((l) => l.split(' ')[0]), [...kinds], 'order');
  const hostNs = fs.readlinkSync('/proc/self/ns/mnt');
  const field = (l: string, k: string) => l.split(' ').find((w) => w.startsWith(`${k}=`))!.slice(k.length + 1);
  const expectNs = { prestart: hostNs, createRuntime: hostNs, createContainer: containerNs, startContainer: containerNs, poststart: hostNs, poststop: hostNs };
  lines.forEach((l, i) => {
    const kind = kinds[i];
    t.equal(field(l, 'ns'), expectNs[kind], `${kind}: namespace`);
    t.equal(field(l, 'var'), 'v', `${kind}: env`);
    const state = JSON.parse(l.slice(l.indexOf('state=') + 6));
    t.equal(state.id, id, `${kind}: state id`);
    t.equal(state.bundle, b.dir);
  });
  const status = (i: number) => JSON.parse(lines[i].slice(lines[i].indexOf('state=') + 6)).status;
  t.equal(status(0), 'creating');
  t.equal(JSON.parse(lines[0].slice(lines[0].indexOf('state=') + 6)).pid, pid, 'the init\'s host pid');
  t.equal(status(4), 'running');
  t.equal(status(5), 'stopped');
});

t.test('a failing prestart, createRuntime or createContainer hook fails create and undoes it', async (t) => {
  for (const kind of ['prestart', 'createRuntime', 'createContainer']) {
    const h = hookDir();
    const id = uniqueId('hookfail');
    const r = rt.run(['create', '-b', withHooks(h.dir, { [kind]: [{ path: h.script, args: ['hook.sh', kind, '3'] }] }).dir, id]);
    t.equal(r.code, 1, kind);
    t.match(r.stderr, new RegExp(`${kind} hook`), `${kind}: named`);
    t.equal(fs.existsSync(path.join(rt.root, id)), false, `${kind}: no state`);
    t.same(cgroupDirsNamed(id), [], `${kind}: no cgroup`);
  }
});

t.test('a hook past its timeout is killed and fails create', async (t) => {
  const h = hookDir();
  for (const kind of ['createRuntime', 'createContainer']) {
    const slow = { path: '/bin/sh', args: ['sh', '-c', 'sleep 30'], timeout: 1 };
    const t0 = Date.now();
    const r = rt.run(['create', '-b', withHooks(h.dir, { [kind]: [slow] }).dir, uniqueId('slow')]);
    t.equal(r.code, 1, kind);
    t.match(r.stderr, /timed out/, `${kind}: timed out`);
    t.ok(Date.now() - t0 < 10_000, `${kind}: did not wait for the hook`);
  }
});

t.test('a failing poststart hook stops the container; a failing poststop hook is a warning', async (t) => {
  const h = hookDir();
  const id = uniqueId('poststart');
  t.equal(rt.run(['create', '-b', withHooks(h.dir, { poststart: [{ path: h.script, args: ['hook.sh', 'poststart', '1'] }] }, ['sleep', '1000']).dir, id]).code, 0);
  const s = rt.run(['start', id]);
  t.equal(s.code, 1);
  t.match(s.stderr, /poststart hook/);
  t.equal(rt.state(id).status, 'stopped');
  t.equal(rt.run(['delete', id]).code, 0);
  const id2 = uniqueId('poststop');
  t.equal(rt.run(['run', '-d', '-b', withHooks(h.dir, { poststop: [{ path: h.script, args: ['hook.sh', 'poststop', '1'] }] }, ['sleep', '1000']).dir, id2]).code, 0);
  const d = rt.run(['delete', '-f', id2]);
  t.equal(d.code, 0, 'delete still succeeds');
  t.match(d.stderr, /level=warning msg="poststop hook/);
});

t.test('a failing startContainer hook keeps the user process from running', async (t) => {
  const h = hookDir();
  const id = uniqueId('startc');
  const marker = path.join(h.dir, 'ran');
  t.equal(rt.run(['create', '-b', withHooks(h.dir, { startContainer: [{ path: h.script, args: ['hook.sh', 'startContainer', '1'] }] }, ['touch', marker]).dir, id]).code, 0);
  rt.run(['start', id]);
  const end = Date.now() + 5000;
  while (rt.state(id).status !== 'stopped' && Date.now() < end);
  t.equal(fs.existsSync(marker), false, 'the process never ran');
  rt.run(['delete', id]);
});
