// `skiff image bundle`: overlayfs and --copy bundles from a layered busybox image, config.json
// converted from the image config, and the proof that the result is a plain OCI bundle: runc runs it.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { addImage, busyboxRootfs, cli, tarDir, tmpdir } from '../fixtures/image/build';
import { tarArchive } from '../../src/image/tarwrite';

const rootfs = busyboxRootfs();
const work = tmpdir();
const store = path.join(work, 'store');
const runcRoot = path.join(work, 'runc');
const bundles: string[] = [];
t.teardown(async () => {
  for (const b of bundles) if (fs.existsSync(b)) await cli(['unbundle', b, '--image-root', store]);
  fs.rmSync(work, { recursive: true, force: true });
});

const layout = path.join(work, 'layout');
const built = addImage(layout, {
  layers: [
    tarDir(rootfs),
    tarArchive([
      { name: 'etc/motd', type: 'file', mode: 0o644, data: Buffer.from('welcome\n') },
      { name: 'bin/.wh.vi', type: 'file' },
      { name: 'home/.wh..wh..opq', type: 'file' },
      { name: 'home/user/', type: 'directory', mode: 0o755, uid: 1000, gid: 1000 },
      { name: 'etc/group', type: 'file', mode: 0o644, data: Buffer.from('root:x:0:\nnogroup:x:65534:\nuser:x:1000:\nstaff:x:50:user\n') },
    ]),
  ],
  refName: 'latest',
  config: {
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: ['echo hi; id -u; id -g; id -G; pwd; echo $FOO; cat /etc/motd; test ! -e /bin/vi && echo no-vi'],
    Env: ['FOO=bar'],
    WorkingDir: '/home/user',
    User: 'user',
    Labels: { 'org.example.team': 'skiff' },
    StopSignal: 'SIGQUIT',
    Volumes: { '/data': {} },
    ExposedPorts: { '80/tcp': {} },
  },
});

function runc(bundle: string, id: string) {
  const r = spawnSync('runc', ['--root', runcRoot, 'run', '-b', bundle, id], { encoding: 'utf8', timeout: 60_000 });
  spawnSync('runc', ['--root', runcRoot, 'delete', '-f', id]);
  return r;
}

t.before(async () => {
  const r = await cli(['import', layout, '--name', 'bb', '--image-root', store]);
  if (r.code !== 0) throw new Error(r.err);
});

const EXPECTED = 'hi\n1000\n1000\n1000 50\n/home/user\nbar\nwelcome\nno-vi\n';

