// containerd (Debian's 1.6) drives Skiff through its runc shim, unchanged: `ctr run
// --runc-binary`. The daemon runs from this test with its own root, state and socket, in a
// private network namespace, and is stopped at the end. Each check runs against Debian's
// runc too, so the two can be compared.
import t from 'tap';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ctrClient, ociImage, SKIFF, testEnv, tmpDir } from '../lib/harness';

const IMAGE = 'docker.io/library/busybox:latest';
const work = tmpDir('containerd');
const sock = path.join(work, 'containerd.sock');
let daemon: ChildProcess | undefined;

const ctr = ctrClient(sock, 'skiff-test');

function importImage(): void {
  const { tar } = ociImage(work, 'busybox', ['--config.cmd', 'sh']);
  const r = ctr(['images', 'import', '--base-name', 'docker.io/library/busybox', tar]);
  if (r.code !== 0) throw new Error(`ctr import: ${r.stderr}`);
}

t.before(async () => {
  fs.writeFileSync(path.join(work, 'config.toml'), [
    'version = 2', `root = "${work}/root"`, `state = "${work}/state"`,
    '[grpc]', `  address = "${sock}"`, '[plugins."io.containerd.grpc.v1.cri"]', '  disable_cgroup = false', '',
  ].join('\n'));
  daemon = spawn('unshare', ['--net', 'containerd', '--config', path.join(work, 'config.toml')], {
    stdio: ['ignore', fs.openSync(path.join(work, 'containerd.log'), 'w'), 'inherit'], env: testEnv(),
  });
  for (let i = 0; i < 200 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
  if (!fs.existsSync(sock)) throw new Error('containerd did not start');
  importImage();
});

t.teardown(async () => {
  for (const id of ctr(['task', 'ls', '-q']).stdout.split('\n').filter(Boolean)) ctr(['task', 'kill', '-s', 'KILL', id]);
  for (const id of ctr(['container', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
    ctr(['task', 'delete', '-f', id]);
    ctr(['container', 'delete', id]);
  }
  daemon?.kill('SIGTERM');
  await new Promise((r) => daemon?.on('exit', r));
  spawnSync('umount', ['-R', path.join(work, 'state')]);
  spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  fs.rmSync(work, { recursive: true, force: true });
});

const RUNTIMES: [string, string][] = [['skiff', SKIFF], ['runc', '/usr/sbin/runc']];

for (const [name, binary] of RUNTIMES) {
  t.test(`${name}: ctr run --rm returns the exit status and the output`, async (t) => {
    const r = ctr(['run', '--rm', '--runc-binary', binary, IMAGE, `${name}-rm`, 'sh', '-c', 'echo hello; exit 3']);
    t.equal(r.code, 3, r.stderr);
    t.equal(r.stdout, 'hello\n');
  });

  t.test(`${name}: run -d, task exec, exec -t, pause/resume, kill`, async (t) => {
    const id = `${name}-d`;
    t.equal(ctr(['run', '-d', '--runc-binary', binary, IMAGE, id, 'sleep', '1000']).code, 0);
    const status = () => ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(id + ' '))?.split(/\s+/)[2];
    t.equal(status(), 'RUNNING');
    const e = ctr(['task', 'exec', '--exec-id', 'e1', id, 'sh', '-c', 'echo exec-ok; exit 5']);
    t.equal(e.code, 5, e.stderr);
    t.equal(e.stdout, 'exec-ok\n');
    const tty = ctr(['task', 'exec', '-t', '--exec-id', 'e2', id, 'tty'], { tty: true });
    t.match(tty.stdout, /\/dev\/pts\/\d+/, 'exec -t gets a pty');
    t.equal(ctr(['task', 'pause', id]).code, 0);
    t.equal(status(), 'PAUSED');
    t.equal(ctr(['task', 'resume', id]).code, 0);
    t.equal(status(), 'RUNNING');
    t.equal(ctr(['task', 'kill', '-s', 'KILL', id]).code, 0);
    for (let i = 0; i < 100 && status() !== 'STOPPED'; i++) await new Promise((r) => setTimeout(r, 50));
    t.equal(status(), 'STOPPED');
    t.equal(ctr(['task', 'delete', id]).code, 0);
    t.equal(ctr(['container', 'delete', id]).code, 0);
  });

  t.test(`${name}: run -t`, async (t) => {
    const r = ctr(['run', '--rm', '-t', '--runc-binary', binary, IMAGE, `${name}-t`, 'tty'], { tty: true });
    t.match(r.stdout, /\/dev\/pts\/0/);
  });

  t.test(`${name}: --memory-limit reaches the container's cgroup`, async (t) => {
    const id = `${name}-mem`;
    t.equal(ctr(['run', '-d', '--memory-limit', String(64 << 20), '--runc-binary', binary, IMAGE, id, 'sleep', '1000']).code, 0);
    const pid = ctr(['task', 'ls']).stdout.split('\n').find((l) => l.startsWith(id + ' '))!.split(/\s+/)[1];
    const memPath = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/:memory:(.*)/)![1];
    t.equal(fs.readFileSync(path.join('/sys/fs/cgroup/memory', memPath, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
    ctr(['task', 'kill', '-s', 'KILL', id]);
    for (let i = 0; i < 100 && ctr(['task', 'delete', id]).code !== 0; i++) await new Promise((r) => setTimeout(r, 50));
    ctr(['container', 'delete', id]);
  });
}
