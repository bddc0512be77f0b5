// What a container gets from config.json, checked from inside real containers.
import t, { Test } from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, skiff, tmpDir, uniqueId } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const rt = skiff();
t.teardown(() => rt.cleanup());

// Runs `script` in a container made from the default spec plus `edit`; returns stdout.
function inside(t: Test, script: string, edit?: (s: Spec) => void, copyRootfs = false): string {
  const b = makeBundle({ args: ['sh', '-c', script], edit, copyRootfs });
  const r = rt.run(['run', '-b', b.dir, uniqueId('iso')]);
  t.equal(r.code, 0, `container ran: ${r.stderr}`);
  return r.stdout;
}

t.test('namespaces really separate: pid 1, hostname, mount table, network, ipc', async (t) => {
  const out = inside(t, 'echo pid=$$; hostname; cat /proc/self/mountinfo | wc -l; ls /sys/class/net | tr "\\n" " "; echo; for n in ipc net uts mnt pid; do readlink /proc/self/ns/$n; done',
    (s) => { s.hostname = 'inner-host'; });
  const lines = out.split('\n');
  t.equal(lines[0], 'pid=1');
  t.equal(lines[1], 'inner-host');
  const hostMounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length - 1;
  t.not(Number(lines[2]), hostMounts, 'own mount table');
  t.equal(lines[3].trim(), 'lo', 'new network namespace has only lo');
  const hostNs = ['ipc', 'net', 'uts', 'mnt', 'pid'].map((n) => fs.readlinkSync(`/proc/self/ns/${n}`));
  lines.slice(4, 9).forEach((l, i) => t.not(l, hostNs[i], `own ${['ipc', 'net', 'uts', 'mnt', 'pid'][i]} namespace`));
});

t.test('domainname and cgroup namespace', async (t) => {
  const out = inside(t, 'cat /proc/sys/kernel/domainname; readlink /proc/self/ns/cgroup; cat /proc/self/cgroup | head -1',
    (s) => { s.domainname = 'inner.domain'; s.linux!.namespaces!.push({ type: 'cgroup' }); });
  const [dom, cgns, cg] = out.split('\n');
  t.equal(dom, 'inner.domain');
  t.not(cgns, fs.readlinkSync('/proc/self/ns/cgroup'));
  t.match(cg, /:\/$/, 'the container sees its cgroup as the root');
});

t.test('joining an existing network namespace by path', async (t) => {
  const id = uniqueId('netns-owner');
  t.equal(rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]).code, 0);
  const pid = rt.state(id).pid as number;
  const out = inside(t, 'readlink /proc/self/ns/net', (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: `/proc/${pid}/ns/net` } : n));
  });
  t.equal(out.trim(), fs.readlinkSync(`/proc/${pid}/ns/net`));
  t.equal(rt.run(['delete', '-f', id]).code, 0);
});

t.test('joining an existing pid namespace by path', async (t) => {
  const id = uniqueId('pidns-owner');
  t.equal(rt.run(['run', '-d', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]).code, 0);
  const pid = rt.state(id).pid as number;
  const out = inside(t, 'echo $$; readlink /proc/self/ns/pid', (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
  });
  const [innerPid, ns] = out.split('\n');
  t.not(innerPid, '1', 'not the first process of the joined namespace');
  t.equal(ns, fs.readlinkSync(`/proc/${pid}/ns/pid`));
  t.equal(fs.readlinkSync('/proc/self/ns/pid_for_children'), fs.readlinkSync('/proc/self/ns/pid'), 'skiff left its own pid namespace as it was');
  t.equal(rt.run(['delete', '-f', id]).code, 0);
});

t.test('a user namespace with uid and gid mappings', async (t) => {
  const out = inside(t, 'id -u; id -g; cat /proc/self/uid_map; cat /proc/self/gid_map', (s) => {
    s.linux!.namespaces!.push({ type: 'user' });
    s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // sysfs cannot be mounted for a netns that the user namespace does not own: bind it.
    s.mounts = s.mounts!.map((m) => (m.type === 'sysfs' ? { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] } : m));
    // The mapped root must be able to reach the rootfs to bind it: a checkout under /root
    // (0700) is out of its reach, and runc 1.1.5 refuses it alike. A copy under the temp dir.
  }, true);
  const lines = out.split('\n');
  t.equal(lines[0], '0');
  t.equal(lines[1], '0');
  t.match(lines[2], /^\s*0\s+100000\s+65536$/);
  t.match(lines[3], /^\s*0\s+100000\s+65536$/);
});

