// Layer unpacking on the real filesystem, as root: every entry type, metadata, whiteouts in both
// modes, and hostile layers (each built byte for byte here) that must not write outside the tree.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { Readable } from 'stream';
import { unpackLayer, UnpackMode } from '../../src/image/layers';
import { tarArchive, TarEntry } from '../../src/image/tarwrite';
import { LayerStack } from '../../src/image/resolve';
import { CAP, linkBase, linkTop, tmpdir } from '../fixtures/image/build';


function unpack(entries: TarEntry[], root: string, mode: UnpackMode = 'overlay') {
  return unpackLayer(Readable.from([tarArchive(entries)]), root, mode, 'layer test');
}
function xattr(p: string, name: string): string {
  try {
    return execFileSync('getfattr', ['--absolute-names', '-h', '-n', name, '-e', 'hex', '--only-values', p]).toString('hex');
  } catch {
    return '';
  }
}
function xattrHex(p: string, name: string): string | undefined {
  const out = execFileSync('getfattr', ['--absolute-names', '-h', '-d', '-m', '-', '-e', 'hex', p]).toString();
  const m = new RegExp(`^${name.replace(/\./g, '\\.')}=0x([0-9a-f]+)$`, 'm').exec(out);
  return m?.[1];
}

t.test('every entry type with its metadata', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = path.join(dir, 'fs');
  fs.mkdirSync(root);
  const mtime = 1_600_000_000;
  const stats = await unpack([
    { name: 'etc/', type: 'directory', mode: 0o750, uid: 0, gid: 42, mtime },
    { name: 'etc/hello', type: 'file', mode: 0o4755, uid: 1000, gid: 1001, mtime: mtime + 0.5, data: Buffer.from('hi\n') },
    { name: 'etc/link', type: 'link', linkname: 'etc/hello' },
    { name: 'etc/sym', type: 'symlink', linkname: '/etc/hello', uid: 7, gid: 8, mtime },
    { name: 'dev/null', type: 'character-device', mode: 0o666, devmajor: 1, devminor: 3, mtime },
    { name: 'dev/loop9', type: 'block-device', mode: 0o660, devmajor: 7, devminor: 9, gid: 6 },
    { name: 'run/fifo', type: 'fifo', mode: 0o600, uid: 5, gid: 5 },
    { name: 'bin/ping', type: 'file', mode: 0o755, xattrs: { 'security.capability': CAP, 'user.note': Buffer.from('x') }, data: Buffer.from('ELF') },
    { name: './usr/lib/deep/file', type: 'file', data: Buffer.alloc(300_000, 7) },
  ], root);
  t.equal(stats.entries, 9);
  const st = fs.lstatSync(path.join(root, 'etc/hello'));
  t.equal(st.mode & 0o7777, 0o4755, 'setuid mode kept after chown');
  t.equal(st.uid, 1000);
  t.equal(st.gid, 1001);
  t.equal(st.mtimeMs, (mtime + 0.5) * 1000, 'sub-second mtime from pax');
  t.equal(fs.readFileSync(path.join(root, 'etc/hello'), 'utf8'), 'hi\n');
  t.equal(fs.lstatSync(path.join(root, 'etc/link')).ino, st.ino, 'hardlink shares the inode');
  t.equal(st.nlink, 2);
  const d = fs.lstatSync(path.join(root, 'etc'));
  t.equal(d.mode & 0o7777, 0o750);
  t.equal(d.gid, 42);
  t.equal(d.mtimeMs, mtime * 1000, 'directory mtime set after its children');
  const l = fs.lstatSync(path.join(root, 'etc/sym'));
  t.ok(l.isSymbolicLink());
  t.equal(fs.readlinkSync(path.join(root, 'etc/sym')), '/etc/hello');
  t.equal(l.uid, 7);
  const cdev = fs.lstatSync(path.join(root, 'dev/null'));
  t.ok(cdev.isCharacterDevice());
  t.equal(cdev.rdev, (1 << 8) | 3);
  t.equal(cdev.mode & 0o777, 0o666);
  const bdev = fs.lstatSync(path.join(root, 'dev/loop9'));
  t.ok(bdev.isBlockDevice());
  t.equal(bdev.rdev, (7 << 8) | 9);
  t.equal(bdev.gid, 6);
  const fifo = fs.lstatSync(path.join(root, 'run/fifo'));
  t.ok(fifo.isFIFO());
  t.equal(fifo.uid, 5);
  t.equal(xattrHex(path.join(root, 'bin/ping'), 'security.capability'), CAP.toString('hex'), 'binary xattr value byte for byte');
  t.equal(xattrHex(path.join(root, 'bin/ping'), 'user.note'), '78');
  t.equal(fs.readFileSync(path.join(root, 'bin/ping'), 'utf8'), 'ELF');
  t.equal(fs.statSync(path.join(root, 'usr/lib/deep/file')).size, 300_000);
});

