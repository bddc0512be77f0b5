// Layers that write through the image's own symlinks and hardlink files of the layers below them:
// Skiff's --copy and overlay bundles against what `umoci unpack` makes of the same image, and the
// store keeping such a layer apart for each stack of layers below it.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { addImage, cli, describeTree, linkBase, linkTop, sha, snapshot, tmpdir } from '../fixtures/image/build';
import { tarArchive } from '../../src/image/tarwrite';
import { chainIDs } from '../../src/image/store';

const work = tmpdir();
const bundles: { dir: string; store: string }[] = [];
let n = 0;
t.teardown(async () => {
  for (const b of bundles) if (fs.existsSync(b.dir)) await cli(['unbundle', b.dir, '--image-root', b.store]);
  fs.rmSync(work, { recursive: true, force: true });
});

const layerDirs = (store: string) => fs.readdirSync(path.join(store, 'layers', 'sha256')).sort();
const layout = (layers: Buffer[]) => {
  const dir = path.join(work, `layout${n++}`);
  return { dir, built: addImage(dir, { layers, refName: 'latest' }) };
};
function umociTree(dir: string): string[] {
  const out = path.join(work, `umoci${n++}`);
  execFileSync('umoci', ['unpack', '--image', `${dir}:latest`, out], { stdio: ['ignore', 'ignore', 'inherit'] });
  return describeTree(path.join(out, 'rootfs'));
}
async function bundleTree(t: Test, store: string, name: string, mode: '--copy' | '--overlay'): Promise<string[]> {
  const b = path.join(work, `bundle${n++}`);
  bundles.push({ dir: b, store });
  const r = await cli(['bundle', name, b, mode, '--image-root', store]);
  t.equal(r.code, 0, `${name} ${mode}: ${r.err}`);
  return describeTree(path.join(b, 'rootfs'));
}

t.test('writes through symlinks and hardlinks to lower files: --copy and overlay bundles match umoci', async (t) => {
  const store = path.join(work, 'store');
  const img = layout([tarArchive(linkBase()), tarArchive(linkTop())]);
  const r = await cli(['import', img.dir, '--name', 'links', '--image-root', store]);
  t.equal(r.code, 0, r.err);
  const chain = chainIDs(img.built.diffIDs);
  t.same(layerDirs(store), [img.built.diffIDs[0], chain[1]].map((d) => d.slice(7)).sort(),
    'the upper layer, which depends on the one below it, is kept under its chainID');
  const want = umociTree(img.dir);
  t.ok(want.some((l) => /^usr\/lib\/libfoo\.so file/.test(l)) && want.some((l) => /^lib symlink/.test(l)), 'premise: umoci writes through /lib');
  t.same(await bundleTree(t, store, 'links', '--copy'), want, '--copy: the same tree as umoci');
  t.same(await bundleTree(t, store, 'links', '--overlay'), want, 'overlay: the same tree as umoci');
});

t.test('a layer shared by diffID is unpacked again over lower layers it does not fit', async (t) => {
  const store = path.join(work, 'store2');
  // Without directory entries of its own: where lib/only.so lands depends on what lib is below.
  const only = tarArchive([{ name: 'lib/only.so', type: 'file', data: Buffer.from('only') }]);
  const realLib = tarArchive([
    { name: 'lib/', type: 'directory', mode: 0o755 },
    { name: 'usr/', type: 'directory', mode: 0o755 },
    { name: 'usr/lib/', type: 'directory', mode: 0o755 },
  ]);
  const a = layout([realLib, only]);
  const b = layout([tarArchive(linkBase()), only]);
  for (const [name, img] of [['a', a], ['b', b]] as const) {
    const r = await cli(['import', img.dir, '--name', name, '--image-root', store]);
    t.equal(r.code, 0, r.err);
  }
  const onlyID = sha(only);
  t.ok(layerDirs(store).includes(onlyID.slice(7)), 'over a real /lib: kept under its diffID');
  t.ok(layerDirs(store).includes(chainIDs(b.built.diffIDs)[1].slice(7)), 'over the symlink: unpacked again, under its chainID');
  for (const [name, img] of [['a', a], ['b', b]] as const) {
    const want = umociTree(img.dir);
    t.same(await bundleTree(t, store, name, '--overlay'), want, `${name} overlay: the same tree as umoci`);
    t.same(await bundleTree(t, store, name, '--copy'), want, `${name} --copy: the same tree as umoci`);
  }
  // prune keeps what a name still reaches, whichever key it has, and frees the rest.
  t.equal((await cli(['rm', 'a', '--image-root', store])).code, 0);
  for (const bd of bundles.splice(0)) t.equal((await cli(['unbundle', bd.dir, '--image-root', bd.store])).code, 0);
  t.equal((await cli(['prune', '--image-root', store])).code, 0);
  t.same(layerDirs(store), [b.built.diffIDs[0], chainIDs(b.built.diffIDs)[1]].map((d) => d.slice(7)).sort());
  t.same(await bundleTree(t, store, 'b', '--overlay'), umociTree(b.dir), 'b still bundles after the prune');
});

t.test('a layer writing through a symlink that leads out of the image: one line, nothing left', async (t) => {
  const store = path.join(work, 'store3');
  const good = layout([tarArchive(linkBase())]);
  t.equal((await cli(['import', good.dir, '--name', 'good', '--image-root', store])).code, 0);
  const before = snapshot(store);
  const outside = path.join(work, 'outside');
  fs.mkdirSync(outside);
  const evil = layout([
    tarArchive([...linkBase(), { name: 'host', type: 'symlink', linkname: outside }]),
    tarArchive([{ name: 'host/pwned', type: 'file', data: Buffer.from('x') }]),
  ]);
  const r = await cli(['import', evil.dir, '--name', 'evil', '--image-root', store]);
  t.equal(r.code, 1);
  t.match(r.err, /^skiff image import: evil:latest: layer sha256:[0-9a-f]{64}: entry "host\/pwned" goes through the symlink "host", which does not lead to a directory in the image \(refused\)\n$/);
  t.same(snapshot(store), before, 'store unchanged');
  t.same(fs.readdirSync(path.join(store, 'tmp')), [], 'no staging left');
  t.same(fs.readdirSync(outside), [], 'nothing written outside');
});
