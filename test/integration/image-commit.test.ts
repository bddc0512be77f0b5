// `skiff image commit BUNDLE NAME`: a container's changes in an overlay bundle (new files,
// deletions as whiteouts, a directory removed and made again as an opaque dir) become a layer on
// top of the bundle's image; the image runs with the change in place under Skiff, and after
// save → podman load under Podman (with Debian's runc) too.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { ociImage, privatePodman, skiff, tmpDir, uniqueId } from '../lib/harness';

const rt = skiff();
const work = tmpDir('image-commit');
const store = path.join(work, 'store');
const sk = (args: string[]) => rt.run(['image', ...args, '--image-root', store]);

const { run: podman, reset: resetPodman } = privatePodman(work);

/** Runs sh -c SCRIPT in a new overlay bundle of the image, then commits it as NAME. */
function change(image: string, script: string, name: string): string {
  const bundle = path.join(work, `bundle-${name.replace(/\W/g, '_')}`);
  t.equal(sk(['bundle', image, bundle]).code, 0);
  const cfgFile = path.join(bundle, 'config.json');
  const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
  cfg.process.args = ['sh', '-c', script];
  fs.writeFileSync(cfgFile, JSON.stringify(cfg));
  const r = rt.run(['run', '-b', bundle, uniqueId('commit')]);
  t.equal(r.code, 0, r.stderr);
  const c = sk(['commit', bundle, name]);
  t.equal(c.code, 0, c.stderr);
  t.equal(sk(['unbundle', bundle]).code, 0);
  return c.stdout;
}

t.before(() => {
  const { tar } = ociImage(work, 'base', ['--config.cmd', 'sh']);
  if (sk(['import', tar, '--name', 'localhost/base:1']).code !== 0) throw new Error('import');
});
t.teardown(() => {
  resetPodman();
  rt.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

const LOOK = 'ls /data; cat /etc/motd 2>&1; ls /etc/gone 2>&1; readlink /link; stat -c %a /data/c';
const EXPECTED = 'c\nsecond\nls: /etc/gone: No such file or directory\n/data/c\n640\n';

t.test('new files, whiteouts and an opaque dir, on top of the image; runs with Skiff and Podman', async (t) => {
  const one = change('localhost/base:1', 'mkdir /data && echo a > /data/a && echo b > /data/b && echo first > /etc/motd && echo x > /etc/gone', 'localhost/one:1');
  t.match(one, /^localhost\/one:1 sha256:[0-9a-f]{64}\n$/);
  change('localhost/one:1', 'rm -rf /data && mkdir /data && echo c > /data/c && chmod 640 /data/c && echo second > /etc/motd && rm /etc/gone && ln -s /data/c /link', 'localhost/two:1');
  const inspect = JSON.parse(sk(['inspect', 'localhost/two:1']).stdout);
  t.equal(inspect.config.rootfs.diff_ids.length, 3, 'two layers on the base');
  t.equal(inspect.manifest.layers[2].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
  // The layer as a tar: a whiteout for the deleted file, an opaque marker for the remade dir.
  const blob = path.join(store, 'blobs', 'sha256', inspect.manifest.layers[2].digest.slice(7));
  const names = spawnSync('tar', ['-tzf', blob], { encoding: 'utf8' }).stdout.split('\n');
  t.ok(names.includes('etc/.wh.gone'), 'whiteout entry');
  t.ok(names.includes('data/.wh..wh..opq'), 'opaque dir entry');

  const r = rt.run(['run', '--image', 'localhost/two:1', '--image-root', store, uniqueId('commit'), '--', 'sh', '-c', LOOK]);
  t.equal(r.stdout, EXPECTED, `skiff runs the committed image: ${r.stderr}`);

  const file = path.join(work, 'two.tar');
  t.equal(sk(['save', 'localhost/two:1', '-o', file]).code, 0);
  const l = podman(['load', '-i', file]);
  t.equal(l.code, 0, l.stderr);
  const p = podman(['run', '--rm', '--net', 'none', 'localhost/two:1', 'sh', '-c', LOOK]);
  t.equal(p.stdout, EXPECTED, `podman runs it with the change in place: ${p.stderr}`);
});

t.test('refusals: not a bundle, a --copy bundle', async (t) => {
  let r = sk(['commit', work, 'localhost/x:1']);
  t.equal(r.code, 1);
  t.match(r.stderr, /not a bundle made by skiff image bundle/);
  const copy = path.join(work, 'copy-bundle');
  t.equal(sk(['bundle', '--copy', 'localhost/base:1', copy]).code, 0);
  r = sk(['commit', copy, 'localhost/x:1']);
  t.match(r.stderr, /a --copy bundle has no upper layer to commit/);
  t.equal(sk(['ls', '-q']).stdout.includes('localhost/x:1'), false, 'no image made');
});
