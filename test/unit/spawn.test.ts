// The parent's side of the handshake, driven by a scripted addon: no root, no clone.
import t from 'tap';
import { Sync, useAddonForTests } from '../../src/native';
import type { Addon, SyncMessage } from '../../src/native';
import { spawn } from '../../src/launch/spawn';
import { SkiffError } from '../../src/errors';

// A pid no process has (above pid_max's ceiling), so the kill on failure finds nothing.
const FAKE_PID = 4_194_305;

function scripted(replies: (Partial<SyncMessage> | null)[], log: string[]): Addon {
  const queue = [...replies];
  const fake: Partial<Addon> = {
    spawnInit: () => { log.push('clone'); return { pid: FAKE_PID, syncFd: 7 }; },
    syncSend: (_fd: number, type: Sync) => { log.push(`send ${type}`); },
    syncRecv: () => {
      const r = queue.shift();
      if (r === undefined) throw new Error('the child has nothing more to say');
      log.push(r ? `recv ${r.type}` : 'recv EOF');
      return r ? ({ errno: 0, step: '', detail: '', message: '', ...r } as SyncMessage) : null;
    },
    closeFd: () => { log.push('close'); },
    waitPidSync: () => { log.push('reap'); return null; },
  };
  return fake as Addon;
}

const plan = {} as Parameters<typeof spawn>[0];
t.teardown(() => useAddonForTests(undefined));

t.test('init: GO after placement, hooks at CREATE_RUNTIME, done at READY', async (t) => {
  const log: string[] = [];
  useAddonForTests(scripted([{ type: Sync.CreateRuntime }, { type: Sync.Ready }], log));
  const r = spawn(plan, {
    placed: (pid) => log.push(`placed ${pid}`),
    createRuntime: () => log.push('hooks'),
    exitedDuringSetup: () => new SkiffError('setup', 'gone'),
  });
  t.equal(r.pid, FAKE_PID);
  t.same(log, ['clone', `placed ${FAKE_PID}`, `send ${Sync.Go}`, `recv ${Sync.CreateRuntime}`, 'hooks', `send ${Sync.HooksDone}`, `recv ${Sync.Ready}`]);
});

t.test("an ERROR is the child's words, and the child is killed, reaped and its socket closed", async (t) => {
  const log: string[] = [];
  useAddonForTests(scripted([{ type: Sync.Error, errno: 1, step: 'mount proc on', detail: '/proc', message: 'Operation not permitted' }], log));
  t.throws(() => spawn(plan, { errorPrefix: 'pre: ', placed: () => {}, exitedDuringSetup: () => new SkiffError('setup', 'gone') }),
    /^pre: mount proc on \/proc: operation not permitted$/);
  t.same(log.slice(-2), ['close', 'reap']);
});

t.test('EOF before READY is the caller\'s words; an unexpected message is named', async (t) => {
  useAddonForTests(scripted([null], []));
  t.throws(() => spawn(plan, { placed: () => {}, exitedDuringSetup: () => new SkiffError('setup', 'init died') }), /^init died$/);
  useAddonForTests(scripted([{ type: Sync.CreateRuntime }], []));
  t.throws(() => spawn(plan, { placed: () => {}, exitedDuringSetup: () => new SkiffError('setup', 'x') }),
    /container init sent CREATE_RUNTIME where READY was due/, 'exec has no CREATE_RUNTIME step');
});

t.test('a failure in placement kills the child before anything is sent', async (t) => {
  const log: string[] = [];
  useAddonForTests(scripted([], log));
  t.throws(() => spawn(plan, { placed: () => { throw new SkiffError('setup', 'no cgroup'); }, exitedDuringSetup: () => new SkiffError('setup', 'x') }), /no cgroup/);
  t.same(log, ['clone', 'close', 'reap']);
});
