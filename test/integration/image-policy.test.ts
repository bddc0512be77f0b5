// Signature policy (containers-policy.json(5)) on pull and import, against Podman 4.3 under the
// very same policy and registries.d: images signed by `skopeo copy --sign-by` (GPG keys made by
// the test), sigstore attachments in cosign's format, unsigned, signed by another key, for
// another identity, tampered. Skiff must accept and refuse exactly what Podman does.
import t from 'tap';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { execFileSync, spawn, spawnSync } from 'child_process';
import { addImage, cli, freePort, snapshot, startRegistry, tarLayout, Registry } from '../fixtures/image/build';
import { cosignPayload, ecKey, ecSign, gpgKey, GpgKey, podmanPull, pushAttachment, pushSigned } from '../fixtures/image/signing';
import { tarArchive } from '../../src/image/tarwrite';

// Lower case: Podman names an image pulled from oci:DIR after the path.
const work = path.join(os.tmpdir(), `skiff-policy-${randomBytes(4).toString('hex')}`);
fs.mkdirSync(work);
const gnupg = path.join(work, 'gnupg');
const home = path.join(work, 'home');
const rd = path.join(home, '.config', 'containers', 'registries.d');
const look = path.join(work, 'lookaside');
let reg: Registry;
let host: string;
let trusted: GpgKey;
let other: GpgKey;
const cos = ecKey(work, 'cos');
const cosOther = ecKey(work, 'cos-other');
const digests: Record<string, string> = {};

function layout(name: string): string {
  const dir = path.join(work, 'layouts', name);
  addImage(dir, { layers: [tarArchive([{ name: 'id', type: 'file', data: Buffer.from(`${name}\n`) }])], refName: 'latest' });
  return dir;
}

/** A policy file: default reject, the requirements for the registry host (and more scopes). */
function policy(name: string, reqs: unknown[], extra: Record<string, unknown[]> = {}): string {
  const file = path.join(work, `policy-${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ default: [{ type: 'reject' }], transports: { docker: { [host]: reqs, ...extra } } }, null, 1));
  return file;
}

const sigDir = (repo: string) => path.join(look, `${repo}@sha256=${digests[repo].slice(7)}`);

t.before(async () => {
  trusted = gpgKey(gnupg, 'trusted', work);
  other = gpgKey(gnupg, 'other', work);
  reg = await startRegistry(path.join(work, 'registry'));
  host = reg.host;
  fs.mkdirSync(rd, { recursive: true });
  fs.writeFileSync(path.join(rd, 'test.yaml'), `docker:\n  ${host}:\n    lookaside: file://${look}\n    use-sigstore-attachments: true\n`);
  const o = { gnupg, registriesD: rd };
  const push = (repo: string, signBy?: string, identity?: string, lay = layout(repo)) => {
    pushSigned(lay, host, `${repo}:1`, { ...o, signBy, identity });
    digests[repo] = execFileSync('skopeo', ['inspect', '--format', '{{.Digest}}', '--tls-verify=false', `docker://${host}/${repo}:1`]).toString().trim();
  };
  push('signed', trusted.fingerprint);
  push('unsigned');
  push('other', other.fingerprint);
  push('ident', trusted.fingerprint, `${host}/elsewhere:1`);
  push('tampered', trusted.fingerprint);
  const sig = fs.readFileSync(path.join(sigDir('tampered'), 'signature-1'));
  sig[sig.length - 8] ^= 0x55;
  fs.writeFileSync(path.join(sigDir('tampered'), 'signature-1'), sig);
  // A valid signature of another manifest under the same name: the image was replaced.
  push('swapped', trusted.fingerprint);
  const old = fs.readFileSync(path.join(sigDir('swapped'), 'signature-1'));
  push('swapped', undefined, undefined, layout('swapped-new'));
  fs.mkdirSync(sigDir('swapped'), { recursive: true });
  fs.writeFileSync(path.join(sigDir('swapped'), 'signature-1'), old);
  // Two signatures, only the second by a trusted key for this identity.
  push('multi', other.fingerprint);
  const first = fs.readFileSync(path.join(sigDir('multi'), 'signature-1'));
  push('multi', trusted.fingerprint, undefined, path.join(work, 'layouts', 'multi'));
  fs.renameSync(path.join(sigDir('multi'), 'signature-1'), path.join(sigDir('multi'), 'signature-2'));
  fs.writeFileSync(path.join(sigDir('multi'), 'signature-1'), first);
  for (const repo of ['cos-signed', 'cos-other', 'cos-tampered', 'cos-repo', 'cos-unsigned']) push(repo);
  const att = (repo: string, key: string, identity = `${host}/${repo}:1`, signed = identity) => {
    const payload = cosignPayload(identity, digests[repo]);
    return pushAttachment(host, repo, digests[repo], [{ payload, signature: ecSign(key, cosignPayload(signed, digests[repo])) }]);
  };
  await att('cos-signed', cos.key);
  await att('cos-other', cosOther.key);
  await att('cos-tampered', cos.key, `${host}/cos-tampered:2`, `${host}/cos-tampered:1`);
  await att('cos-repo', cos.key, `${host}/cos-repo`);
});
t.teardown(async () => {
  await reg?.stop();
  // gpg started an agent for the key generation: end it with its home.
  spawnSync('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent'], { stdio: 'ignore' });
  fs.rmSync(work, { recursive: true, force: true });
});

