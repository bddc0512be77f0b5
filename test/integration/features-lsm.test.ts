// linux.intelRdt, linux.mountLabel, process.selinuxLabel and process.apparmorProfile: real
// where the host has resctrl / SELinux / AppArmor, and where it lacks one a clear error that
// names what is missing, before anything is made. runc 1.1.5, on a host without them, runs
// an intelRdt config as if the field were not there, fails a mountLabel deep in the mounts
// (EINVAL from tmpfs), and refuses the two process labels: Skiff refuses all four up front.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { leftBehind, makeBundle, runc, skiff, uniqueId } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';
import { resctrlMissing, resctrlMount } from '../../src/launch/resctrl';

const rt = skiff();
t.teardown(() => rt.cleanup());
const rc = runc();
t.teardown(() => rc.cleanup());
const selinux = fs.existsSync('/sys/fs/selinux/enforce');
const apparmor = fs.existsSync('/sys/kernel/security/apparmor');

function refused(t: Test, edit: (s: Spec) => void, why: RegExp): void {
  const b = makeBundle({ edit });
  for (const cmd of ['create', 'run']) {
    const id = uniqueId('flsm-bad');
    const r = rt.run([cmd, '-b', b.dir, id]);
    t.equal(r.code, 1, `${cmd} fails`);
    t.match(r.stderr.replace(/\\"/g, '"'), why, `${cmd} says why`);
    t.same(leftBehind(rt, id), [], `${cmd} leaves nothing behind`);
  }
}

t.test('linux.intelRdt', async (t) => {
  const missing = resctrlMissing();
  if (missing) {
    refused(t, (s) => { s.linux!.intelRdt = { closID: 'skiffgroup' }; }, new RegExp(`linux\\.intelRdt: ${missing.replace(/[()./]/g, '\\$&')}`));
    t.match(missing, /CONFIG_X86_CPU_RESCTRL|mount -t resctrl/, 'the error names what the host lacks');
    const r = rc.run(['run', '-b', makeBundle({ edit: (s) => { s.linux!.intelRdt = { closID: 'skiffgroup' }; } }).dir, uniqueId('flsm-rc')]);
    t.equal(r.code, 0, 'runc 1.1.5 runs it, the field ignored');
    return;
  }
  // A host with resctrl: a group named after the container holds the init, and goes with it.
  const id = uniqueId('flsm-rdt');
  t.equal(rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.intelRdt = {}; } }).dir, id]).code, 0);
  const dir = path.join(resctrlMount()!, id);
  t.match(fs.readFileSync(path.join(dir, 'tasks'), 'utf8'), new RegExp(`^${rt.state(id).pid}$`, 'm'), 'the init is in the group');
  t.equal(rt.run(['delete', '-f', id]).code, 0);
  t.notOk(fs.existsSync(dir), 'the group it made is removed with it');
  refused(t, (s) => { s.linux!.intelRdt = { closID: `skiff-absent-${process.pid}` }; }, /closID without a schema names a group made beforehand/);
});

t.test('linux.intelRdt: the config is checked wherever it runs', async (t) => {
  refused(t, (s) => { s.linux!.intelRdt = { closID: '../x' }; }, /linux\.intelRdt\.closID: "\.\.\/x" is not a resctrl group name/);
  refused(t, (s) => { s.linux!.intelRdt = { memBwSchema: 'L3:0=ff' }; }, /linux\.intelRdt\.memBwSchema: must start with MB:/);
  refused(t, (s) => { s.linux!.intelRdt = { closID: 'x', bogus: 1 }; }, /linux\.intelRdt\.bogus: is not a field of linux\.intelRdt/);
});

t.test('linux.mountLabel', { skip: selinux && 'this host has SELinux: the label is applied to the mounts' }, async (t) => {
  const edit = (s: Spec) => { s.linux!.mountLabel = 'system_u:object_r:container_file_t:s0'; };
  refused(t, edit, /linux\.mountLabel: SELinux is not enabled on this host \(no \/sys\/fs\/selinux\)/);
  const r = rc.run(['run', '-b', makeBundle({ edit }).dir, uniqueId('flsm-rc')]);
  t.match(r.stderr, /context=.*invalid argument/, 'runc 1.1.5 fails at the first tmpfs mount instead');
});

t.test('process.selinuxLabel and process.apparmorProfile', async (t) => {
  if (!selinux) {
    const edit = (s: Spec) => { s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'; };
    refused(t, edit, /selinux: config provided but selinux not supported/);
    t.match(rc.run(['run', '-b', makeBundle({ edit }).dir, uniqueId('flsm-rc')]).stderr, /selinux is disabled or not supported/, 'runc refuses it too');
  }
  if (!apparmor) {
    const edit = (s: Spec) => { s.process!.apparmorProfile = 'docker-default'; };
    refused(t, edit, /apparmor: config provided but apparmor not supported/);
    t.not(rc.run(['run', '-b', makeBundle({ edit }).dir, uniqueId('flsm-rc')]).code, 0, 'runc fails it too (at the attr write)');
  }
  // An empty label means none, on any host.
  const r = rt.run(['run', '-b', makeBundle({ edit: (s) => { s.process!.selinuxLabel = ''; s.process!.apparmorProfile = ''; s.linux!.mountLabel = ''; } }).dir, uniqueId('flsm-empty')]);
  t.equal(r.code, 0, r.stderr);
});