t.test('process: user, groups, umask, cwd, env, rlimits, noNewPrivileges, capabilities', async (t) => {
  const out = inside(t, 'id -u; id -g; id -G; umask; pwd; echo $FOO; echo $HOME; ulimit -n; grep NoNewPrivs /proc/self/status; grep CapPrm /proc/self/status; grep CapBnd /proc/self/status', (s) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5, 65534], umask: 0o077 };
    s.process!.cwd = '/home/user/work';
    s.process!.env!.push('FOO=bar');
    s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 }];
    s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
  });
  const l = out.split('\n');
  t.equal(l[0], '1000');
  t.equal(l[1], '1000');
  t.same(l[2].split(' ').sort(), ['1000', '5', '65534']);
  t.equal(l[3], '0077');
  t.equal(l[4], '/home/user/work', 'cwd created and entered');
  t.equal(l[5], 'bar');
  t.equal(l[6], '/home/user', 'HOME from the container passwd');
  t.equal(l[7], '512');
  t.match(l[8], /NoNewPrivs:\s+1/);
  t.match(l[9], /CapPrm:\s+0000000000000000/, 'a non-root user without ambient caps has none after exec, as with runc');
  t.match(l[10], /CapBnd:\s+0000000000000021/, 'bounding is CAP_CHOWN|CAP_KILL');
});

t.test('root gets exactly the configured sets', async (t) => {
  const out = inside(t, 'grep -E "Cap(Eff|Prm|Bnd|Inh|Amb)" /proc/self/status', (s) => {
    s.process!.capabilities = { bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_CHOWN'] };
  });
  // execve as uid 0 makes permitted = effective = what the bounding set allows (runc alike).
  t.match(out, /CapInh:\s+0000000000000000/);
  t.match(out, /CapPrm:\s+0000000000000021/);
  t.match(out, /CapEff:\s+0000000000000021/);
  t.match(out, /CapBnd:\s+0000000000000021/);
  t.match(out, /CapAmb:\s+0000000000000000/);
});

t.test('unknown capability names are refused by name', async (t) => {
  const b = makeBundle({ edit: (s) => { s.process!.capabilities!.bounding!.push('CAP_NOT_A_CAP'); } });
  const r = rt.run(['run', '-b', b.dir, uniqueId('badcap')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /process\.capabilities\.bounding: unknown capability \\"CAP_NOT_A_CAP\\"/);
});

t.test('capabilities are kept for root and ambient ones survive exec', async (t) => {
  const out = inside(t, 'grep -E "Cap(Eff|Amb|Inh)" /proc/self/status', (s) => {
    const c = ['CAP_NET_RAW', 'CAP_SYS_ADMIN'];
    s.process!.user = { uid: 1000, gid: 1000 };
    s.process!.capabilities = { bounding: c, effective: c, permitted: c, inheritable: c, ambient: ['CAP_NET_RAW'] };
  });
  t.match(out, /CapInh:\s+0000000000202000/);
  t.match(out, /CapEff:\s+0000000000002000/, 'a non-root user keeps only the ambient cap after exec');
  t.match(out, /CapAmb:\s+0000000000002000/);
});

t.test('oomScoreAdj', async (t) => {
  t.equal(inside(t, 'cat /proc/self/oom_score_adj', (s) => { s.process!.oomScoreAdj = 500; }).trim(), '500');
});

t.test('mounts: bind ro, tmpfs size/mode, proc, sysfs, devpts, mqueue, cgroup', async (t) => {
  const src = tmpDir('bindsrc');
  fs.writeFileSync(path.join(src, 'hello'), 'from host\n');
  const out = inside(t, [
    'cat /data/hello', 'echo x > /data/new 2>/dev/null && echo rw || echo ro',
    'stat -c %a /scratch', 'df -k /scratch | tail -1 | awk "{print \\$2}"',
    'mount | grep -E " on /(proc|sys|dev/pts|dev/mqueue|sys/fs/cgroup) " | awk "{print \\$3, \\$5}" | sort',
    'ls /sys/fs/cgroup | tr "\\n" " "',
  ].join('; '), (s) => {
    s.mounts!.push({ destination: '/data', type: 'bind', source: src, options: ['rbind', 'ro'] });
    s.mounts!.push({ destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['size=1024k', 'mode=1770'] });
  });
  const l = out.split('\n');
  t.equal(l[0], 'from host');
  t.equal(l[1], 'ro', 'the bind is read-only');
  t.equal(l[2], '1770');
  t.equal(l[3], '1024');
  const mounts = l.slice(4, 9).join('\n');
  for (const m of ['/proc proc', '/sys sysfs', '/dev/pts devpts', '/dev/mqueue mqueue']) t.match(mounts, m);
  t.match(l.join('\n'), /\/sys\/fs\/cgroup (cgroup2|tmpfs)/);
  t.match(out, /memory|cgroup\.procs/, 'the container sees its cgroups');
  t.equal(fs.existsSync(path.join(src, 'new')), false, 'nothing written to the host');
});

t.test('missing mount destinations are created inside the rootfs, never outside', async (t) => {
  const b = makeBundle({ copyRootfs: true, args: ['sh', '-c', 'ls -d /a/b/c && touch /a/b/c/f'], edit: (s) => {
    s.root!.readonly = false;
    s.mounts!.push({ destination: '/a/b/c', type: 'tmpfs', source: 'tmpfs' });
  } });
  const r = rt.run(['run', '-b', b.dir, uniqueId('mkdir')]);
  t.equal(r.code, 0, r.stderr);
  t.ok(fs.statSync(path.join(b.rootfs, 'a/b/c')).isDirectory());
});

t.test('root.readonly, maskedPaths and readonlyPaths', async (t) => {
  const out = inside(t, [
    'touch /x 2>/dev/null && echo root-rw || echo root-ro',
    'cat /proc/timer_list 2>&1 | wc -c', 'ls /sys/firmware | wc -l',
    'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-rw || echo sys-ro',
    'echo x > /proc/sysrq-trigger 2>/dev/null && echo trig-rw || echo trig-ro',
  ].join('; '));
  t.same(out.split('\n').slice(0, 5), ['root-ro', '0', '0', 'sys-ro', 'trig-ro']);
});

t.test('devices: defaults, /dev symlinks, linux.devices, and the device cgroup', async (t) => {
  const out = inside(t, [
    'ls -l /dev/null /dev/zero /dev/full /dev/tty /dev/random /dev/urandom | awk "{print \\$1, \\$5, \\$6}"',
    'readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx', 'ls -l /dev/loopx | awk "{print \\$1, \\$5, \\$6}"',
    'head -c 1 /dev/loopx 2>&1 | grep -o "Operation not permitted"',
  ].join('; '), (s) => {
    s.linux!.devices = [{ type: 'b', path: '/dev/loopx', major: 7, minor: 0, fileMode: 0o600 }];
  });
  const l = out.split('\n');
  // ls sorts: full, null, random, tty, urandom, zero
  t.same(l.slice(0, 6), ['crw-rw-rw- 1, 7', 'crw-rw-rw- 1, 3', 'crw-rw-rw- 1, 8', 'crw-rw-rw- 5, 0', 'crw-rw-rw- 1, 9', 'crw-rw-rw- 1, 5']);
  t.same(l.slice(6, 9), ['/proc/self/fd', '/proc/self/fd/0', 'pts/ptmx']);
  t.equal(l[9], 'brw------- 7, 0');
  t.equal(l[10], 'Operation not permitted', 'not in the allow list of the device cgroup');
});

t.test('sysctl', async (t) => {
  const out = inside(t, 'cat /proc/sys/net/ipv4/ip_forward; cat /proc/sys/kernel/msgmax; echo 0 > /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo ro-after', (s) => {
    // With the default readonlyPaths, as Docker sends them: /proc/sys is read-only afterwards.
    s.linux!.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.msgmax': '4096', 'net.ipv4.ip_unprivileged_port_start': '0' };
  });
  t.same(out.split('\n').slice(0, 2), ['1', '4096']);
  t.match(out, /ro-after/, '/proc/sys is read-only for the process');
});

t.test('rootfsPropagation and a relative root.path', async (t) => {
  const b = makeBundle({ copyRootfs: true, args: ['sh', '-c', 'awk "\\$5 == \\"/\\"" /proc/self/mountinfo'], edit: (s) => {
    s.linux!.rootfsPropagation = 'private';
  } });
  const r = rt.run(['run', '-b', b.dir, uniqueId('prop')]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, / \/ /, 'the root mount line');
  t.notMatch(r.stdout, /shared:|master:/, 'private: no peer group');
});

t.test('--no-pivot uses MS_MOVE + chroot', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'ls / | wc -l'] });
  const r = rt.run(['run', '--no-pivot', '-b', b.dir, uniqueId('nopivot')]);
  t.equal(r.code, 0, r.stderr);
  t.ok(Number(r.stdout.trim()) > 5);
});

