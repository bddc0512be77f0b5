// start, kill, delete: each loads the container under its lock, asks the state machine,
// then acts. A lock is held for the operation only, never for a container's life, so every
// command works on a container that a foreground `run` or `exec` supervises.
import { SkiffError, isKind } from '../errors';
import { native } from '../native';
import { cgroupsFor, parseCgroupRecord } from '../cgroups/manager';
import type { Cgroups } from '../cgroups/manager';
import { assertAllowed, Status } from './status';
import { ContainerState, Store, statusOf } from './store';
import { parseSignal } from './signals';
import { hookState, runHooks, writeHookState } from '../launch/hooks';
import { logDebug, logWarn } from '../log';
import { isAlive } from '../launch/proc';
import { crashPoint } from './crash';
import { removeRdt } from '../launch/resctrl';
import { removeFile } from '../atomic';

export interface Loaded {
  // the id the user gave: every path is made from it, never from state.json
  id: string;
  state: ContainerState;
  status: Status;
  cgroups: Cgroups;
}

// Reads a container without its lock: for what only looks (state, list, ps, events).
export function loadContainer(store: Store, id: string): Loaded {
  const state = store.load(id);
  const cgroups = cgroupsFor(state.cgroup);
  return { id, state, cgroups, status: statusOf(store, id, state, () => cgroups.isFrozen()) };
}

// Runs `fn` on the container under its lock, released when `fn` returns or throws.
export function withContainer<T>(store: Store, id: string, fn: (c: Loaded) => T): T {
  const unlock = store.lock(id);
  try {
    return fn(loadContainer(store, id));
  } finally {
    unlock();
  }
}

function stateFor(c: Loaded, status: string): string {
  const st = c.state;
  return JSON.stringify(hookState(st.config, c.id, st.bundle, status, status === 'stopped' ? undefined : st.pid, st.ociVersion));
}

export function startContainer(store: Store, id: string): ContainerState {
  const c = withContainer(store, id, (c) => {
    assertAllowed('start', c.status, id);
    const hooks = c.state.config.hooks;
    // startContainer hooks run in the container, after the fifo, and read this file.
    if (hooks?.startContainer?.length) writeHookState(store.dir(id), hookState(c.state.config, id, c.state.bundle, 'created', c.state.pid, c.state.ociVersion));
    if (!native().openExecFifo(store.fifoPath(id), c.state.pid)) {
      throw new SkiffError('setup', `container ${id}: init exited before it could start`);
    }
    crashPoint('start', 'fifo-opened');
    logDebug(`start ${id}: exec fifo opened, init ${c.state.pid} runs the user process`);
    removeFile(store.fifoPath(id));
    c.state.started = true;
    store.save(c.state, id);
    crashPoint('start', 'saved');
    return c;
  });
  try {
    runHooks('poststart', c.state.config.hooks?.poststart, stateFor(c, 'running'));
  } catch (e) {
    // A failed poststart hook stops the container (runtime-spec lifecycle step 9).
    killAll(c);
    throw e;
  }
  return c.state;
}

export function killContainer(store: Store, id: string, signal: string | undefined, all: boolean): void {
  const sig = parseSignal(signal ?? 'SIGTERM');
  withContainer(store, id, (c) => {
    // runc: --all signals whatever is left in the cgroup, so a stopped container is no error.
    if (!(all && c.status === 'stopped')) assertAllowed('kill', c.status, id);
    // The init too: a container without cgroups of its own (rootless) lists none.
    const pids = all ? [...new Set([...c.cgroups.pids(), ...(c.status === 'stopped' ? [] : [c.state.pid])])] : [c.state.pid];
    logDebug(`kill ${id}: signal ${sig} to ${pids.length ? pids.join(' ') : 'no process'}`);
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    // A frozen v1 task does not die until thawed: runc thaws a paused container for SIGKILL.
    if (sig === 9 && c.status === 'paused') c.cgroups.thaw();
  });
}

