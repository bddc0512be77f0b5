// runc parity (issue 15), the kernel-facing groups: seccomp, terminals, mounts. Each case runs
// the same bundle under Debian's runc 1.1.5 and under Skiff and expects the same outcome.
import t from 'tap';
import { execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { differential, makeBundle, tmpDir, uniqueId, waitFor, REPO } from '../lib/harness';
import type { Runtime } from '../lib/harness';
import { fdReceiver } from '../lib/fd-receiver';
import type { Spec } from '../../src/oci/spec';

const d = differential();
t.teardown(() => d.cleanup());

const ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

// A seccomp agent (test/lib/seccomp-agent.py) on a fresh socket; `lines()` is what it printed.
async function startAgent(...flags: string[]) {
  const sock = path.join(tmpDir('pk-agent'), 'agent.sock');
  const agent = spawn('python3', [path.join(REPO, 'test', 'lib', 'seccomp-agent.py'), sock, ...flags], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  agent.stdout.on('data', (c) => { out += c; });
  await waitFor(() => out.includes('LISTENING'), 5000, 'agent listening');
  const exited = new Promise((res) => agent.on('exit', res));
  return {
    sock,
    lines: () => out.split('\n').filter(Boolean),
    states: () => out.split('\n').filter((l) => l.startsWith('STATE ')).map((l) => JSON.parse(l.slice(6))),
    done: async () => { await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]); agent.kill(); },
  };
}

const notify = (sock: string, names: string[]) => ({
  defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES, listenerPath: sock, listenerMetadata: 'pk',
  syscalls: [{ names, action: 'SCMP_ACT_NOTIFY' }],
});

// A static probe that calls syscalls by number and prints each one's errno, bound in at /probe.
let probeDir: string | undefined;
function probe(): string {
  if (probeDir) return probeDir;
  probeDir = tmpDir('pk-probe');
  fs.chmodSync(probeDir, 0o755);
  const src = path.join(probeDir, 'sysno.c');
  fs.writeFileSync(src, [
    '#include <errno.h>', '#include <stdio.h>', '#include <stdlib.h>', '#include <string.h>', '#include <unistd.h>',
    'int main(int c, char** v) { for (int i = 1; i < c; i++) { long r = syscall(strtol(v[i], 0, 0), 0, 0, 0);',
    '  printf("%s:%s\\n", v[i], r < 0 ? strerror(errno) : "ok"); } return 0; }', ''].join('\n'));
  execFileSync('gcc', ['-static', '-O2', '-o', path.join(probeDir, 'sysno'), src]);
  return probeDir;
}
const withProbe = (s: Spec) => { s.mounts!.push({ destination: '/probe', type: 'bind', source: probe(), options: ['rbind', 'ro'] }); };

