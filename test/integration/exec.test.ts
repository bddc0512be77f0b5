// exec with runc's flags: namespaces, cgroup, user, caps, env, cwd, tty, detach, process.json.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, runc, skiff, tmpDir, uniqueId, Runtime, runcWords } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });

function running(rt: Runtime, edit?: (s: Spec) => void): string {
  const id = uniqueId('exec');
  const r = rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'], edit }).dir, id]);
  if (r.code !== 0) throw new Error(r.stderr);
  return id;
}

t.test('exec joins every namespace and the cgroup of the init', async (t) => {
  const id = running(sk, (s) => { s.linux!.namespaces!.push({ type: 'cgroup' }); });
  const init = sk.state(id).pid as number;
  const r = sk.run(['exec', id, 'sh', '-c', 'for n in ipc mnt net pid uts cgroup; do readlink /proc/self/ns/$n; done; cat /proc/self/cgroup | grep -c ":/$"; echo pid=$$']);
  t.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  ['ipc', 'mnt', 'net', 'pid', 'uts', 'cgroup'].forEach((n, i) => t.equal(lines[i], fs.readlinkSync(`/proc/${init}/ns/${n}`), n));
  t.ok(Number(lines[6]) > 0, 'in the container\'s cgroups (its cgroup namespace root)');
  t.not(lines[7], 'pid=1');
  const pids: number[] = JSON.parse(sk.run(['ps', '-f', 'json', id]).stdout);
  t.equal(pids.length, 1, 'the exec process has gone again');
  sk.run(['delete', '-f', id]);
});

t.test('exit status, user, env, cwd, caps, no-new-privs, additional gids', async (t) => {
  const id = running(sk);
  t.equal(sk.run(['exec', id, 'sh', '-c', 'exit 7']).code, 7);
  const r = sk.run(['exec', '-u', '1000:1000', '-g', '5', '-g', '6', '-e', 'FOO=bar', '-e', 'PATH=/bin', '--cwd', '/tmp',
    '--no-new-privs', id, 'sh', '-c', 'id -u; id -g; id -G; echo $FOO $PATH; pwd; grep NoNewPrivs /proc/self/status']);
  t.equal(r.code, 0, r.stderr);
  const l = r.stdout.trim().split('\n');
  t.same(l.slice(0, 5), ['1000', '1000', '1000 5 6', 'bar /bin', '/tmp']);
  t.match(l[5], /NoNewPrivs:\s+1/);
  const cap = sk.run(['exec', '--cap', 'CAP_SYS_ADMIN', id, 'grep', 'CapEff', '/proc/self/status']);
  t.match(cap.stdout, /CapEff:\s+0000000020200420/, 'CAP_SYS_ADMIN added');
  sk.run(['delete', '-f', id]);
});

t.test('-p process.json, as the shims send it', async (t) => {
  const id = running(sk);
  const file = path.join(tmpDir('proc'), 'process.json');
  fs.writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'echo from-json $X; id -u'], env: ['X=1', 'PATH=/bin'], cwd: '/', user: { uid: 65534, gid: 65534 } }));
  const r = sk.run(['exec', '-p', file, id]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'from-json 1\n65534\n');
  fs.writeFileSync(file, JSON.stringify({ args: [], cwd: '/', user: { uid: 0, gid: 0 } }));
  const bad = sk.run(['exec', '-p', file, id]);
  t.equal(bad.code, 255, 'exec\'s own failures exit 255, as runc\'s');
  t.match(bad.stderr, /process\.args: must name the program/);
  sk.run(['delete', '-f', id]);
});

t.test('exec -d returns once --pid-file is written; the process runs on', async (t) => {
  const id = running(sk);
  const pidFile = path.join(tmpDir('pid'), 'p');
  const r = sk.run(['exec', '-d', '--pid-file', pidFile, id, 'sleep', '500']);
  t.equal(r.code, 0, r.stderr);
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  t.equal(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8'), 'sleep\u0000500\u0000');
  t.ok((JSON.parse(sk.run(['ps', '-f', 'json', id]).stdout) as number[]).includes(pid), 'in the container\'s cgroup');
  sk.run(['delete', '-f', id]);
});

t.test('exec -t relays a pty', async (t) => {
  const id = running(sk);
  const r = sk.run(['exec', '-t', id, 'tty']);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^\/dev\/pts\/\d+\r?\n$/);
  sk.run(['delete', '-f', id]);
});

t.test('no host fd reaches an exec\'d process', async (t) => {
  const id = running(sk);
  const r = sk.run(['exec', id, 'sh', '-c', 'for n in 0 1 2 3 4 5 6 7 8 9 10 11 12; do [ -e /proc/$$/fd/$n ] && printf "$n "; done']);
  t.equal(r.stdout.trim(), '0 1 2');
  sk.run(['delete', '-f', id]);
});

t.test('exec on stopped and paused containers fails as runc\'s does', async (t) => {
  for (const rt of [sk, rc]) {
    const id = running(rt);
    t.equal(rt.run(['pause', id]).code, 0);
    const p = rt.run(['exec', id, 'true']);
    t.equal(p.code, 255, `${rt.name}: paused`);
    t.match(p.stderr, /paused/);
    rt.run(['resume', id]);
    rt.run(['kill', id, 'KILL']);
    const end = Date.now() + 5000;
    while (rt.state(id).status !== 'stopped' && Date.now() < end);
    const s = rt.run(['exec', id, 'true']);
    t.equal(s.code, 255, `${rt.name}: stopped`);
    t.match(s.stderr, /stopped|not running/);
    rt.run(['delete', '-f', id]);
  }
});

t.test('a missing binary is an error with runc\'s words', async (t) => {
  const [a, b] = [rc, sk].map((rt) => {
    const id = running(rt);
    const r = rt.run(['exec', id, 'nosuchbinary']);
    rt.run(['delete', '-f', id]);
    return r;
  });
  t.equal(b.code, a.code);
  const words = runcWords;
  t.equal(words(b.stderr), words(a.stderr));
});
