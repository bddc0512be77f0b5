// Bearer-token auth against the real thing: docker-registry configured with `auth: token`, and a
// token server written here that signs JWTs (RS256, x5c) with a key pair made by openssl.
import t from 'tap';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { createSign, randomBytes, X509Certificate } from 'crypto';
import { execFile, execFileSync } from 'child_process';
import { promisify } from 'util';
import type { AddressInfo } from 'net';
import { addImage, busyboxRootfs, cli, cliProc, snapshot, startRegistry, tarDir, tmpdir, Registry } from '../fixtures/image/build';

const work = tmpdir();
let reg: Registry | undefined;
let tokenServer: http.Server | undefined;
t.teardown(async () => {
  await reg?.stop();
  await new Promise((r) => (tokenServer ? tokenServer.close(r) : r(undefined)));
  fs.rmSync(work, { recursive: true, force: true });
});

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');
const USER = 'alice';
const PASS = 's3cret';

t.test('pull through a token-authenticated distribution registry', async (t) => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'signer.key', '-out', 'signer.pem', '-days', '2', '-subj', '/CN=skiff-token-signer'], { cwd: work, stdio: 'ignore' });
  const key = fs.readFileSync(path.join(work, 'signer.key'));
  const certDer = new X509Certificate(fs.readFileSync(path.join(work, 'signer.pem'))).raw;
  const issued: string[] = [];
  tokenServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = req.headers.authorization ?? '';
    if (auth !== 'Basic ' + Buffer.from(`${USER}:${PASS}`).toString('base64')) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad credentials' }] }));
      return;
    }
    const access = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).map((s) => {
      const [type, name, actions] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1, s.lastIndexOf(':')), s.slice(s.lastIndexOf(':') + 1)];
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')] };
    const claims = { iss: 'skiff-test-issuer', sub: USER, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const body = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${body}.${b64url(createSign('RSA-SHA256').update(body).sign(key))}`;
    issued.push(access.map((a) => `${a.name}:${a.actions.join(',')}`).join(' '));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => tokenServer!.listen(0, '127.0.0.1', r));
  const realm = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
  reg = await startRegistry(path.join(work, 'registry'), undefined, [
    'auth:', '  token:', `    realm: ${realm}`, '    service: skiff-test', '    issuer: skiff-test-issuer', `    rootcertbundle: ${path.join(work, 'signer.pem')}`,
  ]);
  const layout = path.join(work, 'layout');
  const built = addImage(layout, { layers: [tarDir(busyboxRootfs())], refName: 'latest' });
  // Not execFileSync: the token server skopeo asks lives in this process's event loop.
  await promisify(execFile)('skopeo', ['copy', '-q', '--dest-tls-verify=false', '--dest-creds', `${USER}:${PASS}`, `oci:${layout}:latest`, `docker://${reg.host}/team/busybox:latest`]);
  t.ok(issued.some((s) => s.includes('team/busybox:') && s.includes('push')), 'skopeo pushed with a token from our server');

  const store = path.join(work, 'store');
  const anon = await cli(['pull', `${reg.host}/team/busybox:latest`, '--insecure', '--image-root', store]);
  t.equal(anon.code, 1);
  t.match(anon.err, new RegExp(`team/busybox:latest: manifest: token from 127\\.0\\.0\\.1:\\d+: registry 127\\.0\\.0\\.1:\\d+ answered 401 Unauthorized \\(UNAUTHORIZED: bad credentials\\)`));
  t.same(snapshot(store).filter((x) => x.startsWith('blobs/sha256/') || x.startsWith('refs/')), [], 'nothing stored');

  const before = issued.length;
  const ok = await cli(['pull', `${reg.host}/team/busybox:latest`, '--insecure', '--creds', `${USER}:${PASS}`, '--image-root', store]);
  t.equal(ok.code, 0, ok.err);
  t.equal(ok.out, `${reg.host}/team/busybox:latest ${built.manifest}\n`);
  t.equal(issued.length - before, 1, 'one token for the whole pull');
  t.equal(issued[issued.length - 1], 'team/busybox:pull', 'a pull-only scope for the repository');

  // credentials from a docker config.json, as docker login writes it
  const dockerDir = path.join(work, 'docker');
  fs.mkdirSync(dockerDir);
  fs.writeFileSync(path.join(dockerDir, 'config.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
  const viaConfig = await cliProc(['pull', `${reg.host}/team/busybox:latest`, '--insecure', '-q', '--name', 'via-config', '--image-root', store], { ...process.env, DOCKER_CONFIG: dockerDir });
  t.equal(viaConfig.code, 0, viaConfig.err);
});
