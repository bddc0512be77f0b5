// Podman (Debian's 4.3, with conmon) drives Skiff through `--runtime`, unchanged. Podman's
// storage, run dir and config are private to the test, and every podman command runs in a
// private network namespace (with its own loopback) so published ports and firewall rules
// never touch the host's. Each check runs against Debian's runc too.
import t from 'tap';
import { spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ociImage, SKIFF, testEnv, tmpDir } from '../lib/harness';

const work = tmpDir('podman');
const conf = path.join(work, 'containers.conf');
let netns: ChildProcess | undefined;

function podman(runtime: string, args: string[], opts: { tty?: boolean } = {}) {
  const argv = ['-t', String(netns!.pid), '-n', 'podman', '--root', `${work}/root`, '--runroot', `${work}/run`,
    '--storage-driver', 'overlay', '--cgroup-manager', 'cgroupfs', '--runtime', runtime, ...args];
  const env = { ...testEnv(), CONTAINERS_CONF: conf };
  const r = opts.tty
    ? spawnSync('script', ['-qec', ['nsenter', ...argv].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', env, timeout: 120_000, input: '' })
    : spawnSync('nsenter', argv, { encoding: 'utf8', env, timeout: 120_000, input: '' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

t.before(async () => {
  // The host lacks CAP_SYS_RESOURCE: podman's default ulimits must not exceed the host's.
  fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  netns = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 100));
  spawnSync('nsenter', ['-t', String(netns.pid), '-n', 'ip', 'link', 'set', 'lo', 'up']);
  const { tar } = ociImage(work, 'busybox');
  const load = podman(SKIFF, ['load', '-i', tar]);
  if (load.code !== 0) throw new Error(`podman load: ${load.stderr}`);
  podman(SKIFF, ['tag', 'localhost/latest:latest', 'localhost/busybox:latest']);
});

t.teardown(async () => {
  podman(SKIFF, ['rm', '-af', '-t', '0']);
  podman(SKIFF, ['system', 'reset', '-f']);
  netns?.kill('SIGKILL');
  spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  fs.rmSync(work, { recursive: true, force: true });
});

const IMAGE = 'localhost/busybox:latest';

for (const [name, rt] of [['skiff', SKIFF], ['runc', '/usr/sbin/runc']] as const) {
  t.test(`${name}: run --rm exit status and output`, async (t) => {
    const r = podman(rt, ['run', '--rm', '--net', 'none', IMAGE, 'sh', '-c', 'echo hi from podman; exit 4']);
    t.equal(r.code, 4, r.stderr);
    t.equal(r.stdout, 'hi from podman\n');
  });

  t.test(`${name}: run -d, exec, exec -t, pause/unpause, kill`, async (t) => {
    const id = `${name}-d`;
    t.equal(podman(rt, ['run', '-d', '--net', 'none', '--name', id, IMAGE, 'sleep', '1000']).code, 0);
    const e = podman(rt, ['exec', id, 'sh', '-c', 'echo exec-ok; exit 6']);
    t.equal(e.code, 6, e.stderr);
    t.equal(e.stdout, 'exec-ok\n');
    t.match(podman(rt, ['exec', '-t', id, 'tty'], { tty: true }).stdout, /\/dev\/pts\/\d+/);
    const state = () => podman(rt, ['inspect', '-f', '{{.State.Status}}', id]).stdout.trim();
    t.equal(podman(rt, ['pause', id]).code, 0);
    t.equal(state(), 'paused');
    t.equal(podman(rt, ['unpause', id]).code, 0);
    t.equal(state(), 'running');
    t.equal(podman(rt, ['kill', id]).code, 0);
    t.equal(podman(rt, ['wait', id]).stdout.trim(), '137');
    t.equal(podman(rt, ['rm', id]).code, 0);
  });

  t.test(`${name}: run -t`, async (t) => {
    t.match(podman(rt, ['run', '--rm', '-t', '--net', 'none', IMAGE, 'tty'], { tty: true }).stdout, /\/dev\/pts\/0/);
  });

  t.test(`${name}: --memory lands in the container's memory cgroup`, async (t) => {
    const r = podman(rt, ['run', '--rm', '--net', 'none', '--memory', '64m', IMAGE, 'sh', '-c', 'cat /proc/self/cgroup']);
    t.equal(r.code, 0, r.stderr);
    const memPath = r.stdout.match(/:memory:(.*)/)![1];
    t.match(memPath, /libpod/, 'podman\'s cgroup');
  });

  t.test(`${name}: a published port on 127.0.0.1`, async (t) => {
    const id = `${name}-web`;
    const port = name === 'skiff' ? '18081' : '18082';
    const r = podman(rt, ['run', '-d', '--name', id, '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', 'echo served > /tmp/index.html; httpd -f -p 80 -h /tmp']);
    t.equal(r.code, 0, r.stderr);
    let body = '';
    for (let i = 0; i < 50 && !body.includes('served'); i++) {
      body = spawnSync('nsenter', ['-t', String(netns!.pid), '-n', 'busybox', 'wget', '-qO-', `http://127.0.0.1:${port}/index.html`], { encoding: 'utf8' }).stdout ?? '';
      if (!body) await new Promise((res) => setTimeout(res, 100));
    }
    t.equal(body, 'served\n');
    podman(rt, ['rm', '-f', '-t', '0', id]);
  });
}
