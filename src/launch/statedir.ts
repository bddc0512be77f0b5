// The files of a container's state directory, named once: the store, the hooks and the
// addon (through the plan) all take their names from here.
export const STATE_DIR_FILES = {
  state: 'state.json',
  // the init blocks opening it for write until `start` opens it for read
  fifo: 'exec.fifo',
  // what createContainer/startContainer hooks read as their stdin
  hookState: 'hook-state.json',
  // what the seccomp agent receives with the listener fd
  seccompState: 'seccomp-state.json',
} as const;

// The plan's fields that name them for the addon.
export const PLAN_FILE_NAMES = {
  fifoName: STATE_DIR_FILES.fifo,
  hookStateName: STATE_DIR_FILES.hookState,
  seccompStateName: STATE_DIR_FILES.seccompState,
};
