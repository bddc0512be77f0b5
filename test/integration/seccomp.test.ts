// linux.seccomp on real containers: every action and operator, checked from inside, and the
// same profiles under runc for comparison.
import t from 'tap';
import { makeBundle, runc, skiff, uniqueId, Runtime } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });

const ARCHES = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];

function withSeccomp(rt: Runtime, script: string, seccomp: Record<string, unknown>, edit?: (s: Spec) => void) {
  const b = makeBundle({ args: ['sh', '-c', script], edit: (s) => { s.linux!.seccomp = seccomp; edit?.(s); } });
  return rt.run(['run', '-b', b.dir, uniqueId('sec')]);
}

const allowBut = (names: string[], action: string, extra: Record<string, unknown> = {}) => ({
  defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES, syscalls: [{ names, action, ...extra }],
});

t.test('SCMP_ACT_ERRNO with the default EPERM and with errnoRet', async (t) => {
  const r = withSeccomp(sk, 'mkdir /tmp/x 2>&1; echo rc=$?', allowBut(['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO'));
  t.match(r.stdout, /Operation not permitted/);
  const e = withSeccomp(sk, 'mkdir /tmp/x 2>&1', allowBut(['mkdir', 'mkdirat'], 'SCMP_ACT_ERRNO', { errnoRet: 38 }));
  t.match(e.stdout, /Function not implemented/, 'errnoRet 38 = ENOSYS');
});

t.test('SCMP_ACT_KILL, KILL_THREAD, KILL_PROCESS and TRAP end the process with SIGSYS', async (t) => {
  for (const act of ['SCMP_ACT_KILL', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP']) {
    // sh (pid 1) forks `sync`, which dies of SIGSYS: sh reports 128+31 as its status.
    const s = withSeccomp(sk, 'sync; echo status=$?', allowBut(['sync'], act));
    t.match(s.stdout, /status=159/, `${act}: SIGSYS`);
  }
});

t.test('SCMP_ACT_LOG and SCMP_ACT_ALLOW let the call through; SCMP_ACT_TRACE without a tracer fails it', async (t) => {
  t.match(withSeccomp(sk, 'mkdir /dev/shm/x && echo made', allowBut(['mkdir', 'mkdirat'], 'SCMP_ACT_LOG')).stdout, /made/);
  t.match(withSeccomp(sk, 'mkdir /dev/shm/x && echo made', { defaultAction: 'SCMP_ACT_LOG', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ALLOW' }] }).stdout, /made/);
  t.match(withSeccomp(sk, 'mkdir /dev/shm/x 2>&1', allowBut(['mkdir', 'mkdirat'], 'SCMP_ACT_TRACE', { errnoRet: 1 })).stdout, /Function not implemented/);
});

t.test('every operator on a syscall argument', async (t) => {
  // kill(pid, sig): arg 1 is the signal. The shell ignores USR1/USR2/HUP via trap.
  const probe = 'trap "" USR1 USR2 HUP; for s in 1 10 12; do kill -$s $$ 2>/dev/null && echo $s:ok || echo $s:denied; done';
  const cases: [string, Record<string, number>, string][] = [
    ['SCMP_CMP_EQ', { value: 10 }, '1:ok 10:denied 12:ok'],
    ['SCMP_CMP_NE', { value: 10 }, '1:denied 10:ok 12:denied'],
    ['SCMP_CMP_LT', { value: 10 }, '1:denied 10:ok 12:ok'],
    ['SCMP_CMP_LE', { value: 10 }, '1:denied 10:denied 12:ok'],
    ['SCMP_CMP_GT', { value: 10 }, '1:ok 10:ok 12:denied'],
    ['SCMP_CMP_GE', { value: 10 }, '1:ok 10:denied 12:denied'],
    ['SCMP_CMP_MASKED_EQ', { value: 0x8, valueTwo: 0x8 }, '1:ok 10:denied 12:denied'],
  ];
  for (const [op, v, expect] of cases) {
    const r = withSeccomp(sk, probe, allowBut(['kill'], 'SCMP_ACT_ERRNO', { args: [{ index: 1, op, ...v }] }));
    t.equal(r.stdout.trim().split('\n').join(' '), expect, op);
  }
  // Two conditions on distinct arguments are ANDed: pid == 1 and sig == 10.
  const and = withSeccomp(sk, probe, allowBut(['kill'], 'SCMP_ACT_ERRNO', {
    args: [{ index: 0, op: 'SCMP_CMP_EQ', value: 1 }, { index: 1, op: 'SCMP_CMP_EQ', value: 10 }],
  }));
  t.equal(and.stdout.trim().split('\n').join(' '), '1:ok 10:denied 12:ok', 'AND across arguments');
  // Two on the same argument become separate rules (runc's rule): sig == 10 or sig == 12.
  const or = withSeccomp(sk, probe, allowBut(['kill'], 'SCMP_ACT_ERRNO', {
    args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 10 }, { index: 1, op: 'SCMP_CMP_EQ', value: 12 }],
  }));
  t.equal(or.stdout.trim().split('\n').join(' '), '1:ok 10:denied 12:denied', 'OR on one argument');
});

t.test('unknown syscall names are skipped, flags are accepted, noNewPrivileges false works', async (t) => {
  const r = withSeccomp(sk, 'mkdir /tmp/x 2>&1; grep Seccomp: /proc/self/status',
    { ...allowBut(['mkdir', 'mkdirat', 'no_such_syscall_anywhere'], 'SCMP_ACT_ERRNO'), flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'] },
    (s) => { s.process!.noNewPrivileges = false; });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /Operation not permitted/);
  t.match(r.stdout, /Seccomp:\s+2/, 'filter mode');
});

t.test('defaultAction with defaultErrnoRet on an allow list', async (t) => {
  // Just what busybox needs to start and report an error; mkdir is not on the list.
  const needed = ['execve', 'brk', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'readlink',
    'getrandom', 'mprotect', 'prctl', 'getuid', 'geteuid', 'getpid', 'exit_group', 'write', 'writev', 'ioctl', 'close'];
  const b = makeBundle({ args: ['mkdir', '/dev/shm/x'], edit: (s) => {
    s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 38, architectures: ARCHES, syscalls: [{ names: needed, action: 'SCMP_ACT_ALLOW' }] };
  } });
  const r = sk.run(['run', '-b', b.dir, uniqueId('sec')]);
  t.equal(r.code, 1);
  t.match(r.stderr, /Function not implemented/, 'ENOSYS from defaultErrnoRet');
});

t.test('bad profiles are refused by field', async (t) => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ defaultAction: 'SCMP_ACT_NOPE' }, /linux\.seccomp\.defaultAction: unknown action/],
    [allowBut(['kill'], 'SCMP_ACT_ERRNO', { args: [{ index: 1, op: 'SCMP_CMP_APPROX', value: 1 }] }), /syscalls\[0\]\.args\[0\]\.op: unknown operator/],
    [allowBut(['kill'], 'SCMP_ACT_ERRNO', { args: [{ index: 9, op: 'SCMP_CMP_EQ', value: 1 }] }), /args\[0\]\.index: must be 0 to 5/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, /architectures\[0\]: unknown architecture/],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_BOGUS'] }, /flags\[0\]: unknown flag/],
    [allowBut(['kill'], 'SCMP_ACT_NOTIFY'), /SCMP_ACT_NOTIFY needs a listenerPath/],
    [{ ...allowBut(['kill'], 'SCMP_ACT_NOTIFY'), listenerPath: '/nonexistent/agent.sock' }, /connect to console socket \/nonexistent\/agent\.sock|agent\.sock/],
  ];
  for (const [profile, re] of bad) {
    const r = withSeccomp(sk, 'true', profile);
    t.equal(r.code, 1);
    t.match(r.stderr, re);
  }
});

