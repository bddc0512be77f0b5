// The parent's side of the clone and the sync handshake, one for the init (create, run) and
// for exec. The child's messages are expected by name; an ERROR becomes a SkiffError in the
// words of the step that failed, EOF during setup the caller's words.
import { SkiffError, goQuote } from '../errors';
import { native, Sync } from '../native';
import type { NativePlan, SyncMessage } from '../native';
import { killAndReap } from './proc';
import { logDebug } from '../log';

// A failed setup step as the child reported it: "mount proc /proc: operation not permitted".
export function describeChildError(m: SyncMessage): string {
  const cause = m.errno ? m.message.charAt(0).toLowerCase() + m.message.slice(1) : '';
  if (m.step === 'exec' || m.step.startsWith('exec: ')) {
    // Go's exec.LookPath errors, as runc reports them, errno text included.
    const what = m.step === 'exec: stat' ? `stat ${m.detail}` : m.step.slice(6);
    return `exec: ${goQuote(m.detail)}: ${[what, cause].filter(Boolean).join(': ')}`;
  }
  return [m.step, m.detail].filter(Boolean).join(' ') + (cause ? `: ${cause}` : '');
}

const NAMES: Record<number, string> = {
  [Sync.Go]: 'GO', [Sync.CreateRuntime]: 'CREATE_RUNTIME', [Sync.HooksDone]: 'HOOKS_DONE',
  [Sync.Ready]: 'READY', [Sync.Error]: 'ERROR', [Sync.Commit]: 'COMMIT', [Sync.Pid]: 'PID',
};

export class SyncChannel {
  constructor(private fd: number, private errorPrefix: string) {}

  send(type: Sync.Go | Sync.HooksDone | Sync.Commit): void {
    native().syncSend(this.fd, type);
  }

  // The next message, one of `types`; an ERROR throws the child's words, EOF `onEof()`.
  expect(types: Sync[], onEof: () => SkiffError): SyncMessage {
    const m = this.next();
    if (!m) throw onEof();
    if (!types.includes(m.type)) throw this.unexpected(m, types.map((t) => NAMES[t]).join(' or '));
    return m;
  }

  // EOF is success here (the init after COMMIT, exec at execve); an ERROR still throws.
  expectEof(): void {
    const m = this.next();
    if (m) throw this.unexpected(m, 'its end');
  }

  // The child's next message, or null at EOF (a broken socket is one too); an ERROR throws.
  private next(): SyncMessage | null {
    let m: SyncMessage | null;
    try {
      m = native().syncRecv(this.fd);
    } catch {
      return null;
    }
    if (m?.type === Sync.Error) throw new SkiffError('setup', this.errorPrefix + describeChildError(m));
    return m;
  }

  private unexpected(m: SyncMessage, due: string): SkiffError {
    return new SkiffError('setup', `container init sent ${NAMES[m.type] ?? m.type} where ${due} was due`);
  }

  close(): void {
    if (this.fd < 0) return;
    native().closeFd(this.fd);
    this.fd = -1;
  }
}

// What differs between init and exec, at the handshake's steps.
export interface SpawnSteps {
  // Prefixed to the child's error words ("unable to start container process: " for exec).
  errorPrefix?: string;
  // Between clone and GO: id maps, the v1 cgroup join, closing what the child took over.
  placed(pid: number): void;
  // CREATE_RUNTIME: the mounts are done, pivot_root is not: the runtime-namespace hooks.
  createRuntime?(pid: number): void;
  // What to say when the child exits before READY.
  exitedDuringSetup(): SkiffError;
  // Setup failed: undo what placed() did outside the child, before it is killed.
  abandoned?(pid: number): void;
}

// Clones the child of `plan` and drives it to READY. On any failure the child is killed and
// reaped before this throws; on success the caller owns both the pid and the channel.
export function spawn(plan: NativePlan, steps: SpawnSteps): { pid: number; channel: SyncChannel } {
  const spawned = native().spawnInit(plan);
  let pid = spawned.pid;
  const channel = new SyncChannel(spawned.syncFd, steps.errorPrefix ?? '');
  logDebug(`spawn: cloned child ${pid}, it waits for GO`);
  try {
    steps.placed(pid);
    logDebug(`spawn: child ${pid} placed (id maps, cgroups); sending GO`);
    channel.send(Sync.Go);
    for (;;) {
      const due = [...(steps.createRuntime ? [Sync.CreateRuntime] : []), Sync.Ready, ...(plan.execMode ? [Sync.Pid] : [])];
      const m = channel.expect(due, steps.exitedDuringSetup);
      if (m.type === Sync.Ready) {
        logDebug(`spawn: child ${pid} is READY: namespaces joined, rootfs and credentials set up`);
        return { pid, channel };
      }
      if (m.type === Sync.Pid) {
        // A rootless exec forked into the pid namespace: the process is its child's now.
        native().waitPidSync(pid);
        pid = m.errno;
        continue;
      }
      logDebug(`spawn: child ${pid} asks for the createRuntime hooks (mounts done, before pivot_root)`);
      steps.createRuntime!(pid);
      channel.send(Sync.HooksDone);
    }
  } catch (e) {
    channel.close();
    steps.abandoned?.(pid);
    killAndReap(pid);
    throw e;
  }
}
