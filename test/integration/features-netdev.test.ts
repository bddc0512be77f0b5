// linux.netDevices (runtime-spec 1.3, runc 1.4+): a host link moved into the container's
// network namespace under a new name, its address and up state kept. One end of a veth pair
// goes in, the other stays on the host: a ping across shows the link is real. The namespace
// is the container's: deleting the container destroys a virtual device with it (the kernel
// gives only physical ones back), as runc 1.4 documents. runc 1.1.5 ignores the field.
import t, { Test } from 'tap';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import { leftBehind, makeBundle, skiff, uniqueId, waitFor } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const rt = skiff();
t.teardown(() => rt.cleanup());
let n = 0;

// A veth pair on the host: `inner` (10.N.0.1/24, up) for the container, `outer` (.2) stays.
function vethPair(t: Test) {
  const tag = `${process.pid % 100000}${++n}`;
  const inner = `fpvi${tag}`;
  const outer = `fpvo${tag}`;
  const net = `10.${77 + n}.0`;
  execFileSync('ip', ['link', 'add', inner, 'type', 'veth', 'peer', 'name', outer]);
  t.teardown(() => { spawnSync('ip', ['link', 'del', outer]); spawnSync('ip', ['link', 'del', inner]); });
  execFileSync('ip', ['addr', 'add', `${net}.1/24`, 'dev', inner]);
  execFileSync('ip', ['addr', 'add', `${net}.2/24`, 'dev', outer]);
  execFileSync('ip', ['link', 'set', inner, 'up']);
  execFileSync('ip', ['link', 'set', outer, 'up']);
  return { inner, outer, net };
}
const hostHas = (name: string) => fs.existsSync(`/sys/class/net/${name}`);

function refused(t: Test, edit: (s: Spec) => void, why: RegExp): void {
  const b = makeBundle({ edit });
  for (const cmd of ['create', 'run']) {
    const id = uniqueId('fnet-bad');
    const r = rt.run([cmd, '-b', b.dir, id]);
    t.equal(r.code, 1, `${cmd} fails`);
    t.match(r.stderr.replace(/\\"/g, '"'), why, `${cmd} says why`);
    t.same(leftBehind(rt, id), [], `${cmd} leaves nothing behind`);
  }
}

t.test('a veth end moved in, renamed, with its address: it carries traffic; delete destroys it', async (t) => {
  const v = vethPair(t);
  const id = uniqueId('fnet');
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.netDevices = { [v.inner]: { name: 'eth7' } }; } });
  const r = rt.run(['run', '-d', '-b', b.dir, id]);
  t.equal(r.code, 0, r.stderr);
  t.teardown(() => rt.run(['delete', '-f', id]));
  t.notOk(hostHas(v.inner), 'gone from the host');
  const addr = rt.run(['exec', id, 'ip', '-o', '-4', 'addr', 'show', 'dev', 'eth7']);
  t.match(addr.stdout, new RegExp(`eth7\\s+inet ${v.net.replace(/\./g, '\\.')}\\.1/24`), 'renamed eth7 in the container, its address kept');
  t.match(rt.run(['exec', id, 'cat', '/sys/class/net/eth7/operstate']).stdout, /up/, 'and up');
  const ping = rt.run(['exec', '--cap', 'CAP_NET_RAW', id, 'ping', '-c', '1', '-W', '5', `${v.net}.2`]);
  t.equal(ping.code, 0, `the container reaches the host end: ${ping.stdout}${ping.stderr}`);
  t.equal(rt.run(['delete', '-f', id]).code, 0);
  // The namespace goes with its last process; a veth is destroyed with it, both ends.
  await waitFor(() => !hostHas(v.outer), 10_000, 'the veth pair destroyed with the namespace');
  t.notOk(hostHas(v.inner), 'not back on the host');
});

t.test('without a name the device keeps its own', async (t) => {
  const v = vethPair(t);
  const b = makeBundle({ args: ['ls', '/sys/class/net'], edit: (s) => { s.linux!.netDevices = { [v.inner]: {} }; } });
  const r = rt.run(['run', '-b', b.dir, uniqueId('fnet-same')]);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.split('\n').filter(Boolean).sort(), [v.inner, 'lo'].sort());
});

t.test('a create that fails after the move gives the device back, name and address', async (t) => {
  const v = vethPair(t);
  const other = vethPair(t);
  for (const [what, edit] of [
    ['the init fails later (no such program)', (s: Spec) => { s.process!.args = ['/nonexistent-program']; s.linux!.netDevices = { [v.inner]: { name: 'eth7' } }; }],
    ['the second device cannot be moved', (s: Spec) => { s.linux!.netDevices = { [v.inner]: { name: 'eth7' }, fpnosuchdev1: {} }; }],
    ['a host hook fails after the move', (s: Spec) => { s.linux!.netDevices = { [v.inner]: { name: 'eth7' }, [other.inner]: { name: 'eth8' } }; s.hooks = { createRuntime: [{ path: '/bin/false' }] }; }],
  ] as [string, (s: Spec) => void][]) {
    const id = uniqueId('fnet-back');
    const r = rt.run(['create', '-b', makeBundle({ edit }).dir, id]);
    t.equal(r.code, 1, `${what}: create fails`);
    t.same(leftBehind(rt, id), [], `${what}: nothing left`);
    t.ok(hostHas(v.inner) && hostHas(v.outer), `${what}: the pair is back on the host`);
    t.match(execFileSync('ip', ['-o', '-4', 'addr', 'show', 'dev', v.inner], { encoding: 'utf8' }), new RegExp(`inet ${v.net.replace(/\./g, '\\.')}\\.1/24`), `${what}: with its address`);
    t.match(fs.readFileSync(`/sys/class/net/${v.inner}/operstate`, 'utf8'), /up/, `${what}: and up`);
  }
  t.ok(hostHas(other.inner), 'the other device too');
});

t.test('what cannot be moved is refused, and nothing is left', async (t) => {
  refused(t, (s) => { s.linux!.netDevices = { fpnosuchdev0: {} }; }, /linux\.netDevices: network device fpnosuchdev0: no such device/i);
  refused(t, (s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((x) => x.type !== 'network'); s.linux!.netDevices = { lo: {} }; },
    /linux\.netDevices: needs a network namespace of the container/);
  refused(t, (s) => { s.linux!.netDevices = { 'a/b': {} }; }, /linux\.netDevices\.a\/b: the host device name must not contain/);
  refused(t, (s) => { s.linux!.netDevices = { x: { name: 'much-too-long-name0' } }; }, /linux\.netDevices\.x\.name: must be 1 to 15 bytes long/);
  refused(t, (s) => { s.linux!.netDevices = { x: { name: 'e0' }, y: { name: 'e0' } }; }, /"e0" is given to two devices/);
  refused(t, (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((x) => (x.type === 'network' ? { type: 'network', path: `/proc/${process.pid}/ns/net` } : x));
    s.linux!.netDevices = { lo: {} };
  }, /linux\.netDevices: the network namespace \/proc\/\d+\/ns\/net is the host's/);
});