// The x86_64 syscalls the kernel headers name, by number.
function x86Syscalls(): Map<string, number> {
  const h = fs.readFileSync('/usr/include/x86_64-linux-gnu/asm/unistd_64.h', 'utf8');
  return new Map([...h.matchAll(/#define __NR_(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
}

t.test('seccomp: syscalls above the largest one the profile names get ENOSYS, as runc patches its BPF', async (t) => {
  // Everything below 335 is allowed but getppid (110): 110 gets the default EPERM, 440 (a
  // newer call than any the profile names) and 1000 (no such syscall) get ENOSYS.
  const names = [...x86Syscalls()].filter(([n, nr]) => nr < 335 && n !== 'getppid').map(([n]) => n);
  const run = (rt: Runtime, profile: Record<string, unknown>) => {
    const b = makeBundle({ args: ['/probe/sysno', '110', '440', '1000'], edit: (s) => { withProbe(s); s.linux!.seccomp = profile; } });
    return rt.run(['run', '-b', b.dir, uniqueId('pk-enosys')]);
  };
  const denyList = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ARCHES, syscalls: [{ names, action: 'SCMP_ACT_ALLOW' }] };
  const [rc, sk] = d.both((rt) => run(rt, denyList));
  t.equal(rc.stdout, '110:Operation not permitted\n440:Function not implemented\n1000:Function not implemented\n', `runc: ${rc.stderr}`);
  t.equal(sk.stdout, rc.stdout, sk.stderr);
  // A permissive default is left alone: the kernel's own answers.
  const allow = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES, syscalls: [{ names: ['getppid'], action: 'SCMP_ACT_ERRNO' }] };
  const [rc2, sk2] = d.both((rt) => run(rt, allow));
  t.equal(sk2.stdout, rc2.stdout, sk2.stderr);
  t.match(sk2.stdout, /110:Operation not permitted\n440:\w[^\n]*\n1000:Function not implemented/);
});

t.test('seccomp: notify on write is refused in runc words', async (t) => {
  const [rc, sk] = d.both((rt) => {
    const b = makeBundle({ edit: (s) => { s.linux!.seccomp = notify('/nonexistent/agent.sock', ['write']); } });
    return rt.run(['run', '-b', b.dir, uniqueId('pk-write')]);
  });
  t.equal(sk.code, rc.code);
  const words = 'unable to start container process: unable to init seccomp: SCMP_ACT_NOTIFY cannot be used for the write syscall';
  t.match(rc.stderr, words);
  t.match(sk.stderr, words);
});

t.test('seccomp: run with notify on execve/openat/read/close does not hang: the listener goes first', async (t) => {
  for (const nnp of [true, false]) {
    const results = [];
    for (const rt of [d.rc, d.sk]) {
      const agent = await startAgent('--continue');
      const b = makeBundle({ args: ['sh', '-c', 'cat /etc/passwd >/dev/null && echo read-ok'], edit: (s) => {
        s.process!.noNewPrivileges = nnp;
        s.linux!.seccomp = notify(agent.sock, ['execve', 'openat', 'read', 'close']);
      } });
      const r = rt.run(['run', '-b', b.dir, uniqueId('pk-nohang')], { timeout: 20_000 });
      await agent.done();
      results.push({ r, notified: agent.lines().some((l) => /^NOTIF nr=59$/.test(l)) });
    }
    const [a, b] = results;
    t.equal(a.r.stdout, 'read-ok\n', `runc nnp=${nnp}: ${a.r.stderr}`);
    t.equal(b.r.code, a.r.code, `nnp=${nnp}: ${b.r.stderr}`);
    t.equal(b.r.stdout, a.r.stdout);
    t.ok(a.notified && b.notified, 'execve reached the agent under both');
  }
});

t.test('seccomp: exec sends its own listener to the agent, with the exec process state', async (t) => {
  const results = [];
  for (const rt of [d.rc, d.sk]) {
    const agent = await startAgent('--connections', '2');
    const id = uniqueId('pk-execntf');
    const b = makeBundle({ args: ['sleep', '100'], edit: (s) => { s.linux!.seccomp = notify(agent.sock, ['mkdir', 'mkdirat']); } });
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    const initPid = rt.state(id).pid;
    // The fake agent answers success without running the call: the directory never appears.
    const e = rt.run(['exec', id, 'sh', '-c', 'mkdir /dev/shm/n; echo mkdir=$?; ls /dev/shm/n 2>/dev/null || echo absent'], { timeout: 20_000 });
    rt.run(['delete', '-f', id]);
    await agent.done();
    results.push({ e, states: agent.states(), initPid, notified: agent.lines().some((l) => /^NOTIF nr=(83|258)$/.test(l)) });
  }
  const [a, b] = results;
  t.equal(a.e.stdout, 'mkdir=0\nabsent\n', `runc: ${a.e.stderr}`);
  t.equal(b.e.stdout, a.e.stdout, b.e.stderr);
  t.ok(b.notified, 'the exec process mkdir reached the agent');
  for (const r of [a, b]) {
    t.equal(r.states.length, 2, 'one listener for the init, one for exec');
    const ex = r.states[1];
    t.same(ex.fds, ['seccompFd']);
    t.equal(ex.metadata, 'pk');
    t.equal(ex.state.status, 'running');
    t.equal(ex.state.pid, r.initPid, 'the state names the init');
    t.not(ex.pid, r.initPid, 'pid is the exec process');
  }
});

// Not differential on purpose: runc 1.1.5 loads the filter before it runs startContainer hooks
// (its hook's mkdir gets the filter's EPERM), against the runtime-spec, where the hook is the
// runtime's and the filter the user process's. Skiff keeps the spec's order.
t.test('seccomp: startContainer hooks run before the filter is applied', async (t) => {
  for (const nnp of [true, false]) {
    const b = makeBundle({ args: ['sh', '-c', 'ls -d /dev/shm/hooked && mkdir /dev/shm/late 2>&1; true'], edit: (s) => {
      s.process!.noNewPrivileges = nnp;
      s.hooks = { startContainer: [{ path: '/bin/mkdir', args: ['mkdir', '/dev/shm/hooked'] }] };
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] };
    } });
    const r = d.sk.run(['run', '-b', b.dir, uniqueId('pk-hookfilter')]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^\/dev\/shm\/hooked\nmkdir: can't create directory '\/dev\/shm\/late': Operation not permitted/, `nnp=${nnp}: the hook's mkdir ran, the process's was filtered`);
  }
});

