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
  [Sync.Ready]: 'READY', [Sync.Error]: 'ERROR', [Sync.Commit]: 'COMMIT',
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
}

// Clones the child of `plan` and drives it to READY. On any failure the child is killed and
// reaped before this throws; on success the caller owns both the pid and the channel.
export function spawn(plan: NativePlan, steps: SpawnSteps): { pid: number; channel: SyncChannel } {
  const { pid, syncFd } = native().spawnInit(plan);
  logDebug(`spawn: cloned child ${pid}, it waits for GO`);
  const channel = new SyncChannel(syncFd, steps.errorPrefix ?? '');
  try {
    steps.placed(pid);
    logDebug(`spawn: child ${pid} placed (id maps, cgroups); sending GO`);
    channel.send(Sync.Go);
    for (;;) {
      const m = channel.expect(steps.createRuntime ? [Sync.CreateRuntime, Sync.Ready] : [Sync.Ready], steps.exitedDuringSetup);
      if (m.type === Sync.Ready) {
        logDebug(`spawn: child ${pid} is READY: namespaces joined, rootfs and credentials set up`);
        return { pid, channel };
      }
      logDebug(`spawn: child ${pid} asks for the createRuntime hooks (mounts done, before pivot_root)`);
      steps.createRuntime!(pid);
      channel.send(Sync.HooksDone);
    }
  } catch (e) {
    channel.close();
    killAndReap(pid);
    throw e;
  }
}
