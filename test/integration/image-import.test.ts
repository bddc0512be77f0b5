// `skiff image import` on real layouts and archives (ours, and skopeo's docker-archive), with
// every compression, multi-platform indexes, shared layers, concurrent imports and bad inputs.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync, spawn } from 'child_process';
import {
  addImage, addMultiPlatform, busyboxRootfs, cli, cliProc, CLI_JS, rewriteImage, sha, snapshot, tarDir, tarLayout, tmpdir,
} from '../fixtures/image/build';
import { tarArchive } from '../../src/image/tarwrite';

const rootfs = busyboxRootfs();
const base = tarDir(rootfs);
const top = tarArchive([
  { name: 'etc/motd', type: 'file', data: Buffer.from('welcome\n') },
  { name: 'bin/.wh.vi', type: 'file' },
]);
const work = tmpdir();
t.teardown(() => fs.rmSync(work, { recursive: true, force: true }));
let n = 0;
const newStore = () => path.join(work, `store${n++}`);
const layoutOf = (spec: Parameters<typeof addImage>[1]) => {
  const dir = path.join(work, `layout${n++}`);
  return { dir, built: addImage(dir, spec) };
};
const layerDirs = (store: string) => fs.readdirSync(path.join(store, 'layers', 'sha256')).sort();

