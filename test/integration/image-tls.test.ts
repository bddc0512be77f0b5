// Pulling over https: the registry's certificate is signed by a CA made here, which the client
// trusts only through the system CA file (SSL_CERT_FILE, as OpenSSL reads it), never by default.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { addImage, busyboxRootfs, cliProc, tarDir, tmpdir, startRegistry, Registry } from '../fixtures/image/build';

const work = tmpdir();
let reg: Registry | undefined;
t.teardown(async () => {
  await reg?.stop();
  fs.rmSync(work, { recursive: true, force: true });
});

const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: work, stdio: ['ignore', 'ignore', 'pipe'] });

t.test('https registry: trusted through the system CA file, refused otherwise', async (t) => {
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=skiff-test-ca']);
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1']);
  fs.writeFileSync(path.join(work, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf']);
  reg = await startRegistry(path.join(work, 'registry'), { cert: path.join(work, 'srv.pem'), key: path.join(work, 'srv.key') });
  const layout = path.join(work, 'layout');
  const built = addImage(layout, { layers: [tarDir(busyboxRootfs())], refName: 'latest' });
  execFileSync('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${reg.host}/busybox:latest`]);

  const store = path.join(work, 'store');
  const untrusted = await cliProc(['pull', `${reg.host}/busybox:latest`, '-q', '--image-root', store], { ...process.env, SSL_CERT_FILE: '/nonexistent' });
  t.equal(untrusted.code, 1);
  t.match(untrusted.err, /busybox:latest: manifest: cannot reach 127\.0\.0\.1:\d+: (self[- ]signed|unable to (get|verify))/i, 'an unknown CA is refused');
  const plain = await cliProc(['pull', `${reg.host}/busybox:latest`, '-q', '--insecure', '--image-root', store]);
  t.equal(plain.code, 1, '--insecure speaks plain http, which an https registry refuses');
  const ok = await cliProc(['pull', `${reg.host}/busybox:latest`, '-q', '--image-root', store], { ...process.env, SSL_CERT_FILE: path.join(work, 'ca.pem') });
  t.equal(ok.code, 0, ok.err);
  t.equal(ok.out, `${reg.host}/busybox:latest ${built.manifest}\n`);
});
