// `skiff check` on this host: what it reports agrees with what the kernel shows and with
// what a container really gets, and its probes leave nothing behind (no mount, no process).
import t from 'tap';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { SKIFF, makeBundle, skiff, skiffForUsers, testEnv, uniqueId } from '../lib/harness';
import type { Finding, Report } from '../../src/check/report';
import { resctrlMissing } from '../../src/launch/resctrl';

const rt = skiff();
t.teardown(() => rt.cleanup());

function check(args: string[] = [], asUser?: number) {
  const argv = asUser === undefined ? [SKIFF, 'check', ...args] : ['setpriv', '--reuid', String(asUser), '--regid', String(asUser), '--clear-groups', skiffForUsers(), 'check', ...args];
  return spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: testEnv() });
}
const report = (): Report => JSON.parse(check(['--json']).stdout);
const find = (r: Report, section: string, name: string): Finding | undefined =>
  r.sections.find((s) => s.title.startsWith(section))?.findings.find((f) => f.name === name);

t.test('the report matches the kernel, section by section', async (t) => {
  const r = report();
  t.match(r.kernel, /^\d+\.\d+/);
  for (const [type, file] of [['time', 'time'], ['user', 'user'], ['network', 'net'], ['cgroup', 'cgroup']]) {
    t.equal(find(r, 'Namespaces', type)?.ok, fs.existsSync(`/proc/self/ns/${file}`), `namespace ${type}`);
  }
  const avail = fs.readFileSync('/proc/sys/kernel/seccomp/actions_avail', 'utf8');
  t.equal(find(r, 'Seccomp', 'SCMP_ACT_NOTIFY')?.ok, avail.includes('user_notif'), 'notify as actions_avail says');
  t.equal(find(r, 'Security', 'resctrl')?.ok, resctrlMissing() === undefined, 'resctrl as create sees it');
  t.equal(find(r, 'Security', 'SELinux')?.ok, fs.existsSync('/sys/fs/selinux/enforce'));
  const subuid = fs.existsSync('/etc/subuid') && /^[^:]+:\d+:\d+$/m.test(fs.readFileSync('/etc/subuid', 'utf8'));
  t.equal(find(r, 'User namespaces', '/etc/subuid')?.ok, subuid);
  t.equal(find(r, 'User namespaces', 'max_user_namespaces')?.detail, fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim());
  const v1 = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' - cgroup ');
  t.match(find(r, 'Cgroups', 'version')?.detail, v1 ? /cgroup v1/ : /cgroup v2/);
  // Filesystems the kernel never idmaps, and one it does on every kernel with mount_setattr.
  t.equal(find(r, 'Mounts', 'idmap proc')?.ok, false, 'proc takes no idmapped mount');
  t.equal(find(r, 'Mounts', 'idmap tmpfs')?.ok, true, 'tmpfs does (5.17+)');
});

t.test('what it says yes to works in a container, what it says no to is refused', async (t) => {
  const r = report();
  if (find(r, 'Namespaces', 'time')?.ok) {
    const b = makeBundle({ args: ['true'], edit: (s) => { s.linux!.namespaces!.push({ type: 'time' }); s.linux!.timeOffsets = { boottime: { secs: 5 } }; } });
    t.equal(rt.run(['run', '-b', b.dir, uniqueId('fcheck')]).code, 0, 'time namespace: yes, and it runs');
  }
  if (find(r, 'Security', 'resctrl')?.ok === false) {
    const b = makeBundle({ edit: (s) => { s.linux!.intelRdt = { closID: 'g' }; } });
    const res = rt.run(['run', '-b', b.dir, uniqueId('fcheck')]);
    t.equal(res.code, 1, 'resctrl: no, and intelRdt is refused');
    t.ok(res.stderr.includes(resctrlMissing()!.split(' (')[0]), 'in the same words');
  }
});

t.test('the probes leave nothing behind, and the text form holds every finding', async (t) => {
  const mountsBefore = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const res = check();
  t.equal(res.status, 0, res.stderr);
  t.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8'), mountsBefore, 'the mount table is as it was');
  for (const s of report().sections) {
    t.ok(res.stdout.includes(s.title), s.title);
    for (const f of s.findings) t.match(res.stdout, new RegExp(`^  ${f.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+(yes|no|\\?)`, 'm'), f.name);
  }
  const children = fs.readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim();
  t.equal(children, '', 'no process of the probe lives on');
});

t.test('as an unprivileged user it still reports, and says what it cannot tell', async (t) => {
  const res = check(['--json'], 65534);
  t.equal(res.status, 0, res.stderr);
  const r: Report = JSON.parse(res.stdout);
  t.same(find(r, 'Mounts', 'idmapped mounts'), { name: 'idmapped mounts', ok: null, detail: 'probed per filesystem only as root (it clones a mount)' });
  t.equal(find(r, 'Namespaces', 'user')?.ok, true);
});