t.test('OCI layout dir, gzip layers: layers unpacked once, identical to the source tree', async (t) => {
  const store = newStore();
  const { dir, built } = layoutOf({ layers: [base, top], refName: 'latest' });
  const r = await cli(['import', dir, '--name', 'busybox', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out, `busybox:latest ${built.manifest}\n`);
  t.same(layerDirs(store), built.diffIDs.map((d) => d.slice(7)).sort());
  const l0 = path.join(store, 'layers', 'sha256', built.diffIDs[0].slice(7), 'fs');
  execFileSync('diff', ['-r', '--no-dereference', rootfs, l0]);
  const l1 = path.join(store, 'layers', 'sha256', built.diffIDs[1].slice(7), 'fs');
  t.ok(fs.lstatSync(path.join(l1, 'bin/vi')).isCharacterDevice(), 'whiteout stored in overlay form');
  for (const d of [built.manifest, built.config, ...built.layers]) t.ok(fs.existsSync(path.join(store, 'blobs', 'sha256', d.slice(7))), `blob ${d.slice(7, 19)}`);
  const ls = await cli(['ls', '--image-root', store]);
  t.match(ls.out, /^NAME\s+DIGEST\s+PLATFORM\s+CREATED\s+SIZE\s+UNPACKED\s+SHARED\n/);
  t.match(ls.out, new RegExp(`busybox:latest\\s+${built.manifest.slice(7, 19)}\\s+linux/amd64`));
  const insp = JSON.parse((await cli(['inspect', 'busybox', '--image-root', store])).out);
  t.equal(insp.digest, built.manifest);
  t.equal(insp.usage.layers.length, 2);
  t.ok(insp.usage.unpacked > 1_000_000, 'disk usage of the unpacked layers');
  const again = await cli(['import', dir, '--name', 'busybox', '--image-root', store]);
  t.equal(again.code, 0, 're-import is a no-op');
});

t.test('oci-archive, docker-archive (skopeo), zstd and plain tar layers share layers by diffID', async (t) => {
  const store = newStore();
  const gz = layoutOf({ layers: [base, top], refName: 'latest', compression: 'gzip' });
  const zst = layoutOf({ layers: [base, top], refName: 'latest', compression: 'zstd', config: { Cmd: ['/bin/echo', 'zstd'] } });
  const raw = layoutOf({ layers: [base], refName: 'latest', compression: 'none', config: { Cmd: ['/bin/echo', 'raw'] } });
  const ociTar = path.join(work, 'oci.tar');
  tarLayout(gz.dir, ociTar);
  const dockerTar = path.join(work, 'docker.tar');
  execFileSync('skopeo', ['copy', '-q', `oci:${gz.dir}:latest`, `docker-archive:${dockerTar}:example.com/zbox:1.0`]);
  const gzTar = path.join(work, 'oci.tar.gz');
  execFileSync('sh', ['-c', `gzip -1 -c ${ociTar} > ${gzTar}`]);

  let r = await cli(['import', ociTar, '--name', 'gz:1', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.equal(r.out.trim(), `gz:1 ${gz.built.manifest}`, 'oci-archive keeps the manifest digest');
  r = await cli(['import', gzTar, '--name', 'gz:2', '--image-root', store]);
  t.equal(r.code, 0, 'gzip-compressed oci-archive: ' + r.err);
  r = await cli(['import', dockerTar, '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^example\.com\/zbox:1\.0 sha256:/, 'docker-archive named from RepoTags');
  r = await cli(['import', zst.dir, '--name', 'zst', '--image-root', store]);
  t.equal(r.code, 0, 'zstd layers: ' + r.err);
  r = await cli(['import', raw.dir, '--name', 'raw', '--image-root', store]);
  t.equal(r.code, 0, 'uncompressed layers: ' + r.err);
  t.same(layerDirs(store), gz.built.diffIDs.map((d) => d.slice(7)).sort(), 'five images, two layers on disk');
  const ls = (await cli(['ls', '-q', '--image-root', store])).out.trim().split('\n');
  t.same(ls.sort(), ['example.com/zbox:1.0', 'gz:1', 'gz:2', 'raw:latest', 'zst:latest']);
  const usage = JSON.parse((await cli(['ls', '--json', '--image-root', store])).out);
  t.ok(usage.find((u: { name: string }) => u.name === 'raw:latest').layers[0].sharedWith >= 4, 'the base layer is shared');
});

t.test('multi-platform index: host platform by default, --platform to choose', async (t) => {
  const store = newStore();
  const dir = path.join(work, 'multi');
  const amd = addImage(dir, { layers: [base], config: { Cmd: ['amd'] } }, { index: false });
  const arm = addImage(dir, { layers: [top], architecture: 'arm64', config: { Cmd: ['arm'] } }, { index: false });
  addMultiPlatform(dir, [
    { desc: amd.manifestDesc, platform: { os: 'linux', architecture: 'amd64' } },
    { desc: arm.manifestDesc, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
  ], 'latest');
  let r = await cli(['import', dir, '--name', 'multi:host', '--image-root', store]);
  t.equal(r.out.trim(), `multi:host ${amd.manifest}`, 'host (amd64) manifest chosen');
  r = await cli(['import', dir, '--name', 'multi:arm', '--platform', 'linux/arm64', '--image-root', store]);
  t.equal(r.out.trim(), `multi:arm ${arm.manifest}`, '--platform linux/arm64');
  const before = snapshot(store);
  r = await cli(['import', dir, '--name', 'multi:s390x', '--platform', 'linux/s390x', '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, /^skiff image import: .*multi:s390x.*no manifest for platform linux\/s390x \(the index has: linux\/amd64, linux\/arm64\/v8\)/);
  const armOnly = layoutOf({ layers: [top], architecture: 'arm64', refName: 'latest' });
  r = await cli(['import', armOnly.dir, '--name', 'armonly', '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, /armonly:latest: the image is for linux\/arm64, not linux\/amd64 \(this host\); use --platform/);
  t.same(snapshot(store), before, 'store unchanged by the refused imports');
});

t.test('bad input: clear errors naming image and blob, store left as it was', async (t) => {
  const store = newStore();
  const good = layoutOf({ layers: [base], refName: 'latest' });
  t.equal((await cli(['import', good.dir, '--name', 'good', '--image-root', store])).code, 0);
  const before = snapshot(store);
  const check = async (args: string[], re: RegExp, msg: string) => {
    const r = await cli([...args, '--image-root', store]);
    t.equal(r.code, 1, msg + ' exits 1');
    t.match(r.err, re, msg);
    t.equal(r.err.trim().split('\n').length, 1, msg + ': one line');
    t.same(snapshot(store), before, msg + ': store unchanged');
    t.same(fs.readdirSync(path.join(store, 'tmp')), [], msg + ': no staging left');
  };

  const bad = layoutOf({ layers: [base, top], refName: 'latest' });
  const blob = path.join(bad.dir, 'blobs', 'sha256', bad.built.layers[1].slice(7));
  const orig = fs.readFileSync(blob);
  const flipped = Buffer.from(orig);
  flipped[flipped.length - 5] ^= 0xff;
  fs.writeFileSync(blob, flipped);
  await check(['import', bad.dir, '--name', 'bad'], new RegExp(`bad:latest: blob ${bad.built.layers[1]} does not match its digest`), 'digest mismatch');
  fs.writeFileSync(blob, orig.subarray(0, orig.length - 100));
  await check(['import', bad.dir, '--name', 'bad'], new RegExp(`bad:latest: blob ${bad.built.layers[1]} does not match its digest .*truncated`), 'truncated blob');
  fs.rmSync(blob);
  await check(['import', bad.dir, '--name', 'bad'], new RegExp(`bad:latest: blob ${bad.built.layers[1]} is missing from layout`), 'missing blob');

  const tarFile = path.join(work, 'trunc.tar');
  tarLayout(good.dir, tarFile);
  fs.truncateSync(tarFile, Math.floor(fs.statSync(tarFile).size / 2));
  await check(['import', tarFile, '--name', 'trunc'], /archive .*trunc\.tar: the archive is truncated or corrupt/, 'truncated archive');

  const odd = layoutOf({ layers: [base], refName: 'latest', layerMediaType: 'application/vnd.example.layer.v1.tar+lz4' });
  await check(['import', odd.dir, '--name', 'odd'], /odd:latest: layer sha256:[0-9a-f]{64}: unknown layer media type "application\/vnd\.example\.layer\.v1\.tar\+lz4"/, 'unknown media type');

  const wrongDiff = layoutOf({ layers: [base], refName: 'latest' });
  rewriteImage(wrongDiff.dir, wrongDiff.built, (cfg) => {
    cfg.rootfs.diff_ids = [sha(Buffer.from('not this'))];
  });
  await check(['import', wrongDiff.dir, '--name', 'wd'], /wd:latest: layer sha256:[0-9a-f]{64}: uncompressed content does not match the diffID/, 'diffID mismatch');

  const hostile = layoutOf({ layers: [tarArchive([{ name: '../escape', type: 'file', data: Buffer.from('x') }])], refName: 'latest' });
  await check(['import', hostile.dir, '--name', 'hostile'], /hostile:latest: layer sha256:[0-9a-f]{64}: entry "\.\.\/escape" points outside the layer \(refused\)/, 'hostile layer');
  t.notOk(fs.existsSync(path.join(store, '..', 'escape')));

  await check(['import', path.join(work, 'nope'), '--name', 'x'], /import .*nope: no such file or directory/, 'missing input');
  const many = path.join(work, 'many');
  addImage(many, { layers: [base], refName: 'a' });
  addImage(many, { layers: [top], refName: 'b' });
  await check(['import', many], /holds several images \(a, b\); choose one with --tag/, 'ambiguous layout');
  const tagged = await cli(['import', many, '--tag', 'b', '--name', 'bee', '--image-root', store]);
  t.equal(tagged.code, 0, '--tag picks one: ' + tagged.err);
});

t.test('every layer blob is checked against its diffID, even when that layer is already stored', async (t) => {
  const store = newStore();
  const good = layoutOf({ layers: [base, top], refName: 'latest' });
  t.equal((await cli(['import', good.dir, '--name', 'good', '--image-root', store])).code, 0);
  const before = snapshot(store);
  const refused = async (dir: string, name: string, re: RegExp, msg: string, extra: string[] = []) => {
    const r = await cli(['import', dir, '--name', name, ...extra, '--image-root', store]);
    t.equal(r.code, 1, msg + ': exit 1');
    t.match(r.err, re, msg);
    t.equal(r.err.trim().split('\n').length, 1, msg + ': one line');
    t.same(snapshot(store), before, msg + ': nothing published');
    t.same(fs.readdirSync(path.join(store, 'tmp')), [], msg + ': no staging left');
  };
  const other = tarArchive([{ name: 'etc/motd', type: 'file', data: Buffer.from('not welcome\n') }]);
  // A second copy of the top layer (zstd this time) that claims its diffID but holds something else.
  const forged = layoutOf({ layers: [base, other], refName: 'latest', compression: ['gzip', 'zstd'] });
  const f = rewriteImage(forged.dir, forged.built, (cfg) => {
    cfg.rootfs.diff_ids[1] = good.built.diffIDs[1];
  });
  const mismatch = new RegExp(`forged:latest: layer ${good.built.diffIDs[1]}: uncompressed content does not match the diffID \\(blob ${f.layers[1]} holds ${sha(other)}\\)`);
  await refused(forged.dir, 'forged', mismatch, 'a forged copy of a stored layer');
  await refused(forged.dir, 'forged', mismatch, 'the same with --no-unpack', ['--no-unpack']);
  // The same blob listed twice in one image would be unpacked once: the other copy is checked too.
  const twice = layoutOf({ layers: [top, other], refName: 'latest', compression: ['gzip', 'zstd'] });
  const tw = rewriteImage(twice.dir, twice.built, (cfg) => {
    cfg.rootfs.diff_ids[1] = cfg.rootfs.diff_ids[0];
  });
  const fresh = newStore();
  const r = await cli(['import', twice.dir, '--name', 'twice', '--image-root', fresh]);
  t.equal(r.code, 1, 'a forged second copy of a layer in the same image');
  t.match(r.err, new RegExp(`twice:latest: layer ${tw.diffIDs[0]}: uncompressed content does not match the diffID \\(blob ${tw.layers[1]} `));
  t.same(fs.readdirSync(path.join(fresh, 'blobs', 'sha256')), [], 'no blob published');
  t.same(fs.readdirSync(path.join(fresh, 'layers', 'sha256')), [], 'no layer published');
  t.same(fs.readdirSync(path.join(fresh, 'refs')), [], 'no name published');
  // A blob the store has seen to hold one layer is refused as another, without reading it again.
  const relabeled = layoutOf({ layers: [base], refName: 'latest' });
  rewriteImage(relabeled.dir, relabeled.built, (cfg) => {
    cfg.rootfs.diff_ids[0] = good.built.diffIDs[1];
  });
  await refused(relabeled.dir, 'relabeled', new RegExp(`relabeled:latest: layer ${good.built.diffIDs[1]}: uncompressed content does not match the diffID \\(blob ${good.built.layers[0]} holds ${good.built.diffIDs[0]}\\)`), 'a stored blob claimed for another layer');
});

t.test('trees thousands of levels deep: unpacked, or refused cleanly past PATH_MAX; removed at any depth', async (t) => {
  const store = newStore();
  const deep = (levels: number) => tarArchive([{ name: 'd/'.repeat(levels) + 'f', type: 'file', data: Buffer.from('deep\n') }]);
  // Makes a tree deeper than any path can name, as a container can (one relative mkdir at a time;
  // not with a shell, whose cd slows down past PATH_MAX).
  const dig = (dir: string, levels: number) => execFileSync(process.execPath, ['-e', `const fs = require('fs');
    process.chdir(process.argv[1]);
    for (let i = 0; i < ${levels}; i++) { fs.mkdirSync('x'); process.chdir('x'); }
    fs.writeFileSync('f', 'bottom\\n');`, dir]);
  const tooDeep = layoutOf({ layers: [deep(2000)], refName: 'latest' });
  let r = await cli(['import', tooDeep.dir, '--name', 'toodeep', '--image-root', store]);
  t.equal(r.code, 1, '2000 levels: refused');
  t.match(r.err, /^skiff image import: toodeep:latest: layer sha256:[0-9a-f]{64}: entry "d\/d\/.*\/f" is too deep to unpack here \(its path would be \d+ bytes, over the limit of 4095\) \(refused\)\n$/);
  t.same(fs.readdirSync(path.join(store, 'tmp')), [], 'no staging left');
  t.same(fs.readdirSync(path.join(store, 'refs')), [], 'no name');
  r = await cli(['prune', '--image-root', store]);
  t.equal(r.code, 0, 'prune works after it: ' + r.err);

  const deepest = layoutOf({ layers: [deep(1900)], refName: 'latest' });
  r = await cli(['import', deepest.dir, '--name', 'deep', '--image-root', store]);
  t.equal(r.code, 0, '1900 levels: imported: ' + r.err);
  const b = path.join(work, 'deep-bundle');
  r = await cli(['bundle', 'deep', b, '--copy', '--image-root', store]);
  t.equal(r.code, 0, 'a --copy bundle of it: ' + r.err);
  t.equal(fs.readFileSync(path.join(b, 'rootfs', 'd/'.repeat(1900) + 'f'), 'utf8'), 'deep\n');
  dig(path.join(b, 'rootfs'), 2500);
  r = await cli(['unbundle', b, '--image-root', store]);
  t.equal(r.code, 0, 'unbundle removes a tree deeper than PATH_MAX: ' + r.err);
  t.notOk(fs.existsSync(b));

  const leftover = path.join(store, 'tmp', 'ingest-999999-dead');
  fs.mkdirSync(leftover);
  dig(leftover, 2500);
  t.equal((await cli(['rm', 'deep', '--image-root', store])).code, 0);
  r = await cli(['prune', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^removed 3 blobs, 1 layers, 1 leftovers; freed /, 'prune removes the deep layer and a dead staging dir deeper than PATH_MAX');
  t.same(fs.readdirSync(path.join(store, 'tmp')), []);
  t.same(layerDirs(store), []);
});

t.test('concurrent imports of images sharing layers (separate processes)', async (t) => {
  const store = newStore();
  const imgs = [0, 1, 2, 3].map((i) => layoutOf({ layers: [base, tarArchive([{ name: `img${i}`, type: 'file', data: Buffer.alloc(1000, i) }])], refName: 'latest' }));
  const results = await Promise.all(imgs.map((img, i) => cliProc(['import', img.dir, '--name', `c${i}`, '--image-root', store])));
  for (const r of results) t.equal(r.code, 0, r.err);
  t.equal(layerDirs(store).length, 5, 'one shared base layer + four own layers');
  t.same(fs.readdirSync(path.join(store, 'tmp')).filter((x) => !x.startsWith('.')), [], 'losers of a race cleaned up');
  const r = await cli(['ls', '-q', '--image-root', store]);
  t.same(r.out.trim().split('\n'), ['c0:latest', 'c1:latest', 'c2:latest', 'c3:latest']);
});

t.test('a crash (SIGKILL) in the middle of an import leaves nothing visible; prune sweeps it', async (t) => {
  const store = newStore();
  const small = layoutOf({ layers: [top], refName: 'latest' });
  t.equal((await cli(['import', small.dir, '--name', 'small', '--image-root', store])).code, 0);
  const before = snapshot(store);
  const many = tarArchive(Array.from({ length: 20000 }, (_, i) => ({ name: `d${i % 100}/f${i}`, type: 'file' as const, data: Buffer.alloc(2048, i) })));
  const big = layoutOf({ layers: [base, many], refName: 'latest', compression: 'gzip' });
  const child = spawn(process.execPath, [CLI_JS, 'import', big.dir, '--name', 'big', '--image-root', store], { stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', r));
  // Wait until it is unpacking (a layer dir is being written in staging), then kill it.
  const tmp = path.join(store, 'tmp');
  let seen = false;
  for (let i = 0; i < 400 && !seen; i++) {
    await new Promise((r) => setTimeout(r, 10));
    seen = fs.readdirSync(tmp).some((d) => d.startsWith('ingest-') && fs.readdirSync(path.join(tmp, d)).some((x) => x.startsWith('layer-')));
  }
  t.ok(seen, 'caught it while unpacking');
  child.kill('SIGKILL');
  await exited;
  t.same(snapshot(store), before, 'no blob, layer or name from the killed import is visible');
  t.same((await cli(['ls', '-q', '--image-root', store])).out, 'small:latest\n');
  const pr = await cli(['prune', '--image-root', store]);
  t.match(pr.out, /removed 0 blobs, 0 layers, [1-9]\d* leftovers/, 'prune sweeps the dead staging dir');
  t.same(fs.readdirSync(tmp).filter((x) => !x.startsWith('.')), []);
  const again = await cli(['import', big.dir, '--name', 'big', '--image-root', store]);
  t.equal(again.code, 0, 'the same import then succeeds: ' + again.err);
});

t.test('rm and prune free what no name uses; prune waits for writers', async (t) => {
  const store = newStore();
  const a = layoutOf({ layers: [base], refName: 'latest' });
  const b = layoutOf({ layers: [base, top], refName: 'latest' });
  await cli(['import', a.dir, '--name', 'a', '--image-root', store]);
  await cli(['import', b.dir, '--name', 'b', '--image-root', store]);
  fs.mkdirSync(path.join(store, 'tmp', 'ingest-999999-dead'));
  let r = await cli(['rm', 'b', '--image-root', store]);
  t.equal(r.out, 'removed b:latest\n');
  r = await cli(['prune', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /^removed 3 blobs, 1 layers, 1 leftovers; freed /);
  t.same(layerDirs(store), [a.built.diffIDs[0].slice(7)], 'the base layer stays for a');
  r = await cli(['rm', 'nope', '--image-root', store]);
  t.match(r.err, /^skiff image rm: image nope: no such image/);
  r = await cli(['bundle', 'gone', path.join(work, 'x'), '--image-root', store]);
  t.match(r.err, /image gone: no such image/);
});
