// The runc CVE classes, each as an attack a bundle or a container can make, run against Skiff
// and (where it applies) Debian's runc 1.1.5 for comparison. The closing note lists results.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, runc, skiff, tmpDir, uniqueId, Runtime } from '../lib/harness';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });

t.test('CVE-2021-30465 class: a mount target that is a symlink to /etc stays inside the rootfs', async (t) => {
  for (const rt of [sk, rc]) {
    const marker = `skiff-cve-${process.pid}-${rt.name}`;
    const b = makeBundle({ copyRootfs: true, args: ['sh', '-c', `ls -d /etc/${marker}/sub`], edit: (s) => {
      s.root!.readonly = false;
      s.mounts!.push({ destination: `/evil/${marker}/sub`, type: 'tmpfs', source: 'tmpfs' });
    } });
    fs.symlinkSync('/etc', path.join(b.rootfs, 'evil'));
    const r = rt.run(['run', '-b', b.dir, uniqueId('cve30465')]);
    t.equal(fs.existsSync(`/etc/${marker}`), false, `${rt.name}: nothing made in the host's /etc`);
    if (rt === sk) {
      t.equal(r.code, 0, r.stderr);
      t.equal(r.stdout.trim(), `/etc/${marker}/sub`, 'the mount landed in the container\'s own /etc');
    }
    fs.rmSync(`/etc/${marker}`, { recursive: true, force: true });
  }
});

t.test('CVE-2024-21626 class: cwd /proc/self/fd/N never reaches a host directory', async (t) => {
  for (let n = 3; n <= 12; n++) {
    const b = makeBundle({ args: ['sh', '-c', 'pwd; ls ..'], edit: (s) => { s.process!.cwd = `/proc/self/fd/${n}`; } });
    const r = sk.run(['run', '-b', b.dir, uniqueId('cve21626')]);
    if (r.code === 0) {
      t.notMatch(r.stdout, /skiff|state\.json|exec\.fifo|run/, `fd ${n}: ran, but inside the container`);
    } else {
      t.match(r.stderr, /cwd|chdir|not a directory|no such file/i, `fd ${n}: refused (${r.stderr.trim().slice(-80)})`);
    }
    t.same(sk.run(['list', '-q']).stdout, '', `fd ${n}: nothing left behind`);
  }
});

t.test('CVE-2019-5736 class: the runtime binary is unreachable through /proc/PID/exe while a container is set up', async (t) => {
  // A created container's init waits on the exec fifo; a second container in its pid
  // namespace (root, default caps) tries to read and open for writing /proc/1/exe.
  for (const rt of [sk, rc] as Runtime[]) {
    const holder = uniqueId('holder');
    t.equal(rt.run(['create', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, holder]).code, 0);
    const pid = rt.state(holder).pid as number;
    const attacker = makeBundle({ args: ['sh', '-c',
      'readlink /proc/1/exe || echo readlink-denied; head -c 4 /proc/1/exe >/dev/null 2>&1 && echo read-ok || echo read-denied; ' +
      '(echo x >> /proc/1/exe) 2>/dev/null && echo write-ok || echo write-denied'], edit: (s) => {
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
    } });
    const r = rt.run(['run', '-b', attacker.dir, uniqueId('attacker')]);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    t.match(r.stdout, /write-denied/, `${rt.name}: the runtime binary cannot be written through /proc/1/exe`);
    if (rt === sk) {
      // Skiff's init is non-dumpable until execve: the link cannot even be followed.
      t.match(r.stdout, /readlink-denied/, 'skiff: the init\'s exe link is not readable');
      t.match(r.stdout, /read-denied/, 'skiff: the runtime binary cannot be read through it');
    } else {
      // runc 1.1 protects by re-executing from a sealed memfd copy of itself instead.
      t.comment(`runc: ${r.stdout.trim().split('\n').join(', ')}`);
    }
    rt.run(['delete', '-f', holder]);
  }
});

t.test('CVE-2019-19921 / CVE-2023-27561 class: /proc or /sys that is a symlink in the rootfs is refused', async (t) => {
  for (const dir of ['proc', 'sys']) {
    const b = makeBundle({ copyRootfs: true, args: ['true'] });
    const target = tmpDir('hostdir');
    fs.rmSync(path.join(b.rootfs, dir), { recursive: true, force: true });
    fs.symlinkSync(target, path.join(b.rootfs, dir));
    const id = uniqueId('cve19921');
    const r = sk.run(['run', '-b', b.dir, id]);
    t.equal(r.code, 1, `/${dir} symlink refused`);
    // runc's words (its users match them), then the path and the errno.
    t.match(r.stderr, new RegExp(`filesystem \\\\"${dir === 'proc' ? 'proc' : 'sysfs'}\\\\" must be mounted on ordinary directory /${dir}: too many levels of symbolic links`));
    t.equal(fs.readdirSync(target).length, 0, 'nothing mounted or made in the symlink\'s target');
    t.equal(fs.existsSync(path.join(sk.root, id)), false);
  }
});

t.test('CVE-2025-31133 class: masked paths get a verified /dev/null, not what the rootfs planted', async (t) => {
  // A bound /dev whose "null" is a symlink to a host file: the mask must not bind that file.
  const victim = path.join(tmpDir('victim'), 'secret');
  fs.writeFileSync(victim, 'host secret\n');
  const devDir = tmpDir('dev');
  fs.symlinkSync(victim, path.join(devDir, 'null'));
  const b = makeBundle({ args: ['sh', '-c', 'cat /proc/timer_list | wc -c; echo overwrite > /proc/timer_list 2>/dev/null; true'], edit: (s) => {
    s.mounts = s.mounts!.filter((m) => m.destination !== '/dev');
    s.mounts.unshift({ destination: '/dev', type: 'bind', source: devDir, options: ['rbind'] });
  } });
  const r = sk.run(['run', '-b', b.dir, uniqueId('cve31133')]);
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), '0', 'the masked file reads as empty');
  t.equal(fs.readFileSync(victim, 'utf8'), 'host secret\n', 'the host file was neither shown nor written');
});

t.test('no host fd reaches the container process', async (t) => {
  // No pipeline here: sh would hold the pipe's fds while `ls` looks.
  const b = makeBundle({ args: ['sh', '-c', 'for n in $(seq 0 64); do [ -e /proc/$$/fd/$n ] && echo $n; done; true'] });
  const r = sk.run(['run', '-b', b.dir, uniqueId('fds')]);
  t.equal(r.code, 0, r.stderr);
  t.same(r.stdout.trim().split('\n'), ['0', '1', '2'], 'stdio only');
});

t.test('LSM labels the host cannot apply are errors, not skipped', async (t) => {
  if (fs.existsSync('/sys/kernel/security/apparmor')) {
    t.pass('this host has AppArmor: nothing to refuse');
    return;
  }
  const r = sk.run(['run', '-b', makeBundle({ edit: (s) => { s.process!.apparmorProfile = 'docker-default'; } }).dir, uniqueId('aa')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /apparmor: config provided but apparmor not supported/);
  const s = sk.run(['run', '-b', makeBundle({ edit: (s) => { s.process!.selinuxLabel = 'system_u:system_r:container_t:s0'; } }).dir, uniqueId('se')]);
  t.equal(s.code, 1);
  t.match(s.stderr, /selinux: config provided but selinux not supported/);
});
