// Docker (Debian's docker.io 20.10) with `--add-runtime skiff=<path>`: dockerd and its
// containerd are started by this test with private roots and sockets, inside a private
// network namespace (its bridge, iptables rules and published ports stay there), and
// stopped at the end. Each check runs with --runtime skiff and with Docker's runc.
import t from 'tap';
import { execFileSync, spawn, spawnSync, ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ociImage, SKIFF, testEnv, tmpDir } from '../lib/harness';

const work = tmpDir('docker');
const dockerSock = path.join(work, 'docker.sock');
const ctrdSock = path.join(work, 'containerd.sock');
const daemons: ChildProcess[] = [];
let netns: ChildProcess;

const inNs = (cmd: string, args: string[]) => ['-t', String(netns.pid), '-n', cmd, ...args];

function docker(args: string[], opts: { tty?: boolean } = {}) {
  const argv = ['-H', `unix://${dockerSock}`, ...args];
  const r = opts.tty
    ? spawnSync('script', ['-qec', ['docker', ...argv].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', env: testEnv(), timeout: 120_000, input: '' })
    : spawnSync('docker', argv, { encoding: 'utf8', env: testEnv(), timeout: 120_000, input: '' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

async function waitFor(file: string): Promise<void> {
  for (let i = 0; i < 300 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  if (!fs.existsSync(file)) throw new Error(`${file} did not appear`);
}

t.before(async () => {
  netns = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 100));
  spawnSync('nsenter', inNs('ip', ['link', 'set', 'lo', 'up']));
  fs.writeFileSync(path.join(work, 'containerd.toml'), `version = 2\nroot = "${work}/ctrd-root"\nstate = "${work}/ctrd-state"\n[grpc]\n  address = "${ctrdSock}"\n`);
  const log = fs.openSync(path.join(work, 'daemons.log'), 'w');
  daemons.push(spawn('nsenter', inNs('containerd', ['--config', path.join(work, 'containerd.toml')]), { stdio: ['ignore', log, log], env: testEnv() }));
  await waitFor(ctrdSock);
  daemons.push(spawn('nsenter', inNs('dockerd', ['--data-root', `${work}/root`, '--exec-root', `${work}/exec`, '--pidfile', `${work}/docker.pid`,
    '-H', `unix://${dockerSock}`, '--containerd', ctrdSock, '--add-runtime', `skiff=${SKIFF}`]), { stdio: ['ignore', log, log], env: testEnv() }));
  await waitFor(dockerSock);
  for (let i = 0; i < 100 && docker(['info']).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  // The image in `docker save` form, converted from the OCI layout by skopeo.
  const { layout } = ociImage(work, 'busybox');
  execFileSync('skopeo', ['copy', '-q', `oci:${layout}:latest`, `docker-archive:${work}/image.tar:busybox:latest`]);
  const load = docker(['load', '-i', `${work}/image.tar`]);
  if (load.code !== 0) throw new Error(`docker load: ${load.stderr}`);
});

t.teardown(async () => {
  const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
  for (const d of daemons.reverse()) {
    d.kill('SIGTERM');
    await new Promise((r) => d.on('exit', r));
  }
  spawnSync('pkill', ['-f', `containerd-shim-runc-v2 -namespace moby -address ${ctrdSock}`]);
  netns.kill('SIGKILL');
  spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  fs.rmSync(work, { recursive: true, force: true });
});

for (const rt of ['skiff', 'runc']) {
  t.test(`${rt}: docker run --rm exit status and output`, async (t) => {
    const r = docker(['run', '--rm', '--runtime', rt, '--network', 'none', 'busybox', 'sh', '-c', 'echo hi from docker; exit 5']);
    t.equal(r.code, 5, r.stderr);
    t.equal(r.stdout, 'hi from docker\n');
  });

  t.test(`${rt}: -d, exec, exec -t, pause/unpause, kill`, async (t) => {
    const name = `${rt}-d`;
    t.equal(docker(['run', '-d', '--runtime', rt, '--name', name, 'busybox', 'sleep', '1000']).code, 0);
    const e = docker(['exec', name, 'sh', '-c', 'echo exec-ok; exit 6']);
    t.equal(e.code, 6, e.stderr);
    t.equal(e.stdout, 'exec-ok\n');
    t.match(docker(['exec', '-t', name, 'tty'], { tty: true }).stdout, /\/dev\/pts\/\d+/);
    const state = () => docker(['inspect', '-f', '{{.State.Status}}', name]).stdout.trim();
    t.equal(docker(['pause', name]).code, 0);
    t.equal(state(), 'paused');
    t.equal(docker(['unpause', name]).code, 0);
    t.equal(state(), 'running');
    t.equal(docker(['kill', name]).code, 0);
    t.equal(docker(['wait', name]).stdout.trim(), '137');
    docker(['rm', name]);
  });

  t.test(`${rt}: run -t`, async (t) => {
    t.match(docker(['run', '--rm', '-t', '--runtime', rt, 'busybox', 'tty'], { tty: true }).stdout, /\/dev\/pts\/0/);
  });

  t.test(`${rt}: --memory`, async (t) => {
    const name = `${rt}-mem`;
    t.equal(docker(['run', '-d', '--runtime', rt, '--memory', '64m', '--name', name, 'busybox', 'sleep', '1000']).code, 0);
    const pid = docker(['inspect', '-f', '{{.State.Pid}}', name]).stdout.trim();
    const memPath = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').match(/:memory:(.*)/)![1];
    t.equal(fs.readFileSync(path.join('/sys/fs/cgroup/memory', memPath, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
    docker(['rm', '-f', name]);
  });

  t.test(`${rt}: -p 127.0.0.1:PORT:80 serves`, async (t) => {
    const name = `${rt}-web`;
    const port = rt === 'skiff' ? '18091' : '18092';
    const r = docker(['run', '-d', '--runtime', rt, '--name', name, '-p', `127.0.0.1:${port}:80`, 'busybox', 'sh', '-c', 'echo served > /tmp/i.html; httpd -f -p 80 -h /tmp']);
    t.equal(r.code, 0, r.stderr);
    let body = '';
    for (let i = 0; i < 50 && !body.includes('served'); i++) {
      body = spawnSync('nsenter', inNs('busybox', ['wget', '-qO-', `http://127.0.0.1:${port}/i.html`]), { encoding: 'utf8' }).stdout ?? '';
      if (!body) await new Promise((res) => setTimeout(res, 100));
    }
    t.equal(body, 'served\n');
    docker(['rm', '-f', name]);
  });
}
