// `skiff run --image` and `create --image`: the image's config (entrypoint, cmd, env, user,
// workdir) in an overlay bundle made for the container, run's exit codes and signals, `-- ARGS`
// in place of the image's Cmd, the bundle gone with the container (unless --keep), and a pull
// under the signature policy when the store lacks the image.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { ociImage, skiff, tmpDir, uniqueId, waitFor } from '../lib/harness';
import { push, startRegistry, Registry } from '../fixtures/image/build';

const rt = skiff();
const work = tmpDir('image-run-image');
const store = path.join(work, 'store');
const bundleOf = (id: string) => path.join(store, 'containers', id);
let reg: Registry | undefined;

const { tar, layout } = ociImage(work, 'shown', [
  '--config.entrypoint', 'sh', '--config.cmd', '-c', '--config.cmd', 'echo "$GREETING $(id -u):$(id -g) $(pwd)"',
  '--config.env', 'GREETING=hello', '--config.workingdir', '/tmp', '--config.user', '1000:1000',
]);

t.before(() => {
  const r = rt.run(['image', 'import', tar, '--name', 'shown:latest', '--image-root', store]);
  if (r.code !== 0) throw new Error(r.stderr);
});
t.teardown(async () => {
  rt.cleanup();
  await reg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const run = (id: string, extra: string[] = [], after: string[] = []) =>
  rt.run(['run', '--image', 'shown:latest', '--image-root', store, ...extra, id, ...(after.length ? ['--', ...after] : [])]);

t.test('the image config: entrypoint + cmd, env, user, workdir; the bundle goes with the container', async (t) => {
  const id = uniqueId('imgrun');
  const r = run(id);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'hello 1000:1000 /tmp\n');
  t.notOk(fs.existsSync(bundleOf(id)), 'bundle removed');
  t.not(rt.run(['state', id]).code, 0, 'container deleted');
  t.same(fs.readdirSync(path.join(store, 'bundles')), [], 'no live bundle left registered');
});

t.test('-- ARGS replace the Cmd (the Entrypoint stays); exit codes and signals as run gives them', async (t) => {
  let r = run(uniqueId('imgrun'), [], ['-c', 'echo args; exit 7']);
  t.equal(r.code, 7);
  t.equal(r.stdout, 'args\n');
  // Killed from outside (an init ignores what it has no handler for, under runc as well).
  const id = uniqueId('imgrun');
  const p = rt.spawn(['run', '--image', 'shown:latest', '--image-root', store, id, '--', '-c', 'echo up; sleep 100']);
  const exited = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  await new Promise((res) => p.stdout.once('data', res));
  t.equal(rt.run(['kill', id, 'KILL']).code, 0);
  t.equal(await exited, 128 + 9, 'SIGKILL: 137');
  t.notOk(fs.existsSync(bundleOf(id)), 'bundle removed after a signal too');
  const runcLike = rt.run(['run', uniqueId('imgrun'), '--', 'x']);
  t.equal(runcLike.code, 1);
  t.match(runcLike.stderr, /arguments after -- need --image/);
});

t.test('--keep keeps container and bundle until delete; -d and create --image too', async (t) => {
  const kept = uniqueId('imgrun');
  t.equal(run(kept, ['--keep']).code, 0);
  t.equal(rt.state(kept).status, 'stopped');
  t.ok(fs.existsSync(path.join(bundleOf(kept), 'config.json')), 'bundle kept');
  t.equal(rt.run(['delete', kept]).code, 0);
  t.notOk(fs.existsSync(bundleOf(kept)), 'delete removes it');

  const detached = uniqueId('imgrun');
  t.equal(run(detached, ['-d'], ['-c', 'sleep 0.2']).code, 0);
  await waitFor(() => rt.state(detached).status === 'stopped', 10_000, 'detached container exits');
  t.equal(rt.run(['delete', detached]).code, 0);
  t.notOk(fs.existsSync(bundleOf(detached)));

  const created = uniqueId('imgrun');
  const c = rt.run(['create', '--image', 'shown:latest', '--image-root', store, created, '--', '-c', 'exit 0']);
  t.equal(c.code, 0, c.stderr);
  t.equal(rt.state(created).bundle, bundleOf(created));
  t.equal(rt.run(['start', created]).code, 0);
  await waitFor(() => rt.state(created).status === 'stopped', 10_000, 'created container exits');
  t.equal(rt.run(['delete', created]).code, 0);
  t.notOk(fs.existsSync(bundleOf(created)));

  const mine = path.join(work, 'my-bundle');
  const own = uniqueId('imgrun');
  const r = run(own, ['--bundle', mine]);
  t.equal(r.stdout, 'hello 1000:1000 /tmp\n', r.stderr);
  t.notOk(fs.existsSync(mine), '--bundle DIR: made there, removed after');
});

t.test('an image the store lacks is pulled first, under the signature policy', async (t) => {
  reg = await startRegistry(path.join(work, 'registry'));
  push(layout, 'latest', reg.host, 'shown:1');
  const reject = path.join(work, 'reject.json');
  fs.writeFileSync(reject, JSON.stringify({ default: [{ type: 'reject' }] }));
  const accept = path.join(work, 'accept.json');
  fs.writeFileSync(accept, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const fresh = path.join(work, 'fresh-store');
  const id = uniqueId('imgrun');
  const ref = `${reg.host}/shown:1`;
  let r = rt.run(['run', '--image', ref, '--insecure', '--policy', reject, '--image-root', fresh, id]);
  t.equal(r.code, 1);
  t.match(r.stderr, /refused by policy .*reject\.json \(the default\): the policy rejects every image here/);
  t.not(rt.run(['state', id]).code, 0, 'no container');
  t.notOk(fs.existsSync(path.join(fresh, 'refs')), 'nothing pulled');
  r = rt.run(['run', '--image', ref, '--insecure', '--policy', accept, '--image-root', fresh, id]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, 'hello 1000:1000 /tmp\n');
  t.equal(rt.run(['image', 'ls', '-q', '--image-root', fresh]).stdout, `${ref}\n`, 'pulled into the store');
});
