// Idmapped mounts (runtime-spec 1.2: uidMappings/gidMappings on a mount, idmap/ridmap),
// checked from inside the container. runc 1.1.5 has none, so this is Skiff against the kernel
// and runc 1.2+'s semantics: the mapping is written to the mount's user namespace as given,
// so a file owned by containerID on disk is seen as hostID through the mount.
import t, { Test } from 'tap';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { leftBehind, makeBundle, skiff, tmpDir, uniqueId } from '../lib/harness';
import type { IdMapping, Spec } from '../../src/oci/spec';

const rt = skiff();
const unmountLater: string[] = [];
t.teardown(() => {
  rt.cleanup();
  for (const p of unmountLater.reverse()) execFileSync('umount', ['-l', p]);
});

const map = (containerID: number, hostID: number, size = 1): IdMapping[] => [{ containerID, hostID, size }];

function inside(t: Test, script: string, edit: (s: Spec) => void, copyRootfs = false): string {
  const r = rt.run(['run', '-b', makeBundle({ args: ['sh', '-c', script], edit, copyRootfs }).dir, uniqueId('features-mount-idmap')]);
  t.equal(r.code, 0, `container ran: ${r.stderr}`);
  return r.stdout;
}

// A source directory (0755, reachable by any mapped root, owned by `owner`) with files owned
// as given.
function source(files: Record<string, number>, owner = 0): string {
  const dir = tmpDir('features-mount-idsrc');
  fs.chmodSync(dir, 0o755);
  fs.chownSync(dir, owner, owner);
  for (const [name, owner] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), '');
    fs.chownSync(path.join(dir, name), owner, owner);
  }
  return dir;
}

t.test('{containerID: 1234, hostID: 0}: a file owned by 1234 is seen as 0', async (t) => {
  // The directory is 1234's: root inside owns it through the mapping, and may write in it.
  const src = source({ f1234: 1234, f0: 0 }, 1234);
  const out = inside(t, 'stat -c "%n %u %g" /mnt/f1234 /mnt/f0; touch /mnt/new; awk \'$5 == "/mnt" { print $6 }\' /proc/self/mountinfo', (s) => {
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: src, options: ['bind'], uidMappings: map(1234, 0), gidMappings: map(1234, 0) });
  });
  const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
  t.match(out, /^\/mnt\/f1234 0 0$/m, 'mapped: seen as root');
  t.match(out, new RegExp(`^/mnt/f0 ${overflow} ${overflow}$`, 'm'), 'unmapped: the overflow id');
  t.match(out, /idmapped/, 'the mount is idmapped');
  const st = fs.statSync(path.join(src, 'new'));
  t.same([st.uid, st.gid], [1234, 1234], 'what root writes through the mount is owned by 1234 on disk');
});

t.test('ridmap maps the submounts of an rbind, idmap only the mount itself', async (t) => {
  const src = source({ top: 1234 });
  const sub = path.join(src, 'sub');
  fs.mkdirSync(sub);
  execFileSync('mount', ['-t', 'tmpfs', 'features-mount-idsub', sub]);  // tmpfs: idmappable on 6.x
  unmountLater.push(sub);
  fs.writeFileSync(path.join(sub, 'f'), '');
  fs.chownSync(path.join(sub, 'f'), 1234, 1234);
  const run = (word: string) => inside(t, 'stat -c "%n %u" /mnt/top /mnt/sub/f', (s) => {
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: src, options: ['rbind', word], uidMappings: map(1234, 0), gidMappings: map(1234, 0) });
  });
  t.equal(run('ridmap'), '/mnt/top 0\n/mnt/sub/f 0\n', 'ridmap: both');
  t.equal(run('idmap'), '/mnt/top 0\n/mnt/sub/f 1234\n', 'idmap: the top only');
});

// Kernels differ on overlayfs (this 6.18 host refuses it): either it maps, or the error names it.
t.test('an overlay is idmapped, or refused by name', async (t) => {
  const dir = tmpDir('features-mount-idov');
  for (const d of ['lower', 'upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, d));
  fs.chmodSync(dir, 0o755);
  fs.writeFileSync(path.join(dir, 'lower', 'f'), '');
  fs.chownSync(path.join(dir, 'lower', 'f'), 1234, 1234);
  const merged = path.join(dir, 'merged');
  execFileSync('mount', ['-t', 'overlay', 'features-mount-idov', '-o', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`, merged]);
  unmountLater.push(merged);
  const b = makeBundle({ args: ['stat', '-c', '%n %u', '/mnt/f'], edit: (s) => {
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: merged, options: ['bind'], uidMappings: map(1234, 0), gidMappings: map(1234, 0) });
  } });
  const r = rt.run(['run', '-b', b.dir, uniqueId('features-mount-idmap-ov')]);
  if (r.code === 0) t.equal(r.stdout, '/mnt/f 0\n', 'mapped');
  else t.match(r.stderr, /its filesystem \(overlay\) does not support idmapped mounts/, 'refused, naming overlay');
});

t.test("idmap without mappings of its own maps through the container's user namespace", async (t) => {
  const src = source({ f0: 0 });
  // Mount points the rootfs already has: its copy is host root's, which the mapped root
  // cannot write to create new ones.
  const out = inside(t, 'stat -c "%n %u" /home/f0 /root/f0', (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = map(0, 100000, 65536);
    s.linux!.gidMappings = map(0, 100000, 65536);
    // sysfs cannot be mounted for a netns that the user namespace does not own: bind it.
    s.mounts = s.mounts!.map((m) => (m.type === 'sysfs' ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m));
    s.mounts!.push({ destination: '/home', type: 'bind', source: src, options: ['bind', 'idmap'] });
    s.mounts!.push({ destination: '/root', type: 'bind', source: src, options: ['bind'] });
  }, true);
  const overflow = fs.readFileSync('/proc/sys/kernel/overflowuid', 'utf8').trim();
  t.equal(out, `/home/f0 0\n/root/f0 ${overflow}\n`, "host root's file is the container root's through the idmapped mount only");
});

t.test('a filesystem that cannot be idmapped is named, and nothing is left behind', async (t) => {
  const b = makeBundle({ edit: (s) => {
    s.mounts!.push({ destination: '/mnt', type: 'bind', source: '/sys/kernel', options: ['bind'], uidMappings: map(0, 1000), gidMappings: map(0, 1000) });
  } });
  const id = uniqueId('features-mount-idmap-bad');
  const r = rt.run(['run', '-b', b.dir, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /idmapped mount of \/sys\/kernel: its filesystem \(sysfs\) does not support idmapped mounts/);
  t.same(leftBehind(rt, id), []);
});
