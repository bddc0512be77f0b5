// The signature policy's pure parts (no root, no network): references as the policy expands
// them, scope lookup per transport, the signedIdentity rules, strict parsing of policy.json and
// of the signed payload, registries.d merging. The end-to-end behaviour, against Podman, is in
// test/integration/image-policy.test.ts.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { dockerNamespaces, parseDockerRef, refString } from '../../src/image/policy/reference';
import { identityMatches } from '../../src/image/policy/identity';
import { parsePolicy, requirementsFor } from '../../src/image/policy/policy';
import { parseClaim, SIMPLE_SIGNING_TYPE } from '../../src/image/signature/payload';
import { loadRegistriesD, lookasideBase, usesSigstoreAttachments } from '../../src/image/signature/registriesd';
import { tmpdir } from '../fixtures/image/build';

t.test('references in the fully expanded form; namespaces most specific first', async (t) => {
  t.same(parseDockerRef('busybox'), { name: 'docker.io/library/busybox' });
  t.equal(refString(parseDockerRef('busybox:1')), 'docker.io/library/busybox:1');
  t.same(parseDockerRef('reg.example.com:5000/a/b@sha256:' + 'a'.repeat(64)), { name: 'reg.example.com:5000/a/b', digest: 'sha256:' + 'a'.repeat(64) });
  t.same(dockerNamespaces(parseDockerRef('reg.example.com:5000/a/b:1')),
    ['reg.example.com:5000/a/b', 'reg.example.com:5000/a', 'reg.example.com:5000', '*.example.com', '*.com']);
});

t.test('signedIdentity rules', async (t) => {
  const tagged = parseDockerRef('reg.io/app:1');
  const byDigest = parseDockerRef(`reg.io/app@sha256:${'b'.repeat(64)}`);
  const m = (type: string, intended: ReturnType<typeof parseDockerRef> | undefined, signed: string, extra = {}) =>
    identityMatches({ type, ...extra } as never, intended, signed);
  t.ok(m('matchRepoDigestOrExact', tagged, 'reg.io/app:1'));
  t.notOk(m('matchRepoDigestOrExact', tagged, 'reg.io/app:2'), 'another tag');
  t.ok(m('matchRepoDigestOrExact', byDigest, 'reg.io/app:2'), 'by digest: the repository suffices');
  t.notOk(m('matchRepoDigestOrExact', tagged, 'reg.io/app'), 'a name-only signature never matches it');
  t.notOk(m('matchExact', byDigest, 'reg.io/app:2'));
  t.ok(m('matchRepository', tagged, 'reg.io/app:9'));
  t.notOk(m('matchRepository', tagged, 'reg.io/other:1'));
  t.ok(m('exactReference', undefined, 'vendor.io/app:1', { dockerReference: 'vendor.io/app:1' }), 'no intended identity needed');
  t.ok(m('exactRepository', undefined, 'vendor.io/app:7', { dockerRepository: 'vendor.io/app' }));
  t.notOk(m('matchRepository', undefined, 'reg.io/app:1'), 'archives carry no identity');
  const remap = { prefix: 'mirror.io/vendor', signedPrefix: 'vendor.io' };
  t.ok(m('remapIdentity', parseDockerRef('mirror.io/vendor/app:1'), 'vendor.io/app:1', remap));
  t.notOk(m('remapIdentity', parseDockerRef('mirror.io/vendorx/app:1'), 'vendor.io/x/app:1', remap), 'prefix only at a / boundary');
  t.ok(m('remapIdentity', parseDockerRef('mirror.io/vendorx/app:1'), 'mirror.io/vendorx/app:1', remap), 'unmatched: left as it is');
});