// SIGKILL the init (named by its start time as well, so a reused pid is never killed) and,
// with `wholeCgroup`, every process in `cgroups`; wait for each to be gone (pidfds, no polling).
function killAndWait(cgroups: Cgroups | undefined, pid: unknown, startTime: unknown, wholeCgroup = true): void {
  const pids = new Set(wholeCgroup ? cgroups?.pids() ?? [] : []);
  if (Number.isSafeInteger(pid) && (pid as number) > 0 && typeof startTime === 'string' && isAlive(pid as number, startTime)) pids.add(pid as number);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  cgroups?.thaw();
  native().waitExited([...pids]);
}

// A container with a pid namespace of its own ends with its init: the kernel kills every
// process of that namespace. Its cgroup may hold others (a pod's cgroup shared by design),
// so runc signals the cgroup only when the container shares a pid namespace, and so do we.
function ownsPidNamespace(state: ContainerState): boolean {
  const ns = state.config.linux?.namespaces?.find((n) => n.type === 'pid');
  return ns !== undefined && !ns.path && Number.isSafeInteger(state.pid) && state.pid > 0 && state.initStartTime !== '';
}

function killAll(c: Loaded): void {
  killAndWait(c.cgroups, c.state.pid, c.state.initStartTime, !ownsPidNamespace(c.state));
}

// Removes what the container holds on the host: its processes, cgroups and state. It kills
// whatever still lives whatever the status says: a create cut short is "stopped" and may
// have left a process in its cgroup.
export function destroy(store: Store, c: Loaded): void {
  logDebug(`delete ${c.id}: killing what is left, removing cgroups and state`);
  killAll(c);
  crashPoint('delete', 'killed');
  const busy = c.cgroups.destroy();
  if (busy.length) logWarn(`container ${c.id}: cgroups still in use, left in place: ${busy.join(', ')}`);
  removeRdt(c.state.intelRdt);
  try {
    runHooks('poststop', c.state.config.hooks?.poststop, stateFor(c, 'stopped'));
  } catch (e) {
    // poststop failures are warnings: the container is gone either way.
    logWarn((e as Error).message);
  }
  crashPoint('delete', 'cgroups-removed');
  store.remove(c.id);
}

// Under the lock, for a supervisor (run) that made `made`: if someone else deleted it meanwhile
// (kill, then delete -f from another shell), or even made a new container of the same id,
// there is nothing of ours left to remove.
export function destroyLocked(store: Store, made: ContainerState, id: string): void {
  try {
    withContainer(store, id, (c) => {
      if (c.state.pid === made.pid && c.state.initStartTime === made.initStartTime) destroy(store, c);
    });
  } catch (e) {
    if (!isKind(e, 'notFound')) throw e;
  }
}

// Best effort over a damaged record: each part is used only if it is of the right shape.
function cleanWhatRemains(raw: unknown): void {
  if (typeof raw !== 'object' || raw === null) return;
  const r = raw as Record<string, unknown>;
  let cgroups: Cgroups | undefined;
  try {
    cgroups = cgroupsFor(parseCgroupRecord(r.cgroup));
  } catch {
    // no usable cgroup record
  }
  killAndWait(cgroups, r.pid, r.initStartTime);
  cgroups?.destroy();
}

export function deleteContainer(store: Store, id: string, force: boolean): void {
  let unlock: () => void;
  try {
    unlock = store.lock(id);
  } catch (e) {
    // runc: deleting what is not there with --force succeeds.
    if (force && isKind(e, 'notFound')) return;
    throw e;
  }
  try {
    let c: Loaded;
    try {
      c = loadContainer(store, id);
    } catch (e) {
      // A directory without a readable state (a damaged file, a create killed before its
      // first write) is removed by --force: nothing else owns it. What the file still names
      // (an init alive with its start time, a cgroup record) is cleaned as well.
      if (force && (isKind(e, 'notFound') || isKind(e, 'state'))) {
        cleanWhatRemains(store.rawState(id));
        store.remove(id);
        return;
      }
      throw e;
    }
    if (!force) assertAllowed('delete', c.status, id);
    destroy(store, c);
  } finally {
    unlock();
  }
}
