// The last step of the image store: a bundle it makes runs under `skiff run` (runc runs the
// same bundles in image-bundle.test.ts), driven through the main CLI.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { ociImage, skiff, tmpDir, uniqueId } from '../lib/harness';

const rt = skiff();
const work = tmpDir('image-run');
t.teardown(() => {
  rt.run(['image', 'unbundle', path.join(work, 'bundle'), '--image-root', path.join(work, 'store')]);
  rt.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

t.test('skiff image import + bundle, then skiff run', async (t) => {
  const { tar } = ociImage(work, 'busybox', ['--config.cmd', 'sh', '--config.env', 'GREETING=from-image']);
  const store = path.join(work, 'store');
  const imp = rt.run(['image', 'import', tar, '--name', 'busybox:latest', '--image-root', store]);
  t.equal(imp.code, 0, imp.stderr);
  const bundle = path.join(work, 'bundle');
  const b = rt.run(['image', 'bundle', 'busybox:latest', bundle, '--image-root', store]);
  t.equal(b.code, 0, b.stderr);
  const config = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
  t.same(config.process.args, ['sh'], 'Cmd from the image');
  config.process.args = ['sh', '-c', 'echo $GREETING; touch /written; ls /written'];
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
  const r = rt.run(['run', '-b', bundle, uniqueId('imgrun')]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'from-image\n/written\n', 'env from the image config, a writable layer');
  t.equal(rt.run(['image', '--help']).code, 0, 'image help is the image command\'s own');
});
