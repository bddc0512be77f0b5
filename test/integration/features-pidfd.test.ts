// --pidfd-socket on create, run and exec (runc 1.2+): the listener gets a pidfd of the
// container's process and can signal it without a pid race. runc 1.1.5 has no such flag;
// the receiver here does what runc's own test does (pidfd_send_signal, wait for the exit).
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { leftBehind, makeBundle, runc, skiff, tmpDir, uniqueId, waitFor } from '../lib/harness';
import { fdReceiver } from '../lib/fd-receiver';

const rt = skiff();
t.teardown(() => rt.cleanup());
const SIGKILL = 9;

const sleeping = () => makeBundle({ args: ['sleep', '1000'] }).dir;
const status = (id: string) => rt.state(id).status;

t.test('create --pidfd-socket: a pidfd of the init, which can kill it', async (t) => {
  const l = await fdReceiver('pidfd', String(SIGKILL));
  t.teardown(l.stop);
  const id = uniqueId('pidfd-create');
  const pidFile = path.join(tmpDir('pidfd-create'), 'pid');
  const r = rt.run(['create', '--pidfd-socket', l.sock, '--pid-file', pidFile, '-b', sleeping(), id]);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => l.lines.some((x) => x.startsWith('PID')), 10_000, 'the pidfd');
  t.ok(l.lines.includes('NAME pidfd'), 'named pidfd, as runc sends it');
  t.ok(l.lines.includes(`PID ${fs.readFileSync(pidFile, 'utf8')}`), 'the pidfd is the init\'s');
  await waitFor(() => l.lines.includes('EXITED'), 10_000, 'the init killed through its pidfd');
  await waitFor(() => status(id) === 'stopped', 5000, 'stopped');
  t.equal(rt.run(['delete', id]).code, 0);
});

t.test('run -d --pidfd-socket', async (t) => {
  const l = await fdReceiver('pidfd');
  t.teardown(l.stop);
  const id = uniqueId('pidfd-run');
  const r = rt.run(['run', '-d', '--pidfd-socket', l.sock, '-b', sleeping(), id]);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => l.lines.some((x) => x.startsWith('PID')), 10_000, 'the pidfd');
  t.ok(l.lines.includes(`PID ${rt.state(id).pid}`), 'the pidfd is the running init\'s');
  t.equal(status(id), 'running');
  t.equal(rt.run(['delete', '-f', id]).code, 0);
});

t.test('exec -d --pidfd-socket: a pidfd of the exec process, not of the init', async (t) => {
  const id = uniqueId('pidfd-exec');
  t.equal(rt.run(['run', '-d', '-b', sleeping(), id]).code, 0);
  t.teardown(() => rt.run(['delete', '-f', id]));
  const l = await fdReceiver('pidfd', String(SIGKILL));
  t.teardown(l.stop);
  const pidFile = path.join(tmpDir('pidfd-exec'), 'pid');
  const r = rt.run(['exec', '-d', '--pidfd-socket', l.sock, '--pid-file', pidFile, id, 'sleep', '999']);
  t.equal(r.code, 0, r.stderr);
  await waitFor(() => l.lines.includes('EXITED'), 10_000, 'the exec process killed through its pidfd');
  const pid = fs.readFileSync(pidFile, 'utf8');
  t.ok(l.lines.includes(`PID ${pid}`), 'the pidfd is the exec process\'s');
  t.not(pid, String(rt.state(id).pid));
  t.equal(status(id), 'running', 'the init lives on');
});

t.test('a socket nobody listens on: a clear error before anything is made', async (t) => {
  const id = uniqueId('pidfd-none');
  const sock = path.join(tmpDir('pidfd-none'), 'none.sock');
  for (const cmd of ['create', 'run']) {
    const r = rt.run([cmd, '--pidfd-socket', sock, '-b', sleeping(), id]);
    t.equal(r.code, 1);
    t.match(r.stderr, new RegExp(`connect to pidfd socket ${sock}: no such file or directory`, 'i'));
    t.same(leftBehind(rt, id), []);
  }
  const rc = runc();
  t.teardown(() => rc.cleanup());
  t.match(rc.run(['create', '--pidfd-socket', sock, '-b', sleeping(), id]).stderr, /flag provided but not defined: -pidfd-socket/, 'runc 1.1.5 has no such flag');
});
