// Test harness: real bundles on a real busybox rootfs, Skiff and runc run as real processes.
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { defaultSpec } from '../../src/oci/defaults';
import type { Spec } from '../../src/oci/spec';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const SKIFF = path.join(REPO, 'bin', 'skiff');
export const FIXTURE_ROOTFS = path.join(REPO, 'test', 'fixtures', 'rootfs');

export function ensureRootfs(): string {
  execFileSync(path.join(REPO, 'test', 'fixtures', 'make-rootfs.sh'), [FIXTURE_ROOTFS], { stdio: 'inherit' });
  return FIXTURE_ROOTFS;
}

// bin/skiff where an unprivileged user can run it: a checkout under /root (0700, as a fresh
// machine's clone often is) is out of that user's reach. The compiled executable holds
// everything but its addon, which it finds beside itself (src/native.ts); the Node launcher is
// not relocatable and is returned as it is.
// Whether bin/skiff is the Node launcher (a script) rather than the compiled executable.
export function skiffIsNodeLauncher(): boolean {
  const head = Buffer.alloc(2);
  const fd = fs.openSync(SKIFF, 'r');
  fs.readSync(fd, head, 0, 2, 0);
  fs.closeSync(fd);
  return head.toString() === '#!';
}

let forUsers: string | undefined;
export function skiffForUsers(): string {
  if (forUsers) return forUsers;
  if (skiffIsNodeLauncher()) return (forUsers = SKIFF);
  const exe = fs.realpathSync(SKIFF);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-for-users-'));
  fs.chmodSync(dir, 0o755);
  fs.mkdirSync(path.join(dir, 'Release'), { mode: 0o755 });
  fs.copyFileSync(path.join(path.dirname(exe), 'Release', 'skiff.node'), path.join(dir, 'Release', 'skiff.node'));
  // build/skiff, and the Bun executable it execs where it is a launcher (scripts/build-bin.js)
  for (const name of ['skiff', 'skiff-bun']) {
    const from = path.join(path.dirname(exe), name === 'skiff' ? path.basename(exe) : name);
    if (!fs.existsSync(from)) continue;
    fs.copyFileSync(from, path.join(dir, name));
    fs.chmodSync(path.join(dir, name), 0o755);
  }
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return (forUsers = path.join(dir, 'skiff'));
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `skiff-${prefix}-`));
}

let counter = 0;
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

export interface BundleOptions {
  args?: string[];
  // A private, writable copy of the rootfs instead of the shared read-only fixture.
  copyRootfs?: boolean;
  edit?: (s: Spec) => void;
}

// A bundle whose config is `skiff spec`'s default with terminal off and the given args.
export function makeBundle(opts: BundleOptions = {}): { dir: string; spec: Spec; rootfs: string } {
  const rootfs0 = ensureRootfs();
  const dir = tmpDir('bundle');
  // mkdtemp makes it 0700: a container whose root is mapped to another uid must still reach
  // its rootfs (a bundle is 0755 as `runc spec` users make it).
  fs.chmodSync(dir, 0o755);
  let rootfs = rootfs0;
  if (opts.copyRootfs) {
    rootfs = path.join(dir, 'rootfs');
    execFileSync('cp', ['-a', rootfs0, rootfs]);
  }
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.process!.args = opts.args ?? ['true'];
  spec.root = { path: opts.copyRootfs ? 'rootfs' : rootfs, readonly: true };
  opts.edit?.(spec);
  writeSpec(dir, spec);
  return { dir, spec, rootfs };
}

export function writeSpec(dir: string, spec: Spec): void {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

// NODE_EXTRA_CA_CERTS makes every Node start read a CA bundle (~60 ms here); Skiff needs none.
// tap's NODE_OPTIONS loads its process-info hook into every Node child (~300 ms each), to
// track coverage this suite does not collect.
export function testEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.NODE_OPTIONS;
  return env;
}

export class Runtime {
  readonly root: string;
  constructor(readonly binary: string, readonly name: string) {
    this.root = tmpDir(`${name}-root`);
  }