const signedBy = (key: string, signedIdentity?: unknown) => ({ type: 'signedBy', keyType: 'GPGKeys', keyPath: key, ...(signedIdentity ? { signedIdentity } : {}) });
const sigstore = (key: string, signedIdentity?: unknown) => ({ type: 'sigstoreSigned', keyPath: key, ...(signedIdentity ? { signedIdentity } : {}) });

let storeN = 0;
async function skiffPull(pol: string, ref: string) {
  const store = path.join(work, `store${storeN++}`);
  const before = snapshot(store);
  const r = await cli(['pull', ref, '--insecure', '-q', '--policy', pol, '--registries-d', rd, '--image-root', store]);
  return { ...r, unchanged: JSON.stringify(snapshot(store)) === JSON.stringify(before) };
}

// [policy, image (repo:1, or repo@digest), accepted, what the refusal says]
type Case = [string, string, boolean, RegExp?];
function cases(): Case[] {
  const P = {
    gpg: policy('gpg', [signedBy(trusted.pub)]),
    keys: policy('keys', [{ type: 'signedBy', keyType: 'GPGKeys', keyPaths: [other.asc, trusted.asc] }]),
    keyData: policy('keydata', [{ type: 'signedBy', keyType: 'GPGKeys', keyData: fs.readFileSync(trusted.asc).toString('base64') }]),
    scoped: policy('scoped', [signedBy(trusted.pub)], { [`${host}/unsigned`]: [{ type: 'insecureAcceptAnything' }] }),
    exactRef: policy('exactref', [signedBy(trusted.pub, { type: 'exactReference', dockerReference: `${host}/elsewhere:1` })]),
    exactRepo: policy('exactrepo', [signedBy(trusted.pub, { type: 'exactRepository', dockerRepository: `${host}/elsewhere` })]),
    remap: policy('remap', [signedBy(trusted.pub, { type: 'remapIdentity', prefix: `${host}/ident`, signedPrefix: `${host}/elsewhere` })]),
    matchRepo: policy('matchrepo', [signedBy(trusted.pub, { type: 'matchRepository' })]),
    matchExact: policy('matchexact', [signedBy(trusted.pub, { type: 'matchExact' })]),
    reject: policy('reject', [{ type: 'reject' }]),
    cos: policy('cos', [sigstore(cos.pub)]),
    cosRepo: policy('cosrepo', [sigstore(cos.pub, { type: 'matchRepository' })]),
  };
  const at = (repo: string) => `${repo}@${digests[repo]}`;
  return [
    [P.gpg, 'signed', true], [P.gpg, at('signed'), true], [P.gpg, 'multi', true],
    [P.gpg, 'unsigned', false, /no simple signature \(signedBy .*trusted\.gpg\) found; looked in file:\/\/.*\/unsigned@sha256=[0-9a-f]{64}\/signature-1/],
    [P.gpg, 'other', false, /made by key [0-9A-F]{16,40}, which is not among the trusted keys/],
    [P.gpg, 'ident', false, /signed for identity 127\.0\.0\.1:\d+\/elsewhere:1, which matchRepoDigestOrExact does not accept for 127\.0\.0\.1:\d+\/ident:1/],
    [P.gpg, 'tampered', false, /bad signature by key|not a valid OpenPGP signature/],
    [P.gpg, 'swapped', false, /signed manifest sha256:[0-9a-f]{64}, not this image's sha256:/],
    [P.gpg, 'cos-signed', false, /no simple signature/],
    [P.keys, 'signed', true], [P.keys, 'other', true], [P.keys, 'unsigned', false],
    [P.keyData, 'signed', true], [P.keyData, 'other', false],
    [P.scoped, 'unsigned', true], [P.scoped, 'other', false],
    [P.exactRef, 'ident', true], [P.exactRef, 'signed', false, /exactReference/],
    [P.exactRepo, 'ident', true], [P.exactRepo, 'signed', false],
    [P.remap, 'ident', true], [P.remap, 'signed', true],
    [P.matchRepo, 'signed', true], [P.matchRepo, 'ident', false],
    [P.matchExact, 'signed', true], [P.matchExact, at('signed'), false, /matchExact does not accept/],
    [P.reject, 'signed', false, /rejects every image here \(reject\)/],
    [P.cos, 'cos-signed', true],
    [P.cos, 'cos-other', false, /does not verify with the key .*cos\.pub/],
    [P.cos, 'cos-tampered', false, /does not verify with the key/],
    [P.cos, 'cos-repo', false, /signed for identity 127\.0\.0\.1:\d+\/cos-repo, which matchRepoDigestOrExact/],
    [P.cos, 'cos-unsigned', false, /no sigstore signature \(sigstoreSigned .*cos\.pub\) found; looked in .* and the attachment sha256-[0-9a-f]{64}\.sig/],
    [P.cos, 'signed', false], [P.cosRepo, 'cos-repo', true], [P.cosRepo, 'cos-signed', true],
  ];
}

t.test('pull: Skiff accepts and refuses what Podman 4.3 does, and says why in one line', async (t) => {
  let sigstoreDisabled = '';
  for (const [pol, image, accepted, why] of cases()) {
    const ref = `${host}/${image.includes('@') ? image : `${image}:1`}`;
    const name = `${path.basename(pol, '.json')} ${image.replace(/@.*/, '@digest')}`;
    const s = await skiffPull(pol, ref);
    t.equal(s.code === 0, accepted, `${name}: skiff ${accepted ? 'accepts' : 'refuses'} (${s.err.trim()})`);
    if (!accepted) {
      t.ok(s.unchanged, `${name}: the store is as it was`);
      t.match(s.err, new RegExp(`^skiff image pull: ${ref.replace(/[.]/g, '\\.')}: refused by policy ${pol} \\(docker scope "[^"]+"\\): [^\\n]+\\n$`), `${name}: one line naming the policy and scope`);
      if (why) t.match(s.err, why, `${name}: says why`);
    }
    const p = podmanPull(work, home, pol, ref);
    // Debian builds Podman's containers/image without sigstore ("Debian-local change: sigstore
    // disabled"): it refuses every sigstoreSigned requirement, so those cases stand on Skiff's own.
    if (/sigstore disabled/i.test(p.err)) {
      sigstoreDisabled = p.err;
      continue;
    }
    t.equal(p.code === 0, accepted, `${name}: podman ${accepted ? 'accepts' : 'refuses'} (${p.err})`);
  }
  if (sigstoreDisabled) t.comment(`podman: ${sigstoreDisabled}`);
});

t.test('a lookaside served over http (registries.d names the URL)', async (t) => {
  // A server of its own process: podman runs under spawnSync, which blocks this one.
  const port = await freePort();
  const server = spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', look, String(port)], { stdio: 'ignore' });
  t.teardown(() => server.kill('SIGTERM'));
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const home2 = path.join(work, 'home-http');
  const rd2 = path.join(home2, '.config', 'containers', 'registries.d');
  fs.mkdirSync(rd2, { recursive: true });
  fs.writeFileSync(path.join(rd2, 'http.yaml'), `docker:\n  ${host}:\n    lookaside: http://127.0.0.1:${port}\n`);
  const pol = policy('http', [signedBy(trusted.pub)]);
  for (const [image, accepted] of [['signed', true], ['other', false], ['unsigned', false]] as const) {
    const ref = `${host}/${image}:1`;
    const s = await cli(['pull', ref, '--insecure', '-q', '--policy', pol, '--registries-d', rd2, '--image-root', path.join(work, `store${storeN++}`)]);
    t.equal(s.code === 0, accepted, `${image}: skiff (${s.err.trim()})`);
    if (image === 'unsigned') t.match(s.err, new RegExp(`looked in http://127\\.0\\.0\\.1:${port}/unsigned@sha256=`));
    const p = podmanPull(work, home2, pol, ref);
    t.equal(p.code === 0, accepted, `${image}: podman (${p.err})`);
  }
});

t.test('inspect: the signatures an image came with, and what the policy makes of them', async (t) => {
  const store = path.join(work, 'inspect-store');
  const pol = (n: string) => path.join(work, `policy-${n}.json`);
  const anything = path.join(work, 'policy-anything.json');
  fs.writeFileSync(anything, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const pull = (ref: string, p: string) => cli(['pull', `${host}/${ref}`, '--insecure', '-q', '--policy', p, '--registries-d', rd, '--image-root', store]);
  const inspect = async (ref: string, p: string) => {
    const r = await cli(['inspect', `${host}/${ref}`, '--policy', p, '--image-root', store]);
    t.equal(r.code, 0, r.err);
    return JSON.parse(r.out);
  };
  t.equal((await pull('multi:1', pol('gpg'))).code, 0);
  let j = await inspect('multi:1', pol('gpg'));
  t.same(j.source, { transport: 'docker', ref: `${host}/multi:1` });
  t.equal(j.signatures.length, 2, 'both lookaside signatures kept');
  t.match(j.signatures[0], { kind: 'simple', source: /\/multi@sha256=[0-9a-f]{64}\/signature-1$/, verdicts: [{ type: 'signedBy', accepted: false, reason: /made by key [0-9A-F]+, which is not among the trusted keys/ }] });
  t.match(j.signatures[1], { verdicts: [{ accepted: true, key: trusted.fingerprint, identity: `${host}/multi:1`, manifestDigest: digests.multi }] });
  t.same(j.policy, { file: pol('gpg'), scope: `docker scope "${host}"`, accepted: true });
  j = await inspect('multi:1', pol('cos'));
  t.match(j.policy, { accepted: false, reason: /no sigstore signature \(sigstoreSigned .*cos\.pub\) found; looked in the signatures pulled with the image/ });
  // Pulled under a policy that needs no signature: they are kept all the same.
  t.equal((await pull('cos-signed:1', anything)).code, 0);
  j = await inspect('cos-signed:1', pol('cos'));
  t.match(j.signatures, [{ kind: 'sigstore', verdicts: [{ type: 'sigstoreSigned', accepted: true, key: /cos\.pub$/, identity: `${host}/cos-signed:1` }] }]);
  t.match(j.policy, { accepted: true });
  j = await inspect('cos-signed:1', pol('reject'));
  t.match(j.policy, { accepted: false, reason: /rejects every image here/ });
  t.equal((await cli(['rm', `${host}/multi:1`, '--image-root', store])).code, 0);
  t.equal((await cli(['prune', '--image-root', store])).code, 0);
  t.same(fs.readdirSync(path.join(store, 'signatures')), [`${digests['cos-signed'].slice(7)}.json`], 'prune drops the signatures with the last name');
});

t.test('import: transports oci, oci-archive and docker-archive, scoped by path', async (t) => {
  const ok = path.join(work, 'archives-ok');
  const other = path.join(work, 'archives-other');
  fs.mkdirSync(ok);
  fs.mkdirSync(other);
  const lay = path.join(work, 'layouts', 'signed');
  tarLayout(lay, path.join(ok, 'a.tar'));
  tarLayout(lay, path.join(other, 'a.tar'));
  execFileSync('skopeo', ['copy', '-q', `oci:${lay}:latest`, `docker-archive:${path.join(ok, 'd.tar')}:local/d:1`]);
  const pol = path.join(work, 'policy-local.json');
  fs.writeFileSync(pol, JSON.stringify({
    default: [{ type: 'reject' }],
    transports: {
      'oci-archive': { [ok]: [{ type: 'insecureAcceptAnything' }] },
      oci: { [lay]: [{ type: 'insecureAcceptAnything' }] },
      'docker-archive': { '': [signedBy(trusted.pub)] },
    },
  }));
  const rows: [string, string[], string, boolean, RegExp?][] = [
    ['oci-archive in the accepted dir', [path.join(ok, 'a.tar'), '--name', 'x/a:1'], `oci-archive:${path.join(ok, 'a.tar')}`, true],
    ['oci-archive elsewhere', [path.join(other, 'a.tar'), '--name', 'x/a:1'], `oci-archive:${path.join(other, 'a.tar')}`, false, /\(the default\): the policy rejects every image here/],
    ['oci layout, by its path', [lay, '--tag', 'latest', '--name', 'x/l:1'], `oci:${lay}:latest`, true],
    ['docker-archive under signedBy', [path.join(ok, 'd.tar')], `docker-archive:${path.join(ok, 'd.tar')}`, false, /\(docker-archive default ""\): no simple signature .* found; looked in docker-archive:.* \(it carries no signatures\)/],
  ];
  for (const [name, args, podmanRef, accepted, why] of rows) {
    const store = path.join(work, `store${storeN++}`);
    const before = snapshot(store);
    const r = await cli(['import', ...args, '--policy', pol, '--image-root', store]);
    t.equal(r.code === 0, accepted, `${name}: skiff (${r.err.trim()})`);
    if (!accepted) {
      t.same(snapshot(store), before, `${name}: store unchanged`);
      t.match(r.err, why!, `${name}: says why`);
    }
    const p = podmanPull(work, home, pol, podmanRef);
    t.equal(p.code === 0, accepted, `${name}: podman (${p.err})`);
  }
});

t.test('a bad policy file is refused whole, naming the field', async (t) => {
  const bad = (doc: unknown) => {
    const f = path.join(work, `bad-${storeN++}.json`);
    fs.writeFileSync(f, JSON.stringify(doc));
    return cli(['pull', `${host}/signed:1`, '--insecure', '-q', '--policy', f, '--image-root', path.join(work, 'bad-store')]);
  };
  t.match((await bad({ transports: {} })).err, /missing field "default"/);
  t.match((await bad({ default: [] })).err, /the list of requirements must not be empty/);
  t.match((await bad({ default: [{ type: 'signedBy', keyType: 'GPGKeys' }] })).err, /exactly one of keyPath, keyPaths and keyData/);
  t.match((await bad({ default: [{ type: 'insecureAcceptAnything', extra: 1 }] })).err, /unknown field "extra"/);
  t.match((await bad({ default: [{ type: 'sigstoreSigned', keyPath: cos.pub, signedIdentity: { type: 'matchSomething' } }] })).err, /unknown signedIdentity type "matchSomething"/);
  t.equal(fs.existsSync(path.join(work, 'bad-store', 'refs')), false, 'nothing stored');
});
