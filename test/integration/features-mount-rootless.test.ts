// Rootless for real: a throwaway unprivileged user with /etc/subuid and /etc/subgid entries
// makes a bundle with `spec --rootless` and runs busybox in it, under runc 1.1.5 and Skiff
// alike: state under $XDG_RUNTIME_DIR, no cgroups where the user may not make them (runc's
// --rootless auto), its own id mapped directly and wider mappings through newuidmap/newgidmap.
import t from 'tap';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ensureRootfs, ociImage, skiffForUsers, testEnv, tmpDir, uniqueId } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const user = `skiff-fmrl-${process.pid}`.slice(0, 32);
execFileSync('useradd', ['-M', '-s', '/bin/sh', user]);
// Every container is deleted (-f) where it ran; userdel takes the subordinate ranges too.
t.teardown(() => {
  stopPodman();
  execFileSync('userdel', [user]);
});
const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
// Debian's useradd gives a new user a subordinate range (SUB_UID_COUNT in login.defs).
const subRange = (file: string) => {
  const line = fs.readFileSync(file, 'utf8').split('\n').find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`${file} has no range for ${user}: the test needs useradd's subordinate ids`);
  const [, start, count] = line.split(':');
  return { start: Number(start), count: Number(count) };
};

// The user's own runtime dir, as a login would give it.
const xdg = tmpDir('features-mount-xdg');
fs.chownSync(xdg, uid, gid);
fs.chmodSync(xdg, 0o700);

// skiff from where the throwaway user can reach it, wherever the checkout lives
const RUNTIMES = { runc: '/usr/sbin/runc', skiff: skiffForUsers() } as const;
type Name = keyof typeof RUNTIMES;

// Runs a command as the user in the bare environment of a login: nothing of the test runner's
// (its NODE_OPTIONS hooks) comes along.
function asUserRun(argv: string[], cwd?: string, extraEnv: string[] = []) {
  const env = ['env', '-i', `PATH=${process.env.PATH}`, `HOME=${xdg}`, `XDG_RUNTIME_DIR=${xdg}`, ...extraEnv];
  // Files, not pipes: a detached container keeps its stdio open (see the harness's Runtime.run).
  const io = tmpDir('features-mount-io');
  const [out, err] = ['out', 'err'].map((n) => path.join(io, n));
  const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
  try {
    const r = spawnSync('runuser', ['-u', user, '--', ...env, ...argv], { cwd, timeout: 60_000, env: testEnv(), stdio: ['ignore', ...fds] });
    return { code: r.status ?? -1, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
    fs.rmSync(io, { recursive: true, force: true });
  }
}

// A runtime as the user, without --root: the default must be the user's.
const asUser = (rt: Name, args: string[], cwd?: string) => asUserRun([RUNTIMES[rt], ...args], cwd);

// A bundle the user owns, its config from `spec --rootless` run by the user, then edited.
function rootlessBundle(rt: Name, edit: (s: Spec) => void): string {
  const dir = tmpDir('features-mount-rlb');
  fs.chmodSync(dir, 0o755);
  execFileSync('cp', ['-a', ensureRootfs(), path.join(dir, 'rootfs')]);
  fs.chownSync(dir, uid, gid);
  const r = asUser(rt, ['spec', '--rootless'], dir);
  if (r.code !== 0) throw new Error(`${rt} spec --rootless: ${r.stderr}`);
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Spec;
  spec.process!.terminal = false;
  edit(spec);
  fs.writeFileSync(file, JSON.stringify(spec));
  return dir;
}

function both(edit: (s: Spec) => void, runArgs: string[] = []) {
  return (['runc', 'skiff'] as Name[]).map((rt) => {
    const dir = rootlessBundle(rt, edit);
    const id = uniqueId('features-mount-rl');
    const r = asUser(rt, [...runArgs, 'run', '-b', dir, id]);
    asUser(rt, ['delete', '-f', id]);
    return r;
  });
}

const SCRIPT = 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user; ls /bin/busybox';

t.test('spec --rootless by an unprivileged user runs busybox, as with runc', async (t) => {
  const [rc, sk] = both((s) => { s.process!.args = ['sh', '-c', SCRIPT]; });
  t.equal(rc.code, 0, `runc: ${rc.stderr}`);
  t.equal(sk.code, 0, `skiff: ${sk.stderr}`);
  const userNs = fs.readlinkSync('/proc/self/ns/user');
  t.equal(sk.stdout.replace(/user:\[\d+\]/, 'NS'), rc.stdout.replace(/user:\[\d+\]/, 'NS'), "the same as runc's");
  const lines = sk.stdout.split('\n');
  t.same(lines.slice(0, 2), ['0', '0'], 'root inside');
  t.match(lines[2], new RegExp(`^\\s*0\\s+${uid}\\s+1$`), "the user's own uid, mapped to 0");
  t.match(lines[3], new RegExp(`^\\s*0\\s+${gid}\\s+1$`), "the user's own gid, mapped to 0");
  t.not(lines[4], userNs, 'a user namespace of its own');
  t.ok(fs.existsSync(path.join(xdg, 'skiff')), 'state under $XDG_RUNTIME_DIR/skiff (runc: $XDG_RUNTIME_DIR/runc)');
  t.ok(fs.existsSync(path.join(xdg, 'runc')));
});

t.test('a mapping wider than the own id goes through newuidmap/newgidmap (subuid ranges)', async (t) => {
  const su = subRange('/etc/subuid');
  const sg = subRange('/etc/subgid');
  const [rc, sk] = both((s) => {
    s.process!.args = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map'];
    s.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: su.start, size: su.count }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: gid, size: 1 }, { containerID: 1, hostID: sg.start, size: sg.count }];
  });
  t.equal(sk.code, 0, `skiff: ${sk.stderr}`);
  t.equal(sk.stdout, rc.stdout, "the same as runc's");
  t.match(sk.stdout, new RegExp(`^\\s*1\\s+${su.start}\\s+${su.count}$`, 'm'), 'the subordinate uid range');
  t.match(sk.stdout, new RegExp(`^\\s*1\\s+${sg.start}\\s+${sg.count}$`, 'm'), 'the subordinate gid range');
});