t.test('config.json follows the image-spec conversion rules', async (t) => {
  const b = path.join(work, 'cfg');
  bundles.push(b);
  const r = await cli(['bundle', 'bb', b, '--image-root', store]);
  t.equal(r.code, 0, r.err);
  const c = JSON.parse(fs.readFileSync(path.join(b, 'config.json'), 'utf8'));
  t.same(c.process.args, ['/bin/sh', '-c', 'echo hi; id -u; id -g; id -G; pwd; echo $FOO; cat /etc/motd; test ! -e /bin/vi && echo no-vi']);
  t.same(c.process.env, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar']);
  t.equal(c.process.cwd, '/home/user');
  t.same(c.process.user, { uid: 1000, gid: 1000, additionalGids: [50] }, 'User resolved through the image /etc/passwd and /etc/group');
  t.equal(c.process.terminal, false);
  t.same(c.root, { path: 'rootfs', readonly: false });
  t.equal(c.annotations['org.example.team'], 'skiff', 'labels become annotations');
  t.equal(c.annotations['org.opencontainers.image.stopSignal'], 'SIGQUIT');
  t.equal(c.annotations['org.opencontainers.image.exposedPorts'], '80/tcp');
  t.equal(c.annotations['org.opencontainers.image.architecture'], 'amd64');
  const vol = c.mounts.find((m: { destination: string }) => m.destination === '/data');
  t.match(vol, { type: 'bind', options: ['rbind', 'rw'] }, 'volumes become mounts');
  t.ok(fs.statSync(vol.source).isDirectory());
  t.ok(c.linux.namespaces.length > 0, 'the rest is the default spec');
});

t.test('overlay bundle: layers shared read-only, writes go to the per-bundle upper dir; runc runs it', async (t) => {
  const b1 = path.join(work, 'b1');
  const b2 = path.join(work, 'b2');
  bundles.push(b1, b2);
  let r = await cli(['bundle', 'bb', b1, '--overlay', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, `${b1} overlay bb:latest\n`);
  r = await cli(['bundle', 'bb', b2, '--image-root', store]);
  t.equal(r.code, 0, r.err);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  t.ok(mounts.includes(`${b1}/rootfs `) && mounts.includes(`${b2}/rootfs `), 'both rootfs are overlay mounts');
  t.same(fs.readdirSync(path.join(b1, 'rootfs', 'home')), ['user'], 'opaque /home hides the lower layer');

  const run = runc(b1, `skiff-image-test-${process.pid}-1`);
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, EXPECTED);

  const c = JSON.parse(fs.readFileSync(path.join(b1, 'config.json'), 'utf8'));
  c.process.args = ['/bin/sh', '-c', 'echo changed > /etc/motd; exit 3'];
  c.process.user = { uid: 0, gid: 0 };
  fs.writeFileSync(path.join(b1, 'config.json'), JSON.stringify(c));
  const run2 = runc(b1, `skiff-image-test-${process.pid}-2`);
  t.equal(run2.status, 3, 'the exit code comes through');
  t.equal(fs.readFileSync(path.join(b1, 'rootfs/etc/motd'), 'utf8'), 'changed\n');
  t.equal(fs.readFileSync(path.join(b2, 'rootfs/etc/motd'), 'utf8'), 'welcome\n', 'the other bundle does not see it');
  t.equal(fs.readFileSync(path.join(b1, '.skiff-image/upper/etc/motd'), 'utf8'), 'changed\n', 'the write landed in b1\'s upper dir');
  const layerMotd = path.join(store, 'layers', 'sha256', built.diffIDs[1].slice(7), 'fs', 'etc', 'motd');
  t.equal(fs.readFileSync(layerMotd, 'utf8'), 'welcome\n', 'the shared layer is untouched');

  // prune keeps layers that a live bundle uses, even once the image name is gone
  t.equal((await cli(['rm', 'bb', '--image-root', store])).code, 0);
  r = await cli(['prune', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.ok(fs.existsSync(layerMotd), 'layers used by bundles survive prune');
  t.equal(fs.readFileSync(path.join(b2, 'rootfs/etc/motd'), 'utf8'), 'welcome\n');
  r = await cli(['import', layout, '--name', 'bb', '--image-root', store]);
  t.equal(r.code, 0, r.err);

  r = await cli(['unbundle', b1, '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.notOk(fs.existsSync(b1), 'unbundle unmounts and removes');
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(`${b1}/rootfs `));
});

t.test('--copy bundle: a flattened rootfs that runc runs', async (t) => {
  const b = path.join(work, 'copy');
  bundles.push(b);
  const r = await cli(['bundle', 'bb', b, '--copy', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, `${b} copy bb:latest\n`);
  t.notOk(fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(`${b}/rootfs `), 'not a mount');
  t.notOk(fs.existsSync(path.join(b, 'rootfs/bin/vi')), 'whiteout applied');
  t.ok(fs.lstatSync(path.join(b, 'rootfs/bin/sh')).isSymbolicLink());
  t.same(fs.readdirSync(path.join(b, 'rootfs/home')), ['user']);
  t.equal(fs.statSync(path.join(b, 'rootfs/home/user')).uid, 1000);
  const run = runc(b, `skiff-image-test-${process.pid}-3`);
  t.equal(run.status, 0, run.stderr);
  t.equal(run.stdout, EXPECTED);
});

t.test('bundle errors', async (t) => {
  const b = path.join(work, 'nonempty');
  fs.mkdirSync(b);
  fs.writeFileSync(path.join(b, 'x'), '');
  let r = await cli(['bundle', 'bb', b, '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, /bundle .*nonempty: the directory exists and is not empty/);
  r = await cli(['unbundle', b, '--image-root', store]);
  t.match(r.err, /not a bundle made by skiff image bundle/);
  t.ok(fs.existsSync(path.join(b, 'x')), 'left alone');
});
