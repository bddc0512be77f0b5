// `skiff image save` and `skiff image load`, round trips with Podman 4.3 (podman load/save,
// podman run with Debian's runc) and Docker 20.10 (docker load/save, dockerd started privately
// as engines-docker does): an image saved by one runs in the other with its config.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync, spawn, spawnSync, ChildProcess } from 'child_process';
import { ociImage, privatePodman, skiff, testEnv, tmpDir, uniqueId } from '../lib/harness';
import { CLI_JS } from '../fixtures/image/build';

const rt = skiff();
const work = tmpDir('image-archive');
const store = path.join(work, 'store');
const GREETING = 'from-the-image\n';

const { run: podman, reset: resetPodman } = privatePodman(work);
const sk = (args: string[]) => rt.run(['image', ...args, '--image-root', store]);

t.before(() => {
  // The host lacks CAP_SYS_RESOURCE: podman's default ulimits must not exceed the host's.
  const { tar } = ociImage(work, 'greeter', ['--config.cmd', 'sh', '--config.cmd', '-c', '--config.cmd', 'echo $GREETING', '--config.env', 'GREETING=from-the-image']);
  const r = sk(['import', tar, '--name', 'localhost/greeter:1']);
  if (r.code !== 0) throw new Error(r.stderr);
  const r2 = sk(['import', tar, '--name', 'localhost/other:2']);
  if (r2.code !== 0) throw new Error(r2.stderr);
});
t.teardown(() => {
  resetPodman();
  rt.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

t.test('skiff save (oci-archive and docker-archive) → podman load → podman run', async (t) => {
  for (const format of ['oci-archive', 'docker-archive']) {
    const file = path.join(work, `saved-${format}.tar`);
    const s = sk(['save', 'localhost/greeter:1', '-o', file, '--format', format]);
    t.equal(s.code, 0, s.stderr);
    t.equal(s.stdout, 'saved localhost/greeter:1\n');
    t.equal(s.stderr, '', 'quiet off a terminal');
    const l = podman(['load', '-i', file]);
    t.equal(l.code, 0, `${format}: podman load: ${l.stderr}`);
    t.match(l.stdout, /localhost\/greeter:1/, `${format}: named as saved`);
    const r = podman(['run', '--rm', '--net', 'none', 'localhost/greeter:1']);
    t.equal(r.stdout, GREETING, `${format}: podman runs it with its config: ${r.stderr}`);
    podman(['rmi', '-f', 'localhost/greeter:1']);
  }
});

t.test('podman save (docker-archive, oci-archive) → skiff load → skiff run --image', async (t) => {
  const l = podman(['load', '-i', path.join(work, 'saved-docker-archive.tar')]);
  t.equal(l.code, 0, l.stderr);
  podman(['tag', 'localhost/greeter:1', 'localhost/from-podman:1']);
  for (const format of ['docker-archive', 'oci-archive']) {
    const file = path.join(work, `podman-${format}.tar`);
    const s = podman(['save', '--format', format, '-o', file, 'localhost/from-podman:1']);
    t.equal(s.code, 0, s.stderr);
    const fresh = path.join(work, `store-${format}`);
    const r = rt.run(['image', 'load', '-i', file, '--image-root', fresh]);
    t.equal(r.code, 0, `${format}: skiff load: ${r.stderr}`);
    t.match(r.stdout, /^Loaded image: localhost\/from-podman:1 sha256:[0-9a-f]{64}\n$/);
    const run = rt.run(['run', '--image', 'localhost/from-podman:1', '--image-root', fresh, uniqueId('archive')]);
    t.equal(run.stdout, GREETING, `${format}: skiff runs it: ${run.stderr}`);
  }
});

t.test('several images in one archive; a progress line on a terminal', async (t) => {
  const file = path.join(work, 'two.tar');
  const s = sk(['save', 'localhost/greeter:1', 'localhost/other:2', '-o', file]);
  t.equal(s.code, 0, s.stderr);
  const fresh = path.join(work, 'store-two');
  const l = rt.run(['image', 'load', '-i', file, '--image-root', fresh]);
  t.equal(l.code, 0, l.stderr);
  t.equal(rt.run(['image', 'ls', '-q', '--image-root', fresh]).stdout, 'localhost/greeter:1\nlocalhost/other:2\n');
  const cmd = `${process.execPath} ${CLI_JS} save localhost/greeter:1 -o ${path.join(work, 'tty.tar')} --image-root ${store}`;
  const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  t.match(out, /\r\x1b\[Ksaving localhost\/greeter:1: [\d.]+\/[\d.]+ MB \(100%\)/, 'progress line');
  t.match(out, /\r\x1b\[Ksaved localhost\/greeter:1\r?\n$/, 'erased before the result');
  const loadCmd = `${process.execPath} ${CLI_JS} load -i ${file} --image-root ${path.join(work, 'store-tty')}`;
  const loaded = execFileSync('script', ['-qec', loadCmd, '/dev/null'], { encoding: 'utf8' });
  t.match(loaded, /\r\x1b\[Kloading .*two\.tar: \d+ blobs checked/, 'load: a progress line');
  t.match(loaded, /\r\x1b\[KLoaded image: localhost\/greeter:1 /, 'erased before the result');
  t.equal(l.stderr, '', 'load: quiet off a terminal');
  const bad = sk(['save', 'nope:1', '-o', path.join(work, 'nope.tar')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /image nope:1: no such image/);
  t.notOk(fs.existsSync(path.join(work, 'nope.tar')), 'nothing written');
});

t.test('docker: skiff save --format docker-archive → docker load → docker run; docker save → skiff load', async (t) => {
  const sock = path.join(work, 'docker.sock');
  const ctrd = path.join(work, 'containerd.sock');
  const daemons: ChildProcess[] = [];
  const netns = spawn('unshare', ['--net', 'sleep', 'infinity'], { stdio: 'ignore' });
  const inNs = (cmd: string, args: string[]) => ['-t', String(netns.pid), '-n', cmd, ...args];
  const docker = (args: string[]) => {
    const r = spawnSync('docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8', env: testEnv(), timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const appear = async (f: string) => {
    for (let i = 0; i < 300 && !fs.existsSync(f); i++) await new Promise((r) => setTimeout(r, 50));
  };
  t.teardown(async () => {
    for (const d of daemons.reverse()) {
      d.kill('SIGTERM');
      await new Promise((r) => d.on('exit', r));
    }
    netns.kill('SIGKILL');
  });
  await new Promise((r) => setTimeout(r, 100));
  fs.writeFileSync(path.join(work, 'containerd.toml'), `version = 2\nroot = "${work}/ctrd-root"\nstate = "${work}/ctrd-state"\n[grpc]\n  address = "${ctrd}"\n`);
  const log = fs.openSync(path.join(work, 'daemons.log'), 'w');
  daemons.push(spawn('nsenter', inNs('containerd', ['--config', path.join(work, 'containerd.toml')]), { stdio: ['ignore', log, log], env: testEnv() }));
  await appear(ctrd);
  daemons.push(spawn('nsenter', inNs('dockerd', ['--data-root', `${work}/docker-root`, '--exec-root', `${work}/docker-exec`, '--pidfile', `${work}/docker.pid`,
    '-H', `unix://${sock}`, '--containerd', ctrd, '--bridge', 'none', '--iptables=false']), { stdio: ['ignore', log, log], env: testEnv() }));
  await appear(sock);
  for (let i = 0; i < 100 && docker(['info']).code !== 0; i++) await new Promise((r) => setTimeout(r, 100));
  const file = path.join(work, 'for-docker.tar');
  t.equal(sk(['save', 'localhost/greeter:1', '-o', file, '--format', 'docker-archive']).code, 0);
  const l = docker(['load', '-i', file]);
  t.equal(l.code, 0, l.stderr);
  t.match(l.stdout, /Loaded image: localhost\/greeter:1/);
  const r = docker(['run', '--rm', '--net', 'none', 'localhost/greeter:1']);
  t.equal(r.stdout, GREETING, `docker runs it: ${r.stderr}`);
  t.equal(docker(['tag', 'localhost/greeter:1', 'localhost/from-docker:1']).code, 0);
  const back = path.join(work, 'from-docker.tar');
  t.equal(docker(['save', '-o', back, 'localhost/from-docker:1']).code, 0);
  const fresh = path.join(work, 'store-docker');
  const ld = rt.run(['image', 'load', '-i', back, '--image-root', fresh]);
  t.equal(ld.code, 0, ld.stderr);
  const run = rt.run(['run', '--image', 'localhost/from-docker:1', '--image-root', fresh, uniqueId('archive')]);
  t.equal(run.stdout, GREETING, `skiff runs what docker saved: ${run.stderr}`);
  const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  if (ids.length) docker(['rm', '-f', ...ids]);
});
