// start, kill, delete: each loads the container under its lock, asks the state machine,
// then acts.
import * as fs from 'fs';
import { SkiffError, notExist } from '../errors';
import { native } from '../native';
import { CgroupManager } from '../cgroups/manager';
import { assertAllowed, Status } from './status';
import { ContainerState, Store, statusOf } from './store';
import { parseSignal } from './signals';
import { hookState, runHooks, writeHookState } from '../launch/hooks';
import { logWarn } from '../log';

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

function stateFor(c: Loaded, status: string): string {
  const st = c.state;
  return JSON.stringify(hookState(st.config, st.id, st.bundle, status, status === 'stopped' ? undefined : st.pid, st.ociVersion));
}

export function startContainer(store: Store, id: string): ContainerState {
  const c = loadContainer(store, id);
  assertAllowed('start', c.status, id);
  const hooks = c.state.config.hooks;
  // startContainer hooks run in the container, after the fifo, and read this file.
  if (hooks?.startContainer?.length) writeHookState(store.dir(id), hookState(c.state.config, id, c.state.bundle, 'created', c.state.pid, c.state.ociVersion));
  if (!native().openExecFifo(store.fifoPath(id), c.state.pid)) {
    throw new SkiffError(`container ${id}: init exited before it could start`);
  }
  fs.rmSync(store.fifoPath(id), { force: true });
  c.state.started = true;
  store.save(c.state);
  try {
    runHooks('poststart', hooks?.poststart, stateFor(c, 'running'));
  } catch (e) {
    // A failed poststart hook stops the container (runtime-spec lifecycle step 9).
    killAll(c);
    throw e;
  }
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
  try {
    runHooks('poststop', c.state.config.hooks?.poststop, stateFor(c, 'stopped'));
  } catch (e) {
    // poststop failures are warnings: the container is gone either way.
    logWarn((e as Error).message);
  }
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
