// Keys matched without case, as runc's Go decoder matches them, at the parse boundary only.
import t from 'tap';
import { PROCESS_SHAPE, RESOURCES_SHAPE, SPEC_SHAPE, foldKeys } from '../../src/oci/keys';
import { parseJson, JsonNumber } from '../../src/oci/json';
import { parseSpec } from '../../src/oci/validate';

t.test('struct fields fold to their names, at every depth', async (t) => {
  const v = foldKeys(JSON.parse('{"OCIVERSION":"1.0.2","Linux":{"Resources":{"CPU":{"Shares":512,"CPUs":"0"},"Devices":[{"Allow":false,"ACCESS":"rwm"}]},"NameSpaces":[{"TYPE":"pid"}]}}'), SPEC_SHAPE);
  t.same(v, { ociVersion: '1.0.2', linux: { resources: { cpu: { shares: 512, cpus: '0' }, devices: [{ allow: false, access: 'rwm' }] }, namespaces: [{ type: 'pid' }] } });
});

t.test('map keys are data: annotations, sysctl, unified stay as written', async (t) => {
  const v = foldKeys({ Annotations: { Foo: 'x' }, linux: { Sysctl: { 'Net.Core.X': '1' }, resources: { Unified: { 'Memory.Max': '1' }, RDMA: { Mlx: { HCAHandles: 1 } } } } }, SPEC_SHAPE);
  t.same(v, { annotations: { Foo: 'x' }, linux: { sysctl: { 'Net.Core.X': '1' }, resources: { unified: { 'Memory.Max': '1' }, rdma: { Mlx: { hcaHandles: 1 } } } } });
});

t.test('unknown keys stay; two spellings of one field: the later wins, as in Go', async (t) => {
  t.same(foldKeys({ cpu: { shares: 1 }, CPU: { shares: 2 }, Bogus: 1 }, RESOURCES_SHAPE), { cpu: { shares: 2 }, Bogus: 1 });
  t.same(foldKeys({ CPU: { shares: 2 }, cpu: { shares: 1 } }, RESOURCES_SHAPE), { cpu: { shares: 1 } });
});

t.test('Go\'s fold: the Kelvin sign and the long s; nothing else non-ASCII', async (t) => {
  t.same(foldKeys({ '\u212aernel': 1, '\u017fwap': 2, 'İimit': 3 }, (RESOURCES_SHAPE as Record<string, never>).memory), { kernel: 1, swap: 2, 'İimit': 3 });
});

t.test('"__proto__" is a plain key, exact numbers survive', async (t) => {
  const v = foldKeys(parseJson('{"__proto__":{"polluted":1},"User":{"UID":18446744073709551615}}'), PROCESS_SHAPE) as Record<string, unknown>;
  t.equal(({} as Record<string, unknown>).polluted, undefined);
  t.equal(Object.getPrototypeOf(v), Object.prototype);
  t.ok(Object.prototype.hasOwnProperty.call(v, '__proto__'));
  t.ok((v.user as Record<string, unknown>).uid instanceof JsonNumber);
});

t.test('parseSpec folds before it validates: a config in other cases is the same config', async (t) => {
  const s = parseSpec(JSON.stringify({
    OciVersion: '1.0.2', Process: { Args: ['true'], Cwd: '/', User: { UID: 0, GID: 0 } }, Root: { Path: '/r' },
    Linux: { Namespaces: [{ Type: 'mount' }], Resources: { Memory: { Limit: 1 << 26 } } },
  }));
  t.same(s.process, { args: ['true'], cwd: '/', user: { uid: 0, gid: 0 } });
  t.same(s.linux!.resources, { memory: { limit: 1 << 26 } });
  t.throws(() => parseSpec(JSON.stringify({ ociVersion: '1', process: { args: ['x'], cwd: '/', user: { uid: 0, gid: 0 } }, root: { path: '/' }, linux: { resources: { CPU: { Sharez: 1 } } } })), /linux\.resources\.cpu\.Sharez/);
});