t.test('the same profiles under runc give the same results', async (t) => {
  const probe = 'trap "" USR1 USR2 HUP; for s in 1 10 12; do kill -$s $$ 2>/dev/null && echo $s:ok || echo $s:denied; done; mkdir /dev/shm/x 2>&1; sync; echo sync=$?';
  const profiles = [
    allowBut(['kill'], 'SCMP_ACT_ERRNO', { args: [{ index: 1, op: 'SCMP_CMP_GE', value: 10 }] }),
    { defaultAction: 'SCMP_ACT_ALLOW', architectures: ARCHES, syscalls: [
      { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 }, { names: ['sync'], action: 'SCMP_ACT_KILL' }] },
  ];
  for (const p of profiles) {
    const a = withSeccomp(rc, probe, p);
    const b = withSeccomp(sk, probe, p);
    t.equal(b.code, a.code);
    t.equal(b.stdout, a.stdout);
  }
});

t.test('SCMP_ACT_NOTIFY: the listener and the process state reach the agent at listenerPath', async (t) => {
  const { spawn } = await import('child_process');
  const path = await import('path');
  const { tmpDir } = await import('../lib/harness');
  const sock = path.join(tmpDir('agent'), 'agent.sock');
  const agent = spawn('python3', [path.join(__dirname, '..', '..', '..', 'test', 'lib', 'seccomp-agent.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  agent.stdout.on('data', (d) => { out += d; });
  while (!out.includes('LISTENING')) await new Promise((r) => setTimeout(r, 10));
  const b = makeBundle({ args: ['sh', '-c', 'mkdir /dev/shm/notified; echo mkdir=$?; ls -d /dev/shm/notified 2>&1 || echo absent'], edit: (s) => {
    s.linux!.seccomp = { ...allowBut(['mkdir', 'mkdirat'], 'SCMP_ACT_NOTIFY'), listenerPath: sock, listenerMetadata: 'meta-1' };
  } });
  const id = uniqueId('notify');
  const r = sk.run(['run', '-b', b.dir, id]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /mkdir=0\n[^]*absent/, 'the agent answered success without the call running');
  await new Promise((res) => agent.on('exit', res));
  const state = JSON.parse(out.split('\n').find((l) => l.startsWith('STATE '))!.slice(6));
  t.same(state.fds, ['seccompFd']);
  t.equal(state.metadata, 'meta-1');
  t.equal(state.state.id, id);
  t.ok(state.pid > 0);
  t.match(out, /NOTIF nr=(83|258)/, 'mkdir (83) or mkdirat (258) was notified');
});