  // stdio goes through files, not pipes: a created container holds its stdio open (as with
  // runc), and a pipe would keep the caller waiting for an EOF that never comes.
  run(args: string[], opts: { input?: string; cwd?: string; timeout?: number; env?: Record<string, string> } = {}): Result {
    const dir = tmpDir('io');
    const files = ['in', 'out', 'err'].map((n) => path.join(dir, n));
    fs.writeFileSync(files[0], opts.input ?? '');
    const fds = [fs.openSync(files[0], 'r'), fs.openSync(files[1], 'w'), fs.openSync(files[2], 'w')];
    try {
      const r = spawnSync(this.binary, ['--root', this.root, ...args], {
        stdio: fds, cwd: opts.cwd, timeout: opts.timeout ?? 60_000, env: { ...testEnv(), ...opts.env },
      });
      if (r.error) throw r.error;
      return {
        code: r.status ?? 128 + (r.signal ? (os.constants.signals as Record<string, number>)[r.signal] : 0),
        stdout: fs.readFileSync(files[1], 'utf8'),
        stderr: fs.readFileSync(files[2], 'utf8'),
      };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  spawn(args: string[]) {
    return spawn(this.binary, ['--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: testEnv() });
  }

  state(id: string): Record<string, unknown> {
    const r = this.run(['state', id]);
    if (r.code !== 0) throw new Error(`${this.name} state ${id}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  // Removes every container this runtime still has, so a failed test leaves nothing behind.
  cleanup(): void {
    const r = this.run(['list', '-q']);
    for (const id of r.stdout.split('\n').filter(Boolean)) this.run(['delete', '-f', id]);
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

// Polls `cond` until it holds (true) or `ms` pass (throws, naming what was awaited).
export async function waitFor(cond: () => boolean, ms = 5000, what = 'condition'): Promise<true> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not reached in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

// An error message without runc's logfmt wrapping (time=... level=error msg="..."), so that
// runc's words and Skiff's compare as text.
export const runcWords = (stderr: string) => stderr.replace(/^.*msg="/s, '').replace(/"\s*$/s, '');

// A detached container of `args` (sleep by default) under rt; its id.
export function runDetached(rt: Runtime, prefix: string, args = ['sleep', '1000']): string {
  const id = uniqueId(`${prefix}-${rt.name}`);
  const r = rt.run(['run', '-d', '-b', makeBundle({ args }).dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
  return id;
}

// runc and Skiff side by side, for differential tests: both(f) is [f(runc), f(skiff)].
export function differential() {
  const rc = runc();
  const sk = skiff();
  return {
    rc, sk,
    both: <T>(f: (rt: Runtime) => T): [T, T] => [f(rc), f(sk)],
    cleanup: () => { sk.cleanup(); rc.cleanup(); },
  };
}

// ctr against a private containerd: `ctrClient(sock, ns)(args)`; tty gets a terminal from script(1).
export function ctrClient(sock: string, namespace: string) {
  return (args: string[], opts: { tty?: boolean; timeout?: number } = {}) => {
    const argv = ['--address', sock, '-n', namespace, ...args];
    const r = opts.tty
      ? spawnSync('script', ['-qec', ['ctr', ...argv].map((a) => `'${a}'`).join(' '), '/dev/null'], { encoding: 'utf8', timeout: opts.timeout ?? 60_000, env: testEnv(), input: '' })
      : spawnSync('ctr', argv, { encoding: 'utf8', timeout: opts.timeout ?? 60_000, env: testEnv(), input: '' });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
}

export const skiff = () => new Runtime(SKIFF, 'skiff');
export const runc = () => new Runtime('/usr/sbin/runc', 'runc');

// The cgroup directories (any hierarchy) named after the id: what a failed create must not leave.
export function cgroupDirsNamed(id: string): string[] {
  const found: string[] = [];
  const walk = (d: string, depth: number) => {
    if (depth > 4) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(d, e.name);
      if (e.name === id) found.push(p);
      walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

// Processes whose command line mentions `marker`: a container left running by mistake.
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker)) pids.push(Number(p));
    } catch {
      // exited
    }
  }
  return pids;
}

// What a refused create or run must not leave: a state dir, a cgroup named after the id, an
// init still waiting (it is a clone of the runtime until execve: its command line names the id).
export function leftBehind(rt: Runtime, id: string): string[] {
  const dir = path.join(rt.root, id);
  return [
    ...(fs.existsSync(dir) ? [`state dir ${dir}`] : []),
    ...cgroupDirsNamed(id).map((d) => `cgroup ${d}`),
    ...processesWith(id).filter((p) => p !== process.pid).map((p) => `process ${p}`),
  ];
}

// An OCI image of the test rootfs for the engine tests: an OCI layout made with Debian's
// umoci, and the same as a tarball (what `ctr images import` and `podman load` take).
export function ociImage(dir: string, name: string, config: string[] = []): { layout: string; tar: string } {
  const layout = path.join(dir, `layout-${name}`);
  const unpacked = path.join(dir, `unpacked-${name}`);
  execFileSync('umoci', ['init', '--layout', layout]);
  execFileSync('umoci', ['new', '--image', `${layout}:latest`]);
  execFileSync('umoci', ['unpack', '--image', `${layout}:latest`, unpacked]);
  // A fresh rootfs, not the shared fixture: containers run on that one get their mount points
  // made in it (runc's way too), so its content depends on which tests ran before.
  execFileSync(path.join(REPO, 'test', 'fixtures', 'make-rootfs.sh'), [path.join(unpacked, 'rootfs')], { stdio: 'ignore' });
  execFileSync('umoci', ['repack', '--image', `${layout}:latest`, unpacked]);
  if (config.length) execFileSync('umoci', ['config', '--image', `${layout}:latest`, ...config]);
  const tar = path.join(dir, `${name}.tar`);
  execFileSync('tar', ['-C', layout, '-cf', tar, '.']);
  return { layout, tar };
}

// A private Podman for image round trips: its own root, runroot and containers.conf under
// `work` (vfs storage, cgroupfs, Debian's runc), so nothing of the machine's Podman is touched.
export function privatePodman(work: string): { run: (args: string[]) => { code: number; stdout: string; stderr: string }; reset: () => void } {
  const conf = path.join(work, 'containers.conf');
  fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
  const run = (args: string[]) => {
    const r = spawnSync('podman', ['--root', `${work}/podman-root`, '--runroot', `${work}/podman-run`, '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs', '--runtime', '/usr/sbin/runc', ...args], { encoding: 'utf8', env: { ...testEnv(), CONTAINERS_CONF: conf }, timeout: 120_000 });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  // Its containers and storage, then whatever it left mounted under `work`.
  const reset = () => {
    run(['rm', '-af']);
    run(['system', 'reset', '-f']);
    spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  };
  return { run, reset };
}
