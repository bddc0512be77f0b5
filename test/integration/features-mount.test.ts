// Kernel mount features one config.json turns on (issue 12), checked from inside the container
// and against Debian's runc 1.1.5 where it has the feature: recursive mount attributes,
// rootfsPropagation shared/unbindable, no mount namespace or one joined by path.
// Idmapped mounts are in features-mount-idmap.test.ts.
import t, { Test } from 'tap';
import { execFileSync, spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { differential, makeBundle, tmpDir, uniqueId, Runtime } from '../lib/harness';

const { sk, both, cleanup } = differential();
const unmountLater: string[] = [];
t.teardown(() => {
  cleanup();
  for (const p of unmountLater.reverse()) unmountAll(p);
});

// The mount points at or under `p`, deepest first.
function mountsUnder(p: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((m) => m === p || m?.startsWith(`${p}/`)).sort((a, b) => b.length - a.length);
}

// Detaches everything mounted at or under `p` (stacked mounts too).
function unmountAll(p: string): void {
  for (let i = 0; i < 16 && mountsUnder(p).length; i++) execFileSync('umount', ['-l', mountsUnder(p)[0]]);
}

const mountedAt = (p: string) => mountsUnder(p).includes(p);

function run(t: Test, rt: Runtime, b: { dir: string }, what: string): string {
  const r = rt.run(['run', '-b', b.dir, uniqueId(`features-mount-${rt.name}`)]);
  t.equal(r.code, 0, `${rt.name}: ${what}: ${r.stderr}`);
  return r.stdout;
}

// A host directory with a tmpfs mounted on its "sub": what an rbind carries as a submount.
// `opts` are per-mount flags (a bind remount), so the filesystem itself stays writable.
function treeWithSubmount(opts: string[] = []): string {
  const dir = tmpDir('features-mount-tree');
  const sub = path.join(dir, 'sub');
  fs.mkdirSync(sub);
  execFileSync('mount', ['-t', 'tmpfs', 'features-mount-sub', sub]);
  unmountLater.push(sub);
  if (opts.length) execFileSync('mount', ['-o', ['remount', 'bind', ...opts].join(','), sub]);
  return dir;
}

// The per-mount options (field 6 of mountinfo) of the lines whose mount point is `dest` or
// under it, keyed by mount point.
const MOUNT_OPTS = 'awk \'$5 ~ "^/mnt" { print $5, $6 }\' /proc/self/mountinfo';

t.test('rro and friends reach the submounts of an rbind (mount_setattr AT_RECURSIVE)', async (t) => {
  const src = treeWithSubmount();
  const [rc, skiff] = both((rt) => run(t, rt, makeBundle({
    args: ['sh', '-c', `touch /mnt/top 2>&1; touch /mnt/sub/x 2>&1; ${MOUNT_OPTS}`],
    edit: (s) => {
      s.mounts!.push({ destination: '/mnt', type: 'bind', source: src, options: ['rbind', 'rro', 'rnosuid', 'rnodev', 'rnoexec', 'rnoatime', 'rnosymfollow'] });
    },
  }), 'rro'));
  t.equal(skiff, rc, "the same as runc's");
  t.match(skiff, /touch: \/mnt\/top: Read-only file system/);
  t.match(skiff, /touch: \/mnt\/sub\/x: Read-only file system/, 'the submount is read-only too');
  t.match(skiff, /^\/mnt\/sub ro,nosuid,nodev,noexec,noatime,nosymfollow$/m, 'every attribute on the submount');
  t.notOk(fs.existsSync(path.join(src, 'sub', 'x')), 'nothing was written');
});

t.test('rsuid, rexec, rrw and ratime clear what the submount had', async (t) => {
  const src = treeWithSubmount(['ro', 'nosuid', 'noexec', 'noatime']);
  const [rc, skiff] = both((rt) => run(t, rt, makeBundle({
    args: ['sh', '-c', `touch /mnt/sub/x && echo wrote; ${MOUNT_OPTS}`],
    edit: (s) => {
      s.mounts!.push({ destination: '/mnt', type: 'bind', source: src, options: ['rbind', 'rrw', 'rsuid', 'rexec', 'rrelatime'] });
    },
  }), 'rrw'));
  t.equal(skiff, rc, "the same as runc's");
  t.match(skiff, /^wrote$/m, 'the read-only submount became writable');
  t.match(skiff, /^\/mnt\/sub rw,relatime$/m, 'nosuid, noexec and noatime cleared');
  t.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8').match(/features-mount-sub/g)?.length, 2, 'the host keeps its own submounts as they were');
});

// The "/" line of the container's mountinfo: its optional fields say the propagation.
const ROOT_LINE = 'awk \'$5 == "/"\' /proc/self/mountinfo';

t.test('rootfsPropagation shared: the container root is a shared mount', async (t) => {
  // runc 1.1.5 leaves "/" private here (it sets the propagation only before pivot_root);
  // runc 1.2+ sets it after as Skiff does, so this is Skiff against the kernel.
  const out = run(t, sk, makeBundle({ args: ['sh', '-c', ROOT_LINE], edit: (s) => { s.linux!.rootfsPropagation = 'shared'; } }), 'shared');
  t.match(out, / \/ \S+ shared:\d+ - /, '"/" is in a peer group');
});

t.test('rootfsPropagation unbindable: the container root is unbindable', async (t) => {
  // runc 1.1.5 refuses this (EINVAL binding the rootfs under an unbindable "/"); runc 1.2+
  // makes the rootfs's parent private first, as Skiff does.
  const out = run(t, sk, makeBundle({ args: ['sh', '-c', `${ROOT_LINE}; mkdir -p /tmp/b && mount --bind / /tmp/b 2>&1 || echo refused`], edit: (s) => {
    s.linux!.rootfsPropagation = 'unbindable';
    s.root!.readonly = false;
    s.mounts!.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' });
    s.process!.capabilities!.bounding!.push('CAP_SYS_ADMIN');
    s.process!.capabilities!.effective!.push('CAP_SYS_ADMIN');
    s.process!.capabilities!.permitted!.push('CAP_SYS_ADMIN');
  } }), 'unbindable');
  t.match(out, / \/ \S+ unbindable - /, '"/" is unbindable');
  t.match(out, /refused/, 'a bind of "/" inside the container is refused');
});

// What a container without a mount namespace may use: no masked or read-only paths, no
// read-only root (runc refuses the first alike), a private copy of the rootfs since the mounts
// land in it on the host.
function hostMountNsBundle(args: string[]) {
  const b = makeBundle({ copyRootfs: true, args, edit: (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
    s.root!.readonly = false;
    s.mounts = [{ destination: '/proc', type: 'proc', source: 'proc' }];
  } });
  unmountLater.push(path.join(b.dir, 'rootfs'));
  return b;
}

t.test("no mount namespace: the container stays in the runtime's, its mounts land there", async (t) => {
  const hostNs = fs.readlinkSync('/proc/self/ns/mnt');
  const [rc, skiff] = both((rt) => {
    const b = hostMountNsBundle(['sh', '-c', 'readlink /proc/self/ns/mnt; ls /bin/busybox']);
    const out = run(t, rt, b, 'host mount namespace');
    // runc leaves them mounted after the container (its own test unmounts them): so does Skiff.
    const procOnHost = mountedAt(path.join(b.dir, 'rootfs', 'proc'));
    unmountAll(path.join(b.dir, 'rootfs'));
    return { out, procOnHost };
  });
  t.same(skiff, rc, "the same as runc's");
  t.equal(skiff.out, `${hostNs}\n/bin/busybox\n`, "the runtime's mount namespace, chrooted into the rootfs");
  t.ok(skiff.procOnHost, "the config's /proc was mounted in the runtime's namespace");
});

t.test('exec into a container without a mount namespace is chrooted into its rootfs too', async (t) => {
  const b = hostMountNsBundle(['sleep', '1000']);
  const id = uniqueId('features-mount-hostns-exec');
  t.equal(sk.run(['run', '-d', '-b', b.dir, id]).code, 0);
  const r = sk.run(['exec', id, 'sh', '-c', `ls /bin/busybox; ls -d ${b.dir} 2>&1 || echo "not the host's /"`]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.split('\n')[0], '/bin/busybox');
  t.match(r.stdout, /not the host's \//, "the host's / is out of sight");
  t.equal(sk.run(['delete', '-f', id]).code, 0);
  unmountAll(path.join(b.dir, 'rootfs'));
});

// A mount namespace held by a process of its own (unshare -m ... sleep), joined by its
// /proc/PID/ns/mnt path. Not an nsfs bind (unshare --mount=FILE): that bind failed once with
// EINVAL in a fresh-root run, a setup flake unrelated to the runtime.
const holders: ChildProcess[] = [];
function heldMountNs(): { file: string; ino: number } {
  const own = fs.readlinkSync('/proc/self/ns/mnt');
  const p = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', '1000'], { stdio: 'ignore' });
  holders.push(p);
  const file = `/proc/${p.pid}/ns/mnt`;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 500; i++) {
    let link = own;
    try {
      link = fs.readlinkSync(file);
    } catch {
      // not exec'd yet
    }
    if (link !== own) return { file, ino: fs.statSync(file).ino };
    Atomics.wait(pause, 0, 0, 10);
  }
  throw new Error('unshare -m did not make a mount namespace in 5 s');
}
t.teardown(() => { for (const p of holders) p.kill('SIGKILL'); });

t.test('joining a mount namespace by path: the container is set up in it', async (t) => {
  const hostMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes('skiff-bundle')).length;
  const before = hostMounts();
  const [rc, skiff] = both((rt) => {
    const ns = heldMountNs();
    const out = run(t, rt, makeBundle({ args: ['sh', '-c', 'readlink /proc/self/ns/mnt; ls /bin/busybox'], edit: (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'mount' ? { type: 'mount', path: ns.file } : n));
    } }), 'joined mount namespace');
    // pivot_root moved the namespace's root to the container's rootfs, as runc's does.
    const rootAfter = execFileSync('nsenter', [`--mount=${ns.file}`, 'ls', '/bin/busybox'], { encoding: 'utf8' });
    return { out: out.replace(String(ns.ino), 'INO'), rootAfter };
  });
  t.same(skiff, rc, "the same as runc's");
  t.equal(skiff.out, 'mnt:[INO]\n/bin/busybox\n', 'the joined namespace');
  t.equal(hostMounts(), before, "nothing mounted in the runtime's namespace");
});