t.test('policy.json: strict parsing, scope lookup', async (t) => {
  const p = parsePolicy(JSON.stringify({
    default: [{ type: 'reject' }],
    transports: {
      docker: { 'reg.io': [{ type: 'insecureAcceptAnything' }], 'reg.io/app:1': [{ type: 'reject' }], '*.example.com': [{ type: 'insecureAcceptAnything' }] },
      'docker-archive': { '': [{ type: 'insecureAcceptAnything' }] },
      oci: { '/srv/images': [{ type: 'insecureAcceptAnything' }] },
    },
  }), 'p.json');
  const look = (ref: string) => { const r = parseDockerRef(ref); return requirementsFor(p, 'docker', refString(r), dockerNamespaces(r)).scope; };
  t.equal(look('reg.io/app:1'), 'docker scope "reg.io/app:1"');
  t.equal(look('reg.io/app:2'), 'docker scope "reg.io"');
  t.equal(look('a.b.example.com/x:1'), 'docker scope "*.example.com"');
  t.equal(look('other.io/x:1'), 'the default');
  t.equal(requirementsFor(p, 'oci', '/srv/images/app', ['/srv/images/app', '/srv/images', '/srv']).scope, 'oci scope "/srv/images"');
  t.equal(requirementsFor(p, 'docker-archive', '', []).scope, 'docker-archive default ""');
  const bad = (doc: unknown) => t.throws(() => parsePolicy(JSON.stringify(doc), 'b.json'));
  bad({ default: [{ type: 'reject' }], extra: 1 });
  bad({ default: [{ type: 'signedBy', keyType: 'X509', keyData: 'AA==' }] });
  bad({ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyData: 'AA==', keyPath: '/x' }] });
  bad({ default: [{ type: 'sigstoreSigned', keyData: 'AA==', fulcio: {} }] });
  bad({ default: [{ type: 'insecureAcceptAnything' }], transports: { 'docker-archive': { '/x': [{ type: 'reject' }] } } });
  bad({ default: [{ type: 'insecureAcceptAnything' }], transports: { oci: { '/': [{ type: 'reject' }] } } });
  bad({ default: [{ type: 'signedBy', keyType: 'GPGKeys', keyData: 'AA==', signedIdentity: { type: 'exactReference', dockerReference: 'reg.io/app' } }] });
});

t.test('the signed payload: exactly its critical fields', async (t) => {
  const ok = { critical: { type: SIMPLE_SIGNING_TYPE, image: { 'docker-manifest-digest': 'sha256:x' }, identity: { 'docker-reference': 'reg.io/a:1' } }, optional: {} };
  t.same(parseClaim(Buffer.from(JSON.stringify(ok)), SIMPLE_SIGNING_TYPE), { manifestDigest: 'sha256:x', dockerReference: 'reg.io/a:1' });
  const extra = { ...ok, critical: { ...ok.critical, more: 1 } };
  t.type(parseClaim(Buffer.from(JSON.stringify(extra)), SIMPLE_SIGNING_TYPE), 'string', 'an extra critical field refuses it');
  t.match(parseClaim(Buffer.from(JSON.stringify(ok)), 'cosign container image signature'), /of type "atomic container signature"/);
  t.match(parseClaim(Buffer.from('not json'), SIMPLE_SIGNING_TYPE), /not JSON/);
});

t.test('registries.d: files merged, a scope set twice refused, the most specific section', async (t) => {
  const dir = tmpdir('skiff-regd-');
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'a.yaml'), 'default-docker:\n  lookaside: https://sigs.example/\ndocker:\n  reg.io:\n    lookaside: file:///srv/sigs\n    use-sigstore-attachments: true\n');
  fs.writeFileSync(path.join(dir, 'b.yaml'), 'docker:\n  reg.io/team:\n    sigstore: http://team.example/sigs\n');
  const cfg = loadRegistriesD(dir);
  t.equal(lookasideBase(cfg, parseDockerRef('reg.io/app:1')), 'file:///srv/sigs/app');
  t.equal(lookasideBase(cfg, parseDockerRef('reg.io/team/app:1')), 'http://team.example/sigs/team/app');
  t.equal(lookasideBase(cfg, parseDockerRef('other.io/x:1')), 'https://sigs.example/x');
  t.equal(usesSigstoreAttachments(cfg, parseDockerRef('reg.io/app:1')), true);
  t.equal(usesSigstoreAttachments(cfg, parseDockerRef('reg.io/team/app:1')), false, 'the more specific section wins whole');
  fs.writeFileSync(path.join(dir, 'c.yaml'), 'docker:\n  reg.io:\n    lookaside: file:///elsewhere\n');
  t.throws(() => loadRegistriesD(dir), /scope reg\.io is set in another file too/);
});
