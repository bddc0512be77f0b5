// Podman with cgroup_manager = "systemd" drives Skiff (--systemd-cgroup, cgroupsPath
// machine.slice:libpod:<id>) as it drives runc, on a host whose PID 1 is systemd
// (test/vm/run-systemd.sh): run --rm, run -d with --memory (the scope's MemoryMax and
// memory.max), exec, pause/unpause, and no scope left after rm. Storage, run dir and config
// are private to the test. Skips itself where PID 1 is not systemd.
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ociImage, SKIFF, testEnv, tmpDir } from '../lib/harness';

const pid1 = fs.readFileSync('/proc/1/comm', 'utf8').trim();
const skip = pid1 === 'systemd' ? false : `needs systemd as PID 1 (here it is ${pid1}): run it in test/vm/run-systemd.sh`;
const work = tmpDir('podman-sd');
const conf = path.join(work, 'containers.conf');
const IMAGE = 'localhost/busybox:latest';

function podman(runtime: string, args: string[]) {
  const argv = ['--root', `${work}/root`, '--runroot', `${work}/run`, '--storage-driver', 'overlay',
    '--cgroup-manager', 'systemd', '--runtime', runtime, ...args];
  const r = spawnSync('podman', argv, { encoding: 'utf8', env: { ...testEnv(), CONTAINERS_CONF: conf }, timeout: 180_000, input: '' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const systemctl = (...args: string[]) => spawnSync('systemctl', args, { encoding: 'utf8' }).stdout ?? '';

t.before(async () => {
  if (skip) return;
  fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\ncgroup_manager = "systemd"\nevents_logger = "file"\n');
  const { tar } = ociImage(work, 'busybox');
  const load = podman(SKIFF, ['load', '-i', tar]);
  if (load.code !== 0) throw new Error(`podman load: ${load.stderr}`);
  podman(SKIFF, ['tag', 'localhost/latest:latest', IMAGE]);
});

t.teardown(async () => {
  if (!skip) {
    podman(SKIFF, ['rm', '-af', '-t', '0']);
    podman(SKIFF, ['system', 'reset', '-f']);
  }
  spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  fs.rmSync(work, { recursive: true, force: true });
});

for (const [name, rt] of [['skiff', SKIFF], ['runc', '/usr/sbin/runc']] as const) {
  t.test(`${name}: run --rm exit status and output`, { skip }, async (t) => {
    const r = podman(rt, ['run', '--rm', '--net', 'none', IMAGE, 'sh', '-c', 'echo hi from podman; exit 4']);
    t.equal(r.code, 4, r.stderr);
    t.equal(r.stdout, 'hi from podman\n');
  });

  t.test(`${name}: run -d --memory, exec, pause/unpause, rm`, { skip }, async (t) => {
    const r = podman(rt, ['run', '-d', '--net', 'none', '--memory', '64m', '--name', `${name}-sd`, IMAGE, 'sleep', '1000']);
    t.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    const unit = `libpod-${id}.scope`;
    const dir = `/sys/fs/cgroup/machine.slice/${unit}`;
    t.equal(systemctl('show', unit, '-p', 'MemoryMax').trim(), `MemoryMax=${64 * 1024 * 1024}`, `${unit}: MemoryMax`);
    t.equal(fs.readFileSync(`${dir}/memory.max`, 'utf8').trim(), String(64 * 1024 * 1024), 'memory.max');
    const e = podman(rt, ['exec', `${name}-sd`, 'sh', '-c', 'echo exec-ok; exit 6']);
    t.equal(e.code, 6, e.stderr);
    t.equal(e.stdout, 'exec-ok\n');
    const state = () => podman(rt, ['inspect', '-f', '{{.State.Status}}', `${name}-sd`]).stdout.trim();
    t.equal(podman(rt, ['pause', `${name}-sd`]).code, 0, 'pause');
    t.equal(state(), 'paused');
    t.equal(podman(rt, ['unpause', `${name}-sd`]).code, 0, 'unpause');
    t.equal(state(), 'running');
    t.equal(podman(rt, ['rm', '-f', '-t', '0', `${name}-sd`]).code, 0, 'rm -f');
    t.notOk(fs.existsSync(dir), 'no cgroup left');
    t.notMatch(systemctl('list-units', '--all', '--no-legend', unit), id, 'no unit left');
  });
}