t.test('--preserve-fds passes fds 3.. and nothing else leaks', async (t) => {
  const b = makeBundle({ args: ['sh', '-c', 'for n in 3 4 5 6 7 8 9; do [ -e /proc/$$/fd/$n ] && echo has-$n; done; cat <&3'] });
  const file = path.join(tmpDir('fd'), 'f');
  fs.writeFileSync(file, 'through fd 3\n');
  const { spawnSync } = await import('child_process');
  const { SKIFF, testEnv } = await import('../lib/harness');
  const fd3 = fs.openSync(file, 'r');
  const fd4 = fs.openSync(file, 'r');
  const r = spawnSync(SKIFF, ['--root', rt.root, 'run', '--preserve-fds', '1', '-b', b.dir, uniqueId('fds')], {
    stdio: ['ignore', 'pipe', 'pipe', fd3, fd4], encoding: 'utf8', env: testEnv(),
  });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, 'has-3\nthrough fd 3\n', 'fd 3 only: fd 4 was not preserved, nothing else leaked');
  t.match(r.stdout, /through fd 3/);
});

t.test('a new session keyring unless --no-new-keyring', async (t) => {
  const unmasked = (s: Spec) => { s.linux!.maskedPaths = s.linux!.maskedPaths!.filter((p) => p !== '/proc/keys'); };
  // Other containers' keyrings may be visible too: look for this one's by name.
  const count = (id: string, flags: string[]) => {
    const b = makeBundle({ args: ['sh', '-c', `grep -c " _ses\\.${id}:" /proc/keys || true`], edit: unmasked });
    return rt.run(['run', ...flags, '-b', b.dir, id]).stdout.trim();
  };
  t.equal(count(uniqueId('keyring'), []), '1', 'a session keyring named after the container');
  t.equal(count(uniqueId('keyring'), ['--no-new-keyring']), '0', 'none with --no-new-keyring');
});
