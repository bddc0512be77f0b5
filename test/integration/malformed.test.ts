// Bad input: a clear error that names the field, a non-zero exit, and nothing left behind.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, skiff, uniqueId } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const rt = skiff();
t.teardown(() => rt.cleanup());

function refused(t: Test, configText: string | ((s: Spec) => void), expect: RegExp, name: string): void {
  const b = makeBundle();
  if (typeof configText === 'string') fs.writeFileSync(path.join(b.dir, 'config.json'), configText);
  else {
    const spec = JSON.parse(fs.readFileSync(path.join(b.dir, 'config.json'), 'utf8'));
    configText(spec);
    fs.writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(spec));
  }
  const id = uniqueId('bad');
  for (const cmd of ['create', 'run']) {
    const r = rt.run([cmd, '-b', b.dir, id]);
    t.equal(r.code, 1, `${name}: ${cmd} fails`);
    t.match(r.stderr, expect, `${name}: ${cmd} names the problem`);
    t.equal(fs.existsSync(path.join(rt.root, id)), false, `${name}: no state dir`);
    t.same(cgroupDirsNamed(id), [], `${name}: no cgroup`);
  }
}


t.test('invalid JSON', async (t) => refused(t, '{"ociVersion": ', /config\.json: invalid JSON/, 'truncated'));
t.test('not an object', async (t) => refused(t, '[]', /config\.json: \(top level\): must be an object/, 'array'));
t.test('missing config.json', async (t) => {
  const b = makeBundle();
  fs.rmSync(path.join(b.dir, 'config.json'));
  const r = rt.run(['create', '-b', b.dir, uniqueId('nocfg')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /JSON specification file config\.json not found/);
});

const cases: [string, (s: Spec) => void, RegExp][] = [
  ['missing process', (s) => { delete (s as Partial<Spec>).process; }, /process: is required/],
  ['args empty', (s) => { s.process!.args = []; }, /process\.args: must name the program/],
  ['args wrong type', (s) => { (s.process as any).args = 'sh'; }, /process\.args: must be an array of strings/],
  ['args element wrong type', (s) => { (s.process as any).args = ['sh', 3]; }, /process\.args\[1\]: must be a string/],
  ['cwd relative', (s) => { s.process!.cwd = 'tmp'; }, /process\.cwd: must be an absolute path/],
  ['uid negative', (s) => { s.process!.user.uid = -1; }, /process\.user\.uid: must be between/],
  ['uid not a number', (s) => { (s.process!.user as any).uid = '0'; }, /process\.user\.uid: must be an integer/],
  ['unknown rlimit', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_BOGUS', soft: 1, hard: 1 }]; }, /process\.rlimits\[0\]\.type: unknown rlimit/],
  ['soft above hard', (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 1 }]; }, /soft limit 10 is above hard limit 1/],
  ['missing root', (s) => { delete s.root; }, /root: is required/],
  ['rootfs not there', (s) => { s.root = { path: '/nonexistent/rootfs' }; }, /rootfs \(\/nonexistent\/rootfs\) does not exist/],
  ['relative mount destination', (s) => { s.mounts!.push({ destination: 'data', type: 'tmpfs' }); }, /mounts\[7\]\.destination: must be an absolute path/],
  ['bind source missing', (s) => { s.mounts!.push({ destination: '/data', type: 'bind', source: '/nonexistent/src', options: ['bind'] }); }, /mount source \/nonexistent\/src does not exist/],
  ['unknown namespace', (s) => { s.linux!.namespaces!.push({ type: 'bogus' }); }, /unknown namespace type \\"bogus\\"/],
  ['duplicate namespace', (s) => { s.linux!.namespaces!.push({ type: 'pid' }); }, /namespace pid is listed twice/],
  ['namespace path missing', (s) => { s.linux!.namespaces![1] = { type: 'network', path: '/nonexistent/ns' }; }, /open namespace \/nonexistent\/ns: No such file/],
  ['no mount namespace with masked paths', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); }, /unable to restrict sys entries without a private MNT namespace/],
  ['hostname without uts', (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'uts'); }, /hostname: setting the hostname needs a uts namespace/],
  ['user ns without mappings', (s) => { s.linux!.namespaces!.push({ type: 'user' }); }, /a new user namespace needs uid and gid mappings/],
  ['bad device type', (s) => { s.linux!.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }]; }, /linux\.devices\[0\]\.type: must be c, u, b or p/],
  ['bad device rule (no r, w or m; runc takes "rwx" as rw)', (s) => { s.linux!.resources!.devices = [{ allow: true, access: 'x' }]; }, /linux\.resources\.devices\[0\]\.access: must hold at least one of r, w and m/],
  ['intelRdt on a host without resctrl, or a group that is not there', (s) => { s.linux!.intelRdt = { closID: 'x' }; }, /linux\.intelRdt: (this kernel has no resctrl|no resctrl filesystem is mounted|the resctrl group)/],
  ['hook path relative', (s) => { s.hooks = { prestart: [{ path: 'bin/true' }] }; }, /hooks\.prestart\[0\]\.path: must be an absolute path/],
  ['idmap with no mappings to use', (s) => { s.mounts!.push({ destination: '/x', type: 'bind', source: '/tmp', options: ['bind', 'idmap'] }); }, /\\"idmap\\" without uidMappings and gidMappings maps through the container's user namespace, and the container has none/],
  ['idmap on a mount that is not a bind', (s) => { s.mounts!.push({ destination: '/x', type: 'tmpfs', source: 'tmpfs', uidMappings: [{ containerID: 0, hostID: 1, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1, size: 1 }] }); }, /idmapped mounts are only supported for bind mounts/],
  ['bad propagation', (s) => { s.linux!.rootfsPropagation = 'sideways'; }, /linux\.rootfsPropagation: unknown propagation/],
  ['bad sysctl name', (s) => { s.linux!.sysctl = { '../../etc/passwd': 'x' }; }, /is not a sysctl name/],
];
for (const [name, edit, expect] of cases) t.test(name, async (t) => refused(t, edit, expect, name));

t.test('a mount that fails in the kernel is reported with the step and cause, and undone', async (t) => {
  refused(t, (s) => { s.mounts!.push({ destination: '/bad', type: 'nosuchfs', source: 'none' }); }, /mount nosuchfs \/bad: no such device/, 'bad fstype');
});

t.test('an rlimit above the host hard limit fails at create', async (t) => {
  refused(t, (s) => { s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1 << 30, hard: 1 << 30 }]; }, /setrlimit RLIMIT_NOFILE: operation not permitted/, 'rlimit');
});

t.test('bad flags', async (t) => {
  const b = makeBundle();
  const r = rt.run(['create', '--preserve-fds', 'x', '-b', b.dir, uniqueId('flag')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /invalid --preserve-fds/);
  const u = rt.run(['create']);
  t.equal(u.code, 1);
  t.match(u.stderr, /\\"create\\" requires exactly 1 argument/);
});
