// `skiff image pull` against Debian's docker-registry (distribution 2.8) on 127.0.0.1, images
// pushed with skopeo; auth and failures come from a loopback proxy in front of it.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import {
  addImage, addMultiPlatform, busyboxRootfs, cli, cliProc, CLI_JS, push, registryManifest, snapshot, startRegistry, tarDir, tmpdir, Registry,
} from '../fixtures/image/build';
import { startProxy } from '../fixtures/image/proxy';
import { tarArchive } from '../../src/image/tarwrite';

const rootfs = busyboxRootfs();
const base = tarDir(rootfs);
const work = tmpdir();
let reg: Registry;
let n = 0;
const newStore = () => path.join(work, `store${n++}`);
const layerDirs = (store: string) => fs.readdirSync(path.join(store, 'layers', 'sha256')).sort();
const short = (d: string) => d.slice(7, 19);

const bb = addImage(path.join(work, 'bb'), { layers: [base], refName: 'latest' });
const two = addImage(path.join(work, 'two'), {
  layers: [base, tarArchive([
    { name: 'etc/motd', type: 'file', data: Buffer.from('two\n') },
    { name: 'bin/.wh.vi', type: 'file' },
    { name: 'noise', type: 'file', data: randomBytes(64 << 10) }, // incompressible: the blob is big enough to cut
  ])],
  // The base is the very blob busybox has (gzip), so "shared" means one blob and one layer; the
  // top layer is zstd, so pulls cover zstd too.
  refName: 'latest', compression: ['gzip', 'zstd'],
});
const multiDir = path.join(work, 'multi');
const amd = addImage(multiDir, { layers: [base] }, { index: false });
const arm = addImage(multiDir, { layers: [tarArchive([{ name: 'arm', type: 'file' }])], architecture: 'arm64' }, { index: false });
addMultiPlatform(multiDir, [
  { desc: amd.manifestDesc, platform: { os: 'linux', architecture: 'amd64' } },
  { desc: arm.manifestDesc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
], 'latest');

t.before(async () => {
  reg = await startRegistry(path.join(work, 'registry'));
  push(path.join(work, 'bb'), 'latest', reg.host, 'busybox:latest');
  push(path.join(work, 'two'), 'latest', reg.host, 'lib/two:1.0');
  push(multiDir, 'latest', reg.host, 'multi:latest', true);
});
t.teardown(async () => {
  await reg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

t.test('anonymous pull: verified blobs, unpacked layers, quiet lines off a terminal', async (t) => {
  t.ok(fs.existsSync(path.join(work, 'two')));
  const store = newStore();
  const r = await cli(['pull', `${reg.host}/busybox:latest`, '--insecure', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, `${reg.host}/busybox:latest ${bb.manifest}\n`, 'same manifest digest as pushed');
  t.same(layerDirs(store), [bb.diffIDs[0].slice(7)]);
  execFileSync('diff', ['-r', '--no-dereference', rootfs, path.join(store, 'layers', 'sha256', bb.diffIDs[0].slice(7), 'fs')]);
  // What the registry serves, not what we built: skopeo may rewrite a manifest as it pushes it.
  const served = await registryManifest(reg.host, 'lib/two', '1.0');
  t.equal(served.layers[0].digest, bb.layers[0], 'premise: both images have the same base blob');
  const p = await cliProc(['pull', `${reg.host}/lib/two:1.0`, '--insecure', '--image-root', store]);
  t.equal(p.code, 0, p.err);
  t.match(p.err, new RegExp(`^exists ${short(served.layers[0].digest)} `, 'm'), 'the shared base layer is not fetched again');
  t.notMatch(p.err, new RegExp(`^fetched ${short(served.layers[0].digest)} `, 'm'), 'the shared base layer is not fetched again');
  t.match(p.err, new RegExp(`^fetched ${short(served.layers[1].digest)} `, 'm'), 'the new layer is fetched');
  t.match(p.err, new RegExp(`^unpacked ${short(two.diffIDs[1])} \\d+ entries`, 'm'), 'and unpacked');
  t.notMatch(p.err, new RegExp(`^unpacked ${short(two.diffIDs[0])} `, 'm'), 'the shared base layer is not unpacked again');
  t.equal(layerDirs(store).length, 2, 'zstd layer unpacked, base shared');
  // skopeo rewrites the manifest of a zstd image when it pushes it: ask the registry.
  const pushed = p.out.trim().split(' ')[1];
  const byDigest = await cli(['pull', `${reg.host}/lib/two@${pushed}`, '--insecure', '--image-root', store]);
  t.equal(byDigest.code, 0, 'pull by digest: ' + byDigest.err);
});

t.test('on a terminal: one progress line, redrawn, then erased', async (t) => {
  const store = newStore();
  // script(1) gives the command a real pty as its stdout and stderr.
  const cmd = `${process.execPath} ${CLI_JS} pull ${reg.host}/busybox:latest --insecure --image-root ${store}`;
  const out = execFileSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8' });
  t.match(out, new RegExp(`^\\r\\x1b\\[Kpulling ${reg.host}/busybox:latest: \\d/1 blobs, [\\d.]+/1\\.1 MB`));
  t.match(out, new RegExp(`\\r\\x1b\\[K${reg.host}/busybox:latest ${bb.manifest}\\r?\\n$`), 'erased before the result');
  t.notMatch(out, /^fetched /m, 'no log lines on a terminal');
});

t.test('multi-platform index on the registry: host platform, or --platform', async (t) => {
  const store = newStore();
  let r = await cli(['pull', `${reg.host}/multi:latest`, '--insecure', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out.trim().split(' ')[1], amd.manifest);
  r = await cli(['pull', `${reg.host}/multi:latest`, '--insecure', '--platform', 'linux/arm64', '--name', 'multi:arm', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, `multi:arm ${arm.manifest}\n`);
  const before = snapshot(store);
  r = await cli(['pull', `${reg.host}/multi:latest`, '--insecure', '--platform', 'linux/riscv64', '--name', 'multi:rv', '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, /multi:rv: no manifest for platform linux\/riscv64/);
  t.same(snapshot(store), before);
});

t.test('bearer token auth (token server + registry behind a proxy)', async (t) => {
  const proxy = await startProxy(reg.host, { kind: 'token', user: 'alice', password: 's3cret' });
  t.teardown(proxy.close);
  const store = newStore();
  let r = await cli(['pull', `${proxy.host}/busybox:latest`, '--insecure', '--creds', 'alice:s3cret', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out.trim().split(' ')[1], bb.manifest);
  t.equal(proxy.tokensIssued, 1, 'one token, reused for every request');
  const before = snapshot(store);
  r = await cli(['pull', `${proxy.host}/lib/two:1.0`, '--insecure', '--creds', 'alice:wrong', '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, new RegExp(`^skiff image pull: ${proxy.host}/lib/two:1.0: manifest: token from ${proxy.host}: registry ${proxy.host} answered 401 Unauthorized \\(UNAUTHORIZED: bad credentials\\)\\n$`));
  t.same(snapshot(store), before);
  const nc = await startProxy(reg.host, { kind: 'no-challenge' });
  t.teardown(nc.close);
  r = await cli(['pull', `${nc.host}/busybox:latest`, '--insecure', '--image-root', store]);
  t.match(r.err, /busybox:latest: manifest: registry 127\.0\.0\.1:\d+ requires authentication \(no credentials: use --creds user:password\)/);
});

t.test('registry failures: clear one-line errors naming image and blob, store unchanged', async (t) => {
  const store = newStore();
  t.equal((await cli(['pull', `${reg.host}/busybox:latest`, '--insecure', '--image-root', store])).code, 0);
  const before = snapshot(store);
  const tmp = path.join(store, 'tmp');
  const check = async (host: string, image: string, re: RegExp, msg: string) => {
    const r = await cli(['pull', `${host}/${image}`, '--insecure', '--image-root', store]);
    t.equal(r.code, 1, msg + ': exit 1');
    t.match(r.err, re, msg);
    t.equal(r.err.trim().split('\n').length, 1, msg + ': one line');
    t.same(snapshot(store), before, msg + ': store unchanged');
    t.same(fs.readdirSync(tmp).filter((x) => x !== 'partial'), [], msg + ': no staging left');
    return r;
  };
  await check(reg.host, 'nope:latest', /nope:latest: manifest: registry 127\.0\.0\.1:\d+ answered 404 Not Found \(MANIFEST_UNKNOWN: manifest unknown\)/, '404 manifest');
  const p500 = await startProxy(reg.host, { kind: 'status', status: 500, on: 'blobs' });
  t.teardown(p500.close);
  await check(p500.host, 'lib/two:1.0', new RegExp(`lib/two:1.0: blob sha256:[0-9a-f]{64}: registry ${p500.host} answered 500 Internal Server Error \\(TEST: injected 500\\)`), '500 on a blob');
  const p404 = await startProxy(reg.host, { kind: 'status', status: 404, on: 'blobs' });
  t.teardown(p404.close);
  await check(p404.host, 'lib/two:1.0', /lib\/two:1.0: blob sha256:[0-9a-f]{64}: registry 127\.0\.0\.1:\d+ answered 404 Not Found/, '404 on a blob (manifest names a missing blob)');
  const pclose = await startProxy(reg.host, { kind: 'close' });
  t.teardown(pclose.close);
  const closed = await check(pclose.host, 'lib/two:1.0', /lib\/two:1.0: blob sha256:[0-9a-f]{64}: download failed after 4 attempts \(\d+ of \d+ bytes\): connection closed by the registry$/m, 'connection closed mid-blob');
  // Several blobs may be cut at once; whichever failed first is the one reported.
  const named = /blob (sha256:[0-9a-f]{64})/.exec(closed.err)?.[1] ?? '';
  t.ok(pclose.cut.includes(named), `the error names a blob that was cut (${short(named)}; cut: ${pclose.cut.map(short).join(', ')})`);
  const partial = fs.existsSync(path.join(tmp, 'partial')) ? fs.readdirSync(path.join(tmp, 'partial')) : [];
  t.ok(partial.length > 0 && partial.every((h) => pclose.cut.includes('sha256:' + h)), 'only cut downloads are kept, for a resume');
  t.ok(pclose.ranges.some((r) => /^bytes=\d+-$/.test(r)), 'it tried to resume with Range');
  const dead = `127.0.0.1:${await (await import('../fixtures/image/build')).freePort()}`;
  await check(dead, 'busybox:latest', /busybox:latest: manifest: cannot reach 127\.0\.0\.1:\d+: connect ECONNREFUSED/, 'nothing listening');
});

t.test('a dropped download resumes with Range, in the same pull and in the next one', async (t) => {
  const flaky = await startProxy(reg.host, { kind: 'flaky' });
  t.teardown(flaky.close);
  const store = newStore();
  let r = await cli(['pull', `${flaky.host}/lib/two:1.0`, '--insecure', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.ok(flaky.ranges.length >= 2 && flaky.ranges.every((x) => /^bytes=[1-9]\d*-$/.test(x)), `resumed: ${flaky.ranges.join(', ')}`);

  const store2 = newStore();
  const cut = await startProxy(reg.host, { kind: 'close' });
  t.teardown(cut.close);
  r = await cli(['pull', `${cut.host}/busybox:latest`, '--insecure', '--image-root', store2]);
  t.equal(r.code, 1);
  t.ok(fs.existsSync(path.join(store2, 'tmp', 'partial', bb.layers[0].slice(7))), 'the partial download is kept');
  const rec = await startProxy(reg.host, { kind: 'forward' });
  t.teardown(rec.close);
  r = await cli(['pull', `${rec.host}/busybox:latest`, '--insecure', '--image-root', store2]);
  t.equal(r.code, 0, r.err);
  t.match(rec.ranges, [/^bytes=[1-9]\d*-$/], 'the next pull resumed it');
  t.notOk(fs.existsSync(path.join(store2, 'tmp', 'partial', bb.layers[0].slice(7))));
});

t.test('pull --no-unpack: blobs only; the first bundle unpacks the layers', async (t) => {
  const store = newStore();
  let r = await cli(['pull', `${reg.host}/lib/two:1.0`, '--insecure', '--no-unpack', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.same(layerDirs(store), [], 'nothing unpacked yet');
  const b = path.join(work, 'lazy-bundle');
  r = await cli(['bundle', `${reg.host}/lib/two:1.0`, b, '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.teardown(() => cli(['unbundle', b, '--image-root', store]));
  t.equal(layerDirs(store).length, 2, 'unpacked on demand');
  t.equal(fs.readFileSync(path.join(b, 'rootfs/etc/motd'), 'utf8'), 'two\n');
});

t.test('concurrent pulls of images sharing layers', async (t) => {
  const store = newStore();
  const rs = await Promise.all([
    cliProc(['pull', `${reg.host}/busybox:latest`, '--insecure', '--image-root', store]),
    cliProc(['pull', `${reg.host}/lib/two:1.0`, '--insecure', '--image-root', store]),
    cliProc(['pull', `${reg.host}/multi:latest`, '--insecure', '--image-root', store]),
  ]);
  for (const r of rs) t.equal(r.code, 0, r.err);
  t.equal(layerDirs(store).length, 2, 'the base layer once');
  const ls = await cli(['ls', '-q', '--image-root', store]);
  t.equal(ls.out.trim().split('\n').length, 3);
  const b = path.join(work, 'bundle');
  const r = await cli(['bundle', `${reg.host}/lib/two:1.0`, b, '--copy', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(fs.readFileSync(path.join(b, 'rootfs/etc/motd'), 'utf8'), 'two\n');
  t.notOk(fs.existsSync(path.join(b, 'rootfs/bin/vi')));
});