t.test('whiteouts in overlay form, and stacking them with overlayfs', async (t) => {
  const dir = tmpdir();
  const lower = path.join(dir, 'lower');
  const upper = path.join(dir, 'upper');
  const merged = path.join(dir, 'merged');
  for (const d of [lower, upper, merged, path.join(dir, 'u'), path.join(dir, 'w')]) fs.mkdirSync(d);
  t.teardown(() => {
    try { execFileSync('umount', [merged], { stdio: 'ignore' }); } catch { /* not mounted */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await unpack([
    { name: 'a/', type: 'directory', mode: 0o755 },
    { name: 'a/keep', type: 'file', data: Buffer.from('k') },
    { name: 'a/gone', type: 'file', data: Buffer.from('g') },
    { name: 'o/', type: 'directory', mode: 0o755 },
    { name: 'o/old1', type: 'file', data: Buffer.from('1') },
    { name: 'o/sub/old2', type: 'file', data: Buffer.from('2') },
  ], lower);
  const stats = await unpack([
    { name: 'a/.wh.gone', type: 'file' },
    { name: 'o/new', type: 'file', data: Buffer.from('n') },
    { name: 'o/.wh..wh..opq', type: 'file' },
    { name: 'o/.wh.new', type: 'file' }, // a whiteout never hides what its own layer wrote
    { name: 'trust', type: 'file', xattrs: { 'trusted.overlay.opaque': Buffer.from('y') }, data: Buffer.from('') },
  ], upper);
  t.equal(stats.whiteouts, 2);
  t.same(stats.opaque, ['o']);
  const wh = fs.lstatSync(path.join(upper, 'a/gone'));
  t.ok(wh.isCharacterDevice() && wh.rdev === 0, 'a/.wh.gone became a 0:0 char device');
  t.equal(xattrHex(path.join(upper, 'o'), 'trusted.overlay.opaque'), '79', 'opaque dir has trusted.overlay.opaque=y');
  t.equal(xattrHex(path.join(upper, 'trust'), 'trusted.overlay.opaque'), undefined, 'a layer cannot forge overlay xattrs');
  t.ok(fs.existsSync(path.join(upper, 'o/new')));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${upper}:${lower},upperdir=${dir}/u,workdir=${dir}/w`, merged]);
  t.same(fs.readdirSync(path.join(merged, 'a')).sort(), ['keep']);
  t.same(fs.readdirSync(path.join(merged, 'o')).sort(), ['new']);
});

t.test('whiteouts applied onto a tree (the --copy mode)', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await unpack([
    { name: 'a/keep', type: 'file', data: Buffer.from('k') },
    { name: 'a/gone', type: 'file', data: Buffer.from('g') },
    { name: 'a/gonedir/x', type: 'file', data: Buffer.from('x') },
    { name: 'o/old1', type: 'file' },
    { name: 'o/sub/old2', type: 'file' },
    { name: 'f', type: 'file', data: Buffer.from('file') },
  ], dir, 'apply');
  await unpack([
    { name: 'o/sub/new2', type: 'file' },
    { name: 'a/.wh.gone', type: 'file' },
    { name: 'a/.wh.gonedir', type: 'file' },
    { name: 'o/.wh..wh..opq', type: 'file' },
    { name: 'o/new', type: 'file' },
    { name: 'f/now-a-dir', type: 'file' }, // an upper dir replaces a lower file
  ], dir, 'apply');
  t.same(fs.readdirSync(path.join(dir, 'a')).sort(), ['keep']);
  t.same(fs.readdirSync(path.join(dir, 'o')).sort(), ['new', 'sub']);
  t.same(fs.readdirSync(path.join(dir, 'o/sub')), ['new2'], 'opaque hides lower content in kept subdirs');
  t.ok(fs.statSync(path.join(dir, 'f')).isDirectory());
});

t.test('hostile layers cannot write outside the tree', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'victim'), 'safe');
  let n = 0;
  const fresh = () => {
    const r = path.join(dir, `root${n++}`);
    fs.mkdirSync(r);
    return r;
  };
  const victim = () => fs.readFileSync(path.join(outside, 'victim'), 'utf8');
  const rel = path.relative(path.join(dir, 'root0'), outside); // ../outside

  await t.rejects(unpack([{ name: `../outside/victim`, type: 'file', data: Buffer.from('pwned') }], fresh()), /points outside the layer/, '.. in a file name is refused');
  await t.rejects(unpack([{ name: `a/../../outside/x`, type: 'file' }], fresh()), /points outside the layer/, 'a/../.. is refused');

  const r1 = fresh();
  await unpack([{ name: '/abs/file', type: 'file', data: Buffer.from('in') }], r1);
  t.equal(fs.readFileSync(path.join(r1, 'abs/file'), 'utf8'), 'in', 'an absolute name is contained in the tree');

  await t.rejects(unpack([
    { name: 'evil', type: 'symlink', linkname: outside },
    { name: 'evil/victim', type: 'file', data: Buffer.from('pwned') },
  ], fresh()), /goes through the symlink "evil"/, 'writing through an absolute symlink is refused');
  await t.rejects(unpack([
    { name: 'evil', type: 'symlink', linkname: rel },
    { name: 'evil/new', type: 'file', data: Buffer.from('pwned') },
  ], fresh()), /goes through the symlink/, 'writing through a relative symlink is refused');
  await t.rejects(unpack([
    { name: 'evil', type: 'symlink', linkname: outside },
    { name: 'evil/dev', type: 'character-device', devmajor: 1, devminor: 3 },
  ], fresh()), /goes through the symlink/, 'a device through a symlink is refused');

  const r2 = fresh();
  await unpack([
    { name: 'evil', type: 'symlink', linkname: path.join(outside, 'victim') },
    { name: 'evil', type: 'file', data: Buffer.from('replaced') },
  ], r2);
  t.equal(fs.readFileSync(path.join(r2, 'evil'), 'utf8'), 'replaced', 'a file over a symlink replaces the symlink');

  await t.rejects(unpack([{ name: 'hl', type: 'link', linkname: '../outside/victim' }], fresh()), /points outside the layer/, 'hardlink to ../ is refused');
  await t.rejects(unpack([{ name: 'hl', type: 'link', linkname: path.join(outside, 'victim') }], fresh()), /refused/, 'hardlink to an absolute host path is contained (and absent there)');
  await t.rejects(unpack([
    { name: 'd', type: 'symlink', linkname: outside },
    { name: 'hl', type: 'link', linkname: 'd/victim' },
  ], fresh()), /not a directory in the tree/, 'hardlink through a symlinked dir is refused');

  const r3 = fresh();
  await unpack([{ name: 'out', type: 'symlink', linkname: '../../../../etc/passwd' }], r3);
  t.equal(fs.readlinkSync(path.join(r3, 'out')), '../../../../etc/passwd', 'a symlink pointing out is stored as is, never followed');

  const r4 = fresh();
  await unpack([{ name: 'x', type: 'symlink', linkname: outside }], r4, 'apply');
  await unpack([{ name: '.wh.x', type: 'file' }], r4, 'apply');
  t.notOk(fs.existsSync(path.join(r4, 'x')), 'whiteout removes the symlink itself');
  t.ok(fs.existsSync(outside), 'not what it points to');
  await t.rejects(unpack([{ name: 'a/.wh...', type: 'file' }], fresh(), 'apply'), /invalid whiteout/, 'whiteout of .. refused');
  t.equal(victim(), 'safe', 'nothing outside was touched');
  t.same(fs.readdirSync(outside), ['victim']);
});

t.test('corrupt and truncated tar streams fail cleanly', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const full = tarArchive([{ name: 'big', type: 'file', data: Buffer.alloc(100_000, 1) }]);
  await t.rejects(unpackLayer(Readable.from([full.subarray(0, 50_000)]), dir, 'overlay', 'layer X'), /layer X/, 'truncated');
  const garbage = Buffer.alloc(2048, 0x41);
  await t.rejects(unpackLayer(Readable.from([garbage]), dir, 'overlay', 'layer Y'), /layer Y/, 'garbage');
  t.equal(xattr(dir, 'user.none'), '');
});

function checkLinked(t: Test, root: string, how: string) {
  const at = (p: string) => path.join(root, p);
  t.equal(fs.readlinkSync(at('lib')), 'usr/lib', `${how}: /lib is still the symlink`);
  t.equal(fs.readlinkSync(at('abs')), '/usr/lib', `${how}: /abs too`);
  t.same(fs.readdirSync(at('usr/lib')).sort(), ['libbar.so', 'libc-link.so', 'libc.so', 'libfoo.so', 'sub'], `${how}: written through the symlinks, into /usr/lib`);
  t.equal(fs.readFileSync(at('usr/lib/sub/x'), 'utf8'), 'x');
  const bb = fs.lstatSync(at('bin/busybox'));
  t.equal(fs.lstatSync(at('bin/sh')).ino, bb.ino, `${how}: the hardlink to a file of the layer below shares its inode`);
  t.equal(bb.mode & 0o7777, 0o4755, `${how}: with its mode`);
  t.equal(xattrHex(at('bin/sh'), 'security.capability'), CAP.toString('hex'), `${how}: and its xattrs`);
  t.equal(fs.lstatSync(at('usr/lib/libc-link.so')).ino, fs.lstatSync(at('usr/lib/libc.so')).ino, `${how}: a hardlink target is found through a symlink too`);
}
async function overlayLayer(dir: string, entries: TarEntry[], lower: string[]) {
  fs.mkdirSync(path.join(dir, 'fs'), { recursive: true });
  const stats = await unpackLayer(Readable.from([tarArchive(entries)]), path.join(dir, 'fs'), 'overlay', 'layer test', new LayerStack(lower));
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(stats));
  return stats;
}

t.test('a later layer writes through the image\'s symlinks and hardlinks files below it (--copy form)', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  await unpack(linkBase(), dir, 'apply');
  await unpack(linkTop(), dir, 'apply');
  checkLinked(t, dir, 'applied');
});

t.test('the same in overlay form: resolved in the layers below, copied up, stacked by overlayfs', async (t) => {
  const dir = tmpdir();
  const merged = path.join(dir, 'merged');
  for (const d of [merged, path.join(dir, 'u'), path.join(dir, 'w')]) fs.mkdirSync(d);
  t.teardown(() => {
    try { execFileSync('umount', [merged], { stdio: 'ignore' }); } catch { /* not mounted */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const base = await overlayLayer(path.join(dir, 'l0'), linkBase(), []);
  t.notOk(base.chained, 'the first layer depends on nothing');
  const top = await overlayLayer(path.join(dir, 'l1'), linkTop(), [path.join(dir, 'l0')]);
  t.ok(top.chained, 'what the layer holds depends on the layers below it');
  t.notOk(fs.existsSync(path.join(dir, 'l1/fs/lib')), 'the layer does not shadow the symlink with a directory');
  t.ok(fs.existsSync(path.join(dir, 'l1/fs/usr/lib/libfoo.so')));
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${dir}/l1/fs:${dir}/l0/fs,upperdir=${dir}/u,workdir=${dir}/w`, merged]);
  checkLinked(t, merged, 'overlay');
});

t.test('symlinks of the image are followed only within it, and only to its directories', async (t) => {
  const dir = tmpdir();
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.mkdirSync(path.join(outside, 'etc'));
  const base: TarEntry[] = [
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'up', type: 'symlink', linkname: '../../../../../..' }, // climbs past the root: the root, as in the container
    { name: 'host', type: 'symlink', linkname: outside }, // a host path: not a directory of the image
    { name: 'loop', type: 'symlink', linkname: 'loop' },
  ];
  for (const mode of ['apply', 'overlay'] as const) {
    const root = path.join(dir, mode);
    let lower: LayerStack | undefined;
    if (mode === 'apply') {
      fs.mkdirSync(root);
      await unpack(base, root, 'apply');
    } else {
      await overlayLayer(path.join(dir, 'base'), base, []);
      lower = new LayerStack([path.join(dir, 'base')]);
      fs.mkdirSync(root);
    }
    const run = (e: TarEntry[]) => unpackLayer(Readable.from([tarArchive(e)]), root, mode, 'layer test', lower);
    await run([{ name: 'up/etc/motd', type: 'file', data: Buffer.from('in') }]);
    t.equal(fs.readFileSync(path.join(root, 'etc/motd'), 'utf8'), 'in', `${mode}: a symlink climbing past the root stops at it`);
    await t.rejects(run([{ name: 'host/etc/x', type: 'file' }]), /goes through the symlink "host", which does not lead to a directory in the image \(refused\)/, `${mode}: a symlink to a host path is refused`);
    await t.rejects(run([{ name: 'loop/x', type: 'file' }]), /goes through the symlink "loop"/, `${mode}: a symlink loop is refused`);
    await t.rejects(run([{ name: 'hl', type: 'link', linkname: 'host/etc' }]), /not a directory in the tree/, `${mode}: a hardlink through it too`);
  }
  t.same(fs.readdirSync(outside), ['etc'], 'nothing was written outside');
  t.same(fs.readdirSync(path.join(outside, 'etc')), []);
});