// The owner (uid gid) of the process's terminal, as the process sees it.
const TTY_OWNER = 'ls -ln $(tty) | awk "{print \\"owner\\", \\$3, \\$4}"';

// The payload of the console socket's message is the master's name, which runc gives as the
// file it opened (/dev/ptmx), on run and on exec -t alike.
t.test('terminal: the console socket\'s message names the master as runc does', async (t) => {
  const names: Record<string, string[]> = {};
  for (const rt of [d.rc, d.sk]) {
    const id = uniqueId('pk-ttyname');
    const run = await fdReceiver('console');
    const b = makeBundle({ args: ['sleep', '100'], edit: (s) => { s.process!.terminal = true; } });
    t.equal(rt.run(['run', '-d', '--console-socket', run.sock, '-b', b.dir, id]).code, 0);
    const exec = await fdReceiver('console');
    t.equal(rt.run(['exec', '-t', '-d', '--console-socket', exec.sock, id, 'true']).code, 0);
    await exec.output();
    run.stop();
    names[rt.name] = [run, exec].map((r) => r.lines.find((l) => l.startsWith('NAME ')) ?? '');
    rt.run(['delete', '-f', id]);
  }
  t.same(names.runc, ['NAME /dev/ptmx', 'NAME /dev/ptmx'], 'runc');
  t.same(names.skiff, names.runc, 'skiff: the same');
});

t.test('terminal: the pty belongs to the process user on a terminal container', async (t) => {
  const outs: string[] = [];
  for (const rt of [d.rc, d.sk]) {
    const cs = await fdReceiver('console');
    const b = makeBundle({ args: ['sh', '-c', TTY_OWNER], edit: (s) => { s.process!.terminal = true; s.process!.user = { uid: 1000, gid: 1000 }; } });
    const r = rt.run(['run', '-d', '--console-socket', cs.sock, '-b', b.dir, uniqueId('pk-tty')]);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    outs.push((await cs.output()).match(/owner .*/)?.[0] ?? '');
  }
  t.equal(outs[0], 'owner 1000 5', 'runc: the uid is the user\'s, the gid devpts\' tty');
  t.equal(outs[1], outs[0]);
});

t.test('terminal: exec -t gives its pty to the exec user', async (t) => {
  const outs: string[] = [];
  for (const rt of [d.rc, d.sk]) {
    const id = uniqueId('pk-exectty');
    const b = makeBundle({ args: ['sleep', '100'] });
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    const cs = await fdReceiver('console');
    const r = rt.run(['exec', '-t', '-d', '--console-socket', cs.sock, '--user', '1000:1000', id, 'sh', '-c', TTY_OWNER]);
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    outs.push((await cs.output()).match(/owner .*/)?.[0] ?? '');
    rt.run(['delete', '-f', id]);
  }
  t.equal(outs[0], 'owner 1000 5');
  t.equal(outs[1], outs[0]);
});

t.test('mounts: a read-only /dev gets its devices, /dev/pts and console first, and is read-only after', async (t) => {
  const script = 'ls /dev | tr "\\n" " "; echo; grep " /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1; touch /dev/x 2>&1; ls /dev/pts | wc -l';
  const ro = (s: Spec) => { s.mounts!.find((m) => m.destination === '/dev')!.options!.push('ro'); };
  const [rc, sk] = d.both((rt) => rt.run(['run', '-b', makeBundle({ args: ['sh', '-c', script], edit: ro }).dir, uniqueId('pk-rodev')]));
  t.match(rc.stdout, /null.*pts.*\nro\ntouch: \/dev\/x: Read-only file system\n/, `runc: ${rc.stderr}`);
  t.equal(sk.code, rc.code, sk.stderr);
  t.equal(sk.stdout, rc.stdout);
  // With a terminal: /dev/console is bound to the pty before /dev turns read-only.
  const outs: string[] = [];
  for (const rt of [d.rc, d.sk]) {
    const cs = await fdReceiver('console');
    const b = makeBundle({ args: ['sh', '-c', 'ls -l /dev/console | cut -c1-10; grep " /dev " /proc/mounts | cut -d" " -f4 | cut -d, -f1'], edit: (s) => { ro(s); s.process!.terminal = true; } });
    t.equal(rt.run(['run', '-d', '--console-socket', cs.sock, '-b', b.dir, uniqueId('pk-rodevtty')]).code, 0);
    outs.push((await cs.output()).split('\n').slice(2).join('\n'));
  }
  t.equal(outs[0], 'crw--w----\nro\n', 'runc');
  t.equal(outs[1], outs[0]);
});

