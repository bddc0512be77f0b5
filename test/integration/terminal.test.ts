// Terminals: a console socket as containerd's shim serves it, `run` relaying the pty itself,
// and /dev/console that never follows what the rootfs planted.
import t from 'tap';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, skiff, testEnv, tmpDir, uniqueId, SKIFF } from '../lib/harness';
import { fdReceiver } from '../lib/fd-receiver';

const rt = skiff();
t.teardown(() => rt.cleanup());

t.test('create --console-socket: the pty master arrives by SCM_RIGHTS, named, sized', async (t) => {
  const cs = await fdReceiver('console');
  const b = makeBundle({ args: ['sh', '-c', 'tty; stty size; ls -l /dev/console | awk "{print \\$5 \\$6}"; echo $TERM'], edit: (s) => {
    s.process!.terminal = true;
    s.process!.consoleSize = { height: 33, width: 111 };
  } });
  const id = uniqueId('tty');
  const c = rt.run(['create', '--console-socket', cs.sock, '-b', b.dir, id]);
  t.equal(c.code, 0, c.stderr);
  t.equal(rt.run(['start', id]).code, 0);
  const out = await cs.output();
  t.match(out, /^LISTENING\nNAME \/dev\/ptmx\n/, 'named as runc names it');
  t.match(out, /\/dev\/pts\/0\n33 111\n136,0\nxterm\n/, 'tty, size, /dev/console is the pty, TERM');
  rt.run(['delete', '-f', id]);
});

t.test('input typed into the console socket reaches the container', async (t) => {
  const cs = await fdReceiver('console', 'echo typed-$((6*7))\nexit 3\n');
  const b = makeBundle({ args: ['sh'], edit: (s) => { s.process!.terminal = true; } });
  const id = uniqueId('ttyin');
  t.equal(rt.run(['run', '-d', '--console-socket', cs.sock, '-b', b.dir, id]).code, 0);
  t.match(await cs.output(), /typed-42/);
  rt.run(['delete', '-f', id]);
});

t.test('create with a terminal and no console socket is refused, as with runc', async (t) => {
  const b = makeBundle({ edit: (s) => { s.process!.terminal = true; } });
  const id = uniqueId('notty');
  const r = rt.run(['create', '-b', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /cannot allocate tty if skiff will detach without setting console socket/);
  t.equal(fs.existsSync(path.join(rt.root, id)), false);
  const d = rt.run(['run', '-d', '-b', b.dir, id]);
  t.equal(d.code, 1, 'run -d too');
});

t.test('run in the foreground relays the pty to its own stdio', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'read line; echo got:$line; tty; exit 4'], edit: (s) => { s.process!.terminal = true; } });
  const child = spawn(SKIFF, ['--root', rt.root, 'run', '-b', b.dir, uniqueId('relay')], { stdio: ['pipe', 'pipe', 'pipe'], env: testEnv() });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stdin.write('hello\n');
  const code = await new Promise((r) => child.on('exit', (c) => r(c)));
  t.equal(code, 4, 'the container status');
  t.match(out.replace(/\r/g, ''), /got:hello\n\/dev\/pts\/0\n/);
});

t.test('/dev/console never follows a symlink planted in a bound /dev (CVE-2025-52565 class)', async (t) => {
  const victim = path.join(tmpDir('victim'), 'host-file');
  fs.writeFileSync(victim, 'host content\n');
  const devDir = tmpDir('dev');
  fs.symlinkSync(victim, path.join(devDir, 'console'));
  fs.mkdirSync(path.join(devDir, 'pts'));
  const cs = await fdReceiver('console');
  const b = makeBundle({ args: ['sh', '-c', 'ls -l /dev/console; echo x > /dev/console'], edit: (s) => {
    s.process!.terminal = true;
    s.mounts = s.mounts!.filter((m) => !m.destination.startsWith('/dev'));
    s.mounts.push({ destination: '/dev', type: 'bind', source: devDir, options: ['rbind'] });
    s.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666'] });
  } });
  const id = uniqueId('console');
  const r = rt.run(['run', '-d', '--console-socket', cs.sock, '-b', b.dir, id]);
  t.equal(r.code, 0, r.stderr);
  await cs.output();
  t.equal(fs.readFileSync(victim, 'utf8'), 'host content\n', 'the host file is untouched');
  t.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(victim), false, 'and nothing is mounted on it');
  rt.run(['delete', '-f', id]);
});
