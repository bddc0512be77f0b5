// start, kill, delete: each loads the container under its lock, asks the state machine,
// then acts.
import * as fs from 'fs';
import { SkiffError, notExist } from '../errors';
import { native } from '../native';
import { CgroupManager } from '../cgroups/manager';
import { assertAllowed, Status } from './status';
import { ContainerState, Store, statusOf } from './store';
import { parseSignal } from './signals';

export interface Loaded {
  state: ContainerState;
  status: Status;
  cgroups: CgroupManager;
}

export function loadContainer(store: Store, id: string, lock = true): Loaded {
  if (lock) store.lock(id);
  const state = store.load(id);
  const cgroups = new CgroupManager(state.cgroup ?? { kind: 'v2', dirs: {} });
  return { state, cgroups, status: statusOf(store, state, () => cgroups.isFrozen()) };
}

export function startContainer(store: Store, id: string): ContainerState {
  const c = loadContainer(store, id);
  assertAllowed('start', c.status, id);
  if (!native().openExecFifo(store.fifoPath(id), c.state.pid)) {
    throw new SkiffError(`container ${id}: init exited before it could start`);
  }
  fs.rmSync(store.fifoPath(id), { force: true });
  c.state.started = true;
  store.save(c.state);
  return c.state;
}

export function killContainer(store: Store, id: string, signal: string | undefined, all: boolean): void {
  const sig = parseSignal(signal ?? 'SIGTERM');
  const c = loadContainer(store, id);
  assertAllowed('kill', c.status, id);
  const pids = all ? c.cgroups.pids() : [c.state.pid];
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }
}

// SIGKILL every process of the container and wait for each to be gone (pidfds, no polling).
function killAll(c: Loaded): void {
  const pids = new Set([...c.cgroups.pids(), c.state.pid]);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  c.cgroups.thaw();
  native().waitExited([...pids]);
}

// Removes what the container holds on the host: its processes, cgroups and state.
export function destroy(store: Store, c: Loaded): void {
  if (c.status !== 'stopped') killAll(c);
  c.cgroups.destroy();
  store.remove(c.state.id);
}

export function deleteContainer(store: Store, id: string, force: boolean): void {
  let c: Loaded;
  try {
    c = loadContainer(store, id);
  } catch (e) {
    if (force && (e as Error).message === notExist().message) {
      // A half-made directory without state is removed too: nothing else owns it.
      store.remove(id);
      return;
    }
    throw e;
  }
  if (!force) assertAllowed('delete', c.status, id);
  destroy(store, c);
}