t.test('hooks: createContainer hooks run with the rootfs as their working directory', async (t) => {
  const dir = tmpDir('pk-hookcwd');
  fs.chmodSync(dir, 0o755);
  const [rc, sk] = d.both((rt) => {
    const out = path.join(dir, rt.name);
    const b = makeBundle({ edit: (s) => { s.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `pwd > ${out}`] }] }; } });
    const r = rt.run(['run', '-b', b.dir, uniqueId('pk-hookcwd')], { cwd: '/' });
    t.equal(r.code, 0, `${rt.name}: ${r.stderr}`);
    return { cwd: fs.readFileSync(out, 'utf8').trim(), rootfs: b.rootfs };
  });
  t.equal(rc.cwd, fs.realpathSync(rc.rootfs), 'runc: the rootfs');
  t.equal(sk.cwd, rc.cwd);
});

t.test('user namespace: bind sources only the host root can reach are taken on the host side', async (t) => {
  // A 0700 directory (mkdtemp's mode) holding a directory and a file: the mapped root cannot
  // walk into it, the runtime (host root) can.
  const hidden = tmpDir('pk-hidden');
  fs.mkdirSync(path.join(hidden, 'data'));
  fs.writeFileSync(path.join(hidden, 'data', 'file'), 'inside\n');
  fs.writeFileSync(path.join(hidden, 'single'), 'single\n', { mode: 0o644 });
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const [rc, sk] = d.both((rt) => {
    const b = makeBundle({ copyRootfs: true, args: ['sh', '-c', 'cat /home/file /etc/group; grep -E " /home | /etc/group " /proc/mounts | cut -d" " -f2,4 | cut -d, -f1'], edit: (s) => {
      s.root!.readonly = true;
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = map;
      s.linux!.gidMappings = map;
      s.mounts!.push({ destination: '/home', type: 'bind', source: path.join(hidden, 'data'), options: ['rbind', 'ro'] });
      s.mounts!.push({ destination: '/etc/group', type: 'bind', source: path.join(hidden, 'single'), options: ['bind'] });
    } });
    return rt.run(['run', '-b', b.dir, uniqueId('pk-hidden')]);
  });
  t.equal(rc.stdout, 'inside\nsingle\n/home ro\n/etc/group rw\n', `runc: ${rc.stderr}`);
  t.equal(sk.code, rc.code, sk.stderr);
  t.equal(sk.stdout, rc.stdout);
});

// runc's no-pivot path (msMoveRoot) detaches the host's full proc and sysfs mounts from the
// container's mount namespace, or covers them with a tmpfs where a user namespace locks them;
// Skiff does the same. Whether the container may then mount a fresh proc is the kernel's call
// (mount_too_revealing): the same under both, with and without a user namespace; without
// CAP_SYS_ADMIN it is EPERM under both.
t.test('mounts: --no-pivot, in a user namespace or not, gives what runc gives to a fresh proc mount', async (t) => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  // What the fresh proc shows, without a race: a count of pids would include ls and grep of
  // the pipeline or not, as they happen to start.
  const script = 'mkdir /dev/shm/p; umount -l /proc; mount -t proc proc /dev/shm/p 2>&1; echo rc=$?; cat /dev/shm/p/1/comm; readlink /dev/shm/p/self >/dev/null && echo self';
  for (const [userns, sysAdmin] of [[false, true], [true, true], [true, false]]) {
    const [rc, sk] = d.both((rt) => {
      const b = makeBundle({ copyRootfs: userns, args: ['sh', '-c', script], edit: (s) => {
        if (sysAdmin) for (const k of ['bounding', 'effective', 'permitted'] as const) s.process!.capabilities![k]!.push('CAP_SYS_ADMIN');
        if (!userns) return;
        s.linux!.namespaces!.push({ type: 'user' });
        s.linux!.uidMappings = map;
        s.linux!.gidMappings = map;
      } });
      return rt.run(['run', '--no-pivot', '-b', b.dir, uniqueId('pk-nopivot')]);
    });
    // Without CAP_SYS_ADMIN neither the umount nor the fresh mount is allowed (EPERM).
    t.match(rc.stdout, sysAdmin ? /rc=0\nsh\nself\n/ : /permission denied.*\nrc=1\n/, `runc userns=${userns} CAP_SYS_ADMIN=${sysAdmin}: ${rc.stderr}`);
    t.equal(sk.code, rc.code, sk.stderr);
    t.equal(sk.stdout, rc.stdout, `userns=${userns} CAP_SYS_ADMIN=${sysAdmin}`);
  }
});
