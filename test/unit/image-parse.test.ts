// The small parsers of the image store: digests, references, platforms, auth challenges,
// entry names, and the image-config → config.json conversion (on a temp tree, no root needed).
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { digestHex, ImageError } from '../../src/image/digest';
import { parseRegistryRef, normalizeName } from '../../src/image/refs';
import { parsePlatform, selectManifest, hostPlatform } from '../../src/image/platform';
import { parseChallenge } from '../../src/image/registry';
import { cleanEntryName } from '../../src/image/layers';
import { imageToSpec, readInRoot, resolveUser } from '../../src/image/config';
import { layerCompression, sniffCompression } from '../../src/image/media';
import { tmpdir } from '../fixtures/image/build';

t.test('digests', async (t) => {
  t.equal(digestHex('sha256:' + 'a'.repeat(64)), 'a'.repeat(64));
  t.throws(() => digestHex('sha256:../../etc/passwd'), /invalid digest/);
  t.throws(() => digestHex('sha512:' + 'a'.repeat(128)), /unsupported digest algorithm/);
  t.throws(() => digestHex('sha256:' + 'A'.repeat(64)), ImageError);
});

t.test('registry references', async (t) => {
  t.same(parseRegistryRef('busybox'), { registry: 'docker.io', repository: 'library/busybox', tag: 'latest', digest: undefined });
  t.same(parseRegistryRef('127.0.0.1:5000/a/b:1.0'), { registry: '127.0.0.1:5000', repository: 'a/b', tag: '1.0', digest: undefined });
  t.same(parseRegistryRef('localhost/x@sha256:' + 'b'.repeat(64)), { registry: 'localhost', repository: 'x', tag: undefined, digest: 'sha256:' + 'b'.repeat(64) });
  t.same(parseRegistryRef('quay.io/org/img:v1'), { registry: 'quay.io', repository: 'org/img', tag: 'v1', digest: undefined });
  t.throws(() => parseRegistryRef('x/UPPER'), /bad repository name/);
  t.throws(() => parseRegistryRef('x@sha256:zz'), /bad digest/);
  t.equal(normalizeName('busybox'), 'busybox:latest');
  t.equal(normalizeName('127.0.0.1:5000/busybox'), '127.0.0.1:5000/busybox:latest');
  t.equal(normalizeName('a/b:1'), 'a/b:1');
});

t.test('platforms', async (t) => {
  t.same(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'arm64', variant: 'v8' });
  t.throws(() => parsePlatform('linux'), /expected os\/arch/);
  const d = (architecture: string, variant?: string) => ({ mediaType: 'm', digest: architecture + (variant ?? ''), size: 1, platform: { os: 'linux', architecture, ...(variant ? { variant } : {}) } });
  const idx = { schemaVersion: 2, manifests: [d('amd64'), d('arm', 'v6'), d('arm', 'v7'), d('arm64', 'v8'), { mediaType: 'm', digest: 'att', size: 1, platform: { os: 'unknown', architecture: 'unknown' } }] };
  t.equal(selectManifest(idx, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').digest, 'armv7');
  t.equal(selectManifest(idx, { os: 'linux', architecture: 'arm64' }, 'x').digest, 'arm64v8');
  t.throws(() => selectManifest(idx, { os: 'linux', architecture: 'arm', variant: 'v5' }, 'img'), /img: no manifest for platform linux\/arm\/v5 \(the index has: linux\/amd64, linux\/arm\/v6, linux\/arm\/v7, linux\/arm64\/v8\)/);
  t.equal(hostPlatform().os, 'linux');
});

t.test('auth challenges', async (t) => {
  t.same(parseChallenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull' },
  });
  t.same(parseChallenge('Basic realm="x"'), { scheme: 'basic', params: { realm: 'x' } });
});

t.test('entry names', async (t) => {
  t.equal(cleanEntryName('./a/b/', 'l'), 'a/b');
  t.equal(cleanEntryName('/etc//passwd', 'l'), 'etc/passwd');
  t.equal(cleanEntryName('a/../b', 'l'), 'b');
  t.equal(cleanEntryName('./', 'l'), '');
  t.throws(() => cleanEntryName('../x', 'l'), /points outside the layer/);
  t.throws(() => cleanEntryName('a/../../x', 'l'), /points outside the layer/);
  t.throws(() => cleanEntryName('a\0b', 'l'), /NUL/);
});

t.test('media types and compression', async (t) => {
  t.equal(layerCompression('application/vnd.oci.image.layer.v1.tar+zstd', 'l'), 'zstd');
  t.equal(layerCompression('application/vnd.docker.image.rootfs.diff.tar.gzip', 'l'), 'gzip');
  t.equal(layerCompression('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'l'), 'gzip');
  t.throws(() => layerCompression('text/plain', 'img: layer X'), /img: layer X: unknown layer media type "text\/plain"/);
  t.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8, 0])), 'gzip');
  t.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
});

t.test('user resolution stays inside the image tree', async (t) => {
  const root = tmpdir();
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  fs.mkdirSync(path.join(root, 'etc'));
  fs.mkdirSync(path.join(root, 'real'));
  fs.writeFileSync(path.join(root, 'real/passwd'), 'root:x:0:0::/root:/bin/sh\napp:x:100:101::/app:/bin/sh\n');
  // /etc/passwd is an absolute symlink: it must resolve inside the image, not on the host
  fs.symlinkSync('/real/passwd', path.join(root, 'etc/passwd'));
  fs.symlinkSync('../../../../../../etc/shadow', path.join(root, 'etc/group'));
  t.equal(readInRoot(root, '/etc/passwd')?.split('\n')[1], 'app:x:100:101::/app:/bin/sh');
  t.equal(readInRoot(root, '/etc/group'), undefined, 'a link climbing out stops at the image root');
  t.same(resolveUser('app', root, 'img'), { uid: 100, gid: 101 });
  t.same(resolveUser('100', root, 'img'), { uid: 100, gid: 101 });
  t.same(resolveUser('555:7', root, 'img'), { uid: 555, gid: 7 });
  t.same(resolveUser('', root, 'img'), { uid: 0, gid: 0 });
  t.throws(() => resolveUser('nobody', root, 'img'), /img: user "nobody" is not in the image's \/etc\/passwd/);
  t.throws(() => resolveUser('app:wheel', root, 'img'), /group "wheel" is not in the image's \/etc\/group/);
});

t.test('image config → config.json', async (t) => {
  const root = tmpdir();
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true }));
  const spec = imageToSpec({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['nginx'], Env: ['PATH=/x'], WorkingDir: 'srv' } }, root, root, 'img');
  t.same(spec.process!.args, ['nginx'], 'Cmd alone');
  t.same(spec.process!.env, ['PATH=/x'], 'the image PATH is kept');
  t.equal(spec.process!.cwd, '/srv');
  const spec2 = imageToSpec({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Entrypoint: ['/init'], Cmd: null, Labels: { 'org.opencontainers.image.os': 'label-wins' } } }, root, root, 'img');
  t.same(spec2.process!.args, ['/init']);
  t.equal(spec2.annotations!['org.opencontainers.image.os'], 'label-wins');
});