t.test('a range outside the subordinate ids is refused by newuidmap, by name', async (t) => {
  const [, sk] = both((s) => {
    s.linux!.uidMappings = [{ containerID: 0, hostID: uid, size: 1 }, { containerID: 1, hostID: 1, size: 10 }];
  });
  t.not(sk.code, 0);
  t.match(sk.stderr, /rootless: linux\.uidMappings maps more than your own id, which needs newuidmap/);
});

t.test('rootless exec joins the container, kill --all reaches the init, pause says why it cannot', async (t) => {
  const dir = rootlessBundle('skiff', (s) => { s.process!.args = ['sleep', '1000']; });
  const id = uniqueId('features-mount-rl-d');
  t.equal(asUser('skiff', ['run', '-d', '-b', dir, id]).code, 0);
  const state = JSON.parse(asUser('skiff', ['state', id]).stdout);
  t.equal(state.status, 'running');
  const e = asUser('skiff', ['exec', id, 'sh', '-c', 'id -u; readlink /proc/self/ns/pid; readlink /proc/self/ns/user; exit 5']);
  t.equal(e.code, 5, `exec as the user: ${e.stderr}`);
  t.equal(e.stdout, `0\n${fs.readlinkSync(`/proc/${state.pid}/ns/pid`)}\n${fs.readlinkSync(`/proc/${state.pid}/ns/user`)}\n`, "exec runs in the container's namespaces");
  const p = asUser('skiff', ['pause', id]);
  t.not(p.code, 0);
  t.match(p.stderr, /pause: the container has no cgroups of its own \(rootless/);
  t.equal(asUser('skiff', ['kill', '--all', id, 'KILL']).code, 0);
  const gone = Date.now() + 5000;
  while (fs.existsSync(`/proc/${state.pid}`) && Date.now() < gone) await new Promise((r) => setTimeout(r, 20));
  t.notOk(fs.existsSync(`/proc/${state.pid}`), 'the init was killed');
  t.equal(asUser('skiff', ['delete', id]).code, 0);
});

t.test('--rootless false: cgroups are not skipped, and their refusal is the error', async (t) => {
  const [rc, sk] = both((s) => { s.process!.args = ['true']; }, ['--rootless', 'false']);
  t.not(rc.code, 0, 'runc fails too');
  t.not(sk.code, 0);
  t.match(sk.stderr, /cgroup: mkdir .*: permission denied/);
});

// Rootless Podman (Debian's 4.3, storage and config private to the test) runs the runtime as
// root inside its own user namespace, without --root: state goes under $XDG_RUNTIME_DIR and
// /dev nodes are bound, not made (mknod is refused there), as with runc.
const podmanDir = tmpDir('features-mount-podman');
fs.chownSync(podmanDir, uid, gid);
const podmanConf = path.join(podmanDir, 'containers.conf');
fs.writeFileSync(podmanConf, '[containers]\ndefault_ulimits = ["nofile=1024:1024"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
function podman(rt: Name, args: string[]) {
  return asUserRun(['podman', '--root', `${podmanDir}/root`, '--runroot', `${podmanDir}/run`, '--storage-driver', 'vfs',
    '--cgroup-manager', 'cgroupfs', '--runtime', RUNTIMES[rt], ...args], podmanDir, [`CONTAINERS_CONF=${podmanConf}`]);
}

// Podman's rootless pause process (catatonit) holds its user namespace after the last command:
// stopped by its pid file, so userdel finds nothing of the user's running.
function stopPodman(): void {
  podman('skiff', ['rm', '-af', '-t', '0']);
  podman('skiff', ['system', 'reset', '-f']);
  const pidFile = path.join(xdg, 'libpod', 'tmp', 'pause.pid');
  if (fs.existsSync(pidFile)) {
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

t.test('rootless Podman with --runtime skiff runs busybox, as with runc', async (t) => {
  const img = tmpDir('features-mount-podman-img');
  const { tar } = ociImage(img, 'busybox');
  execFileSync('chmod', ['-R', 'a+rX', img]);
  const load = podman('skiff', ['load', '-i', tar]);
  t.equal(load.code, 0, `podman load: ${load.stderr}`);
  const [rc, sk] = (['runc', 'skiff'] as Name[]).map((rt) => podman(rt, ['run', '--rm', '--net', 'none', 'localhost/latest:latest', 'sh', '-c', 'echo hi; id -u; cat /proc/self/uid_map; exit 3']));
  t.equal(sk.code, 3, `skiff: ${sk.stderr}`);
  t.equal(sk.stdout, rc.stdout, "the same as runc's");
  t.match(sk.stdout, new RegExp(`^hi\\n0\\n\\s*0\\s+${uid}\\s+1\\n`), "root inside is the user's own uid");
  const d = podman('skiff', ['run', '-d', '--name', 'fm-d', '--net', 'none', 'localhost/latest:latest', 'sleep', '1000']);
  t.equal(d.code, 0, d.stderr);
  const e = podman('skiff', ['exec', 'fm-d', 'sh', '-c', 'echo exec-ok']);
  t.equal(e.stdout, 'exec-ok\n', e.stderr);
  t.equal(podman('skiff', ['rm', '-f', '-t', '0', 'fm-d']).code, 0);
});
