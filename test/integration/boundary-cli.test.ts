// The container boundary on the command line, against runc 1.1.5: exec -e without '=',
// --preserve-fds past the open fds, signal 0, an id too long for a file name, and exec errors
// with their errno text. Same exit code and words as runc; nothing left behind.
import t from 'tap';
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { SKIFF, leftBehind, makeBundle, runc, skiff, testEnv, uniqueId, Runtime, runcWords } from '../lib/harness';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });

// runc's message without the logfmt wrapping and the runtime's name.
const words = (s: string) => runcWords(s).replace(/^(runc|skiff) (create|run) failed: /, '');

// One running container per runtime (distinct ids: they would share a cgroup otherwise).
function running(): Map<Runtime, string> {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const ids = new Map<Runtime, string>();
  for (const rt of [rc, sk]) {
    const id = uniqueId(`cli-${rt.name}`);
    if (rt.run(['run', '-d', '-b', b.dir, id]).code !== 0) throw new Error(`${rt.name} run -d failed`);
    ids.set(rt, id);
  }
  return ids;
}

t.test('exec: bad -e, missing and non-executable binaries: runc\'s exit code and words, errno text included', async (t) => {
  const ids = running();
  const cases: [string, string[]][] = [
    ['-e without =', ['-e', 'BAD', 'true']], ['-e with an empty name', ['-e', '=x', 'true']],
    ['missing path', ['/bin/nonexistent']], ['not executable', ['/etc/passwd']], ['a directory', ['/proc']],
    ['not on PATH', ['nonexistent']], ['missing cwd', ['--cwd', '/nonexistent', 'true']],
  ];
  for (const [name, args] of cases) {
    const [a, b] = [rc, sk].map((rt) => rt.run(['exec', ...args.slice(0, -1), ids.get(rt)!, ...args.slice(-1)]));
    t.equal(b.code, a.code, `${name}: exit code ${a.code}`);
    if (name !== 'missing cwd') t.equal(words(b.stderr), words(a.stderr), `${name}: ${words(a.stderr)}`);
    else t.match(b.stderr, /chdir to cwd .*no such file or directory/, `${name}: the errno text`);
  }
  t.match(sk.run(['exec', ids.get(sk)!, '/bin/nonexistent']).stderr, /stat \/bin\/nonexistent: no such file or directory/, 'the errno text is there');
  for (const [rt, id] of ids) rt.run(['delete', '-f', id]);
});

t.test('create: a binary that is not executable is refused at create, as runc does', async (t) => {
  const b = makeBundle({ args: ['/etc/passwd'] });
  const out = [rc, sk].map((rt) => {
    const id = uniqueId(`noexec-${rt.name}`);
    const r = rt.run(['create', '-b', b.dir, id]);
    t.same(leftBehind(rt, id), [], `${rt.name}: nothing left behind`);
    return r;
  });
  t.equal(out[1].code, out[0].code);
  // runc puts "unable to start container process: " before every init error; skiff's create does not.
  for (const r of out) t.match(r.stderr, /create failed: (unable to start container process: )?exec: \\"\/etc\/passwd\\": permission denied"/);
});

t.test('--preserve-fds past the fds that are open is refused', async (t) => {
  const ids = running();
  const ex = [rc, sk].map((rt) => rt.run(['exec', '--preserve-fds', '5', ids.get(rt)!, 'true']));
  t.equal(ex[1].code, ex[0].code, `exec: exit code ${ex[0].code}`);
  for (const r of ex) t.match(r.stderr, /unable to stat preserved-fd \d \(of 5\)/);
  for (const [rt, id] of ids) rt.run(['delete', '-f', id]);

  // runc checks only that the fd is open, and Go's own fds (its netpoller's epoll) sit at 3..,
  // so its create passes them on; skiff tells its own fds from passed ones.
  const id = uniqueId('pfd');
  const r = sk.run(['create', '--preserve-fds', '3', '-b', makeBundle({ args: ['true'] }).dir, id]);
  t.equal(r.code, 1, 'create refuses');
  t.match(r.stderr, /skiff create failed: unable to stat preserved-fd 0 \(of 3\): fd 3 was not passed to skiff/);
  t.same(leftBehind(sk, id), [], 'nothing left behind');
});

t.test('--preserve-fds with the fds passed, but one short: the hole is found', async (t) => {
  const file = `${makeBundle().dir}/config.json`;
  const fds = [fs.openSync(file, 'r'), fs.openSync(file, 'r')];
  const b = makeBundle({ args: ['sh', '-c', 'cat <&4 >/dev/null && echo fd4-ok'] });
  const runWith = (n: string) => spawnSync(SKIFF, ['--root', sk.root, 'run', '--preserve-fds', n, '-b', b.dir, uniqueId('pfd')], {
    stdio: ['ignore', 'pipe', 'pipe', ...fds], encoding: 'utf8', env: testEnv(),
  });
  const ok = runWith('2');
  t.equal(ok.status, 0, ok.stderr);
  t.equal(ok.stdout, 'fd4-ok\n', 'fds 3 and 4 passed through');
  const short = runWith('3');
  t.equal(short.status, 1);
  t.match(short.stderr, /unable to stat preserved-fd 2 \(of 3\): fd 5 was not passed to skiff/, 'skiff\'s own fd 5 is not handed over');
  fds.forEach((fd) => fs.closeSync(fd));
});

t.test('kill with signal 0 is accepted and checks the container is there', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  for (const rt of [rc, sk]) {
    const id = uniqueId(`kill0-${rt.name}`);
    t.equal(rt.run(['create', '-b', b.dir, id]).code, 0);
    t.equal(rt.run(['kill', id, '0']).code, 0, `${rt.name}: created`);
    t.equal(rt.run(['start', id]).code, 0);
    const r = rt.run(['kill', id, '0']);
    t.equal(r.code, 0, `${rt.name}: running ${r.stderr}`);
    t.equal(rt.state(id).status, 'running', `${rt.name}: signal 0 did nothing to it`);
    rt.run(['kill', id, 'KILL']);
    const end = Date.now() + 5000;
    while (rt.state(id).status !== 'stopped' && Date.now() < end);
    const stopped = rt.run(['kill', id, '0']);
    t.equal(stopped.code, 1, `${rt.name}: stopped`);
    t.match(stopped.stderr, /container not running/);
    rt.run(['delete', '-f', id]);
  }
});

t.test('an id longer than a file name is said to be too long', async (t) => {
  const b = makeBundle();
  const id = 'a'.repeat(300);
  const [a, c] = [rc, sk].map((rt) => rt.run(['create', '-b', b.dir, id]));
  t.equal(a.code, 1);
  t.match(a.stderr, /file name too long/, 'runc: lstat ...: file name too long');
  t.equal(c.code, 1);
  t.match(c.stderr, /skiff create failed: container ID is too long: 300 characters, a file name holds at most 255"/);
  t.notMatch(c.stderr, /ENAMETOOLONG/);
  t.same(leftBehind(sk, id), []);
  const max = 'b'.repeat(255);
  t.equal(sk.run(['run', '-b', b.dir, max]).code, 0, '255 characters still work');
});
