// Fault injection for tests: with SKIFF_TEST_CRASH_AT=STEP the process SIGKILLs itself at that
// step, so a test can show that a kill -9 at any step leaves nothing that `list` does not show
// and `delete --force` does not remove. One environment lookup per step when unset.
export const CRASH_STEPS = {
  create: ['claimed', 'recorded', 'cgroups', 'spawned', 'joined', 'hooks', 'ready', 'saved', 'committed'],
  start: ['fifo-opened', 'saved'],
  delete: ['killed', 'cgroups-removed', 'state-removing'],
  exec: ['spawned', 'ready'],
} as const;

type Command = keyof typeof CRASH_STEPS;

export function crashPoint<C extends Command>(command: C, step: (typeof CRASH_STEPS)[C][number]): void {
  if (process.env.SKIFF_TEST_CRASH_AT === `${command}:${step}`) process.kill(process.pid, 'SIGKILL');
}
