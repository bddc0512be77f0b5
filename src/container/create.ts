// create: bundle in, a container whose init waits on the exec fifo out. Any failure undoes
// everything it made: no state dir, cgroup or process is left behind.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import { native, Sync } from '../native';
import type { SyncMessage } from '../native';
import { loadSpec } from '../oci/validate';
import { SPEC_VERSION } from '../oci/defaults';
import type { IdMapping, Spec } from '../oci/spec';
import { cgroupsFor, planCgroup } from '../cgroups/manager';
import { buildPlan, hostIdFor } from '../launch/plan';
import { hookState, nativeHooks, runHooks, writeHookState } from '../launch/hooks';
import type { CreateOptions } from '../launch/plan';
import { killAndReap, pidStartTime } from './proc';
import { attachConsole } from '../launch/console';
import { ContainerState, Store } from './store';
import { crashPoint } from './crash';

export interface CreateRequest extends CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  systemdCgroup?: boolean;
  // run in the foreground with a terminal: the pty master comes back to us instead
  relayTerminal?: boolean;
}

// A failed setup step as the child reported it: "mount proc /proc: operation not permitted".
export function describeChildError(m: SyncMessage): string {
  const cause = m.errno ? m.message.charAt(0).toLowerCase() + m.message.slice(1) : '';
  if (m.step.startsWith('exec: ')) return `exec: ${JSON.stringify(m.detail)}: ${m.step.slice(6)}`;
  return [m.step, m.detail].filter(Boolean).join(' ') + (cause ? `: ${cause}` : '');
}

export function writePidFile(file: string, pid: number): void {
  // Atomic and without a newline: clients read it the moment create returns.
  const abs = path.resolve(file);
  const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.${process.pid}`);
  fs.writeFileSync(tmp, String(pid));
  fs.renameSync(tmp, abs);
}

function writeIdMap(pid: number, file: 'uid_map' | 'gid_map', maps: IdMapping[] | undefined): void {
  if (!maps?.length) return;
  fs.writeFileSync(`/proc/${pid}/${file}`, maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n'));
}

function checkRootfs(spec: Spec, bundle: string): string {
  const rootfs = path.resolve(bundle, spec.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new SkiffError(`rootfs (${rootfs}) does not exist`);
  }
  if (!st.isDirectory()) throw new SkiffError(`rootfs (${rootfs}) is not a directory`);
  return rootfs;
}

export interface Created {
  state: ContainerState;
  // the pty master, when the caller asked to relay the terminal itself
  ptyMaster?: number;
}

export function createContainer(store: Store, req: CreateRequest): Created {
  const bundle = path.resolve(req.bundle);
  const spec = loadSpec(bundle);
  const rootfs = checkRootfs(spec, bundle);
  if (spec.process?.terminal && !req.consoleSocket && !req.relayTerminal) {
    throw new SkiffError('cannot allocate tty if skiff will detach without setting console socket');
  }
  if (req.systemdCgroup) {
    // slice:prefix:name paths mean asking systemd over D-Bus; without systemd there is no one to ask.
    if (!fs.existsSync('/run/systemd/system')) throw new SkiffError('systemd cgroup manager: systemd is not running on this host (drop --systemd-cgroup)');
    throw new SkiffError('systemd cgroup manager: not supported by skiff yet (drop --systemd-cgroup to use cgroupfs)');
  }
  const cgroupRecord = planCgroup(spec.linux?.cgroupsPath, req.id);
  const { dir: stateDir, unlock } = store.claim(req.id);
  const cgroups = cgroupsFor(cgroupRecord);
  const state: ContainerState = {
    ociVersion: SPEC_VERSION, id: req.id, pid: 0, bundle, rootfs, created: new Date().toISOString(),
    annotations: spec.annotations, initStartTime: '', started: false, cgroup: cgroupRecord, config: spec,
    creating: { pid: process.pid, startTime: pidStartTime(process.pid) ?? '' },
  };
  let pid = 0;
  let syncFd = -1;
  let cgroupFd: number | undefined;
  // fds opened for the init (console, seccomp agent), closed here if create fails
  let passedFds: number[] = [];
  let relayEnd: number | undefined;
  try {
    crashPoint('create', 'claimed');
    // Written before anything is made on the host: whatever a kill -9 of create leaves from
    // here on, `list` shows and `delete` removes.
    store.save(state);
    crashPoint('create', 'recorded');
    const plan = buildPlan(spec, bundle, rootfs, stateDir, req.id, cgroups, req);
    const console = attachConsole(plan, spec.process!, req.consoleSocket);
    relayEnd = console.relayEnd;
    passedFds = console.fds;
    cgroups.create();
    cgroups.applyResources(spec.linux?.resources);
    crashPoint('create', 'cgroups');
    const fifo = store.fifoPath(req.id);
    native().mkfifo(fifo, 0o622);
    if (plan.inUserns) {
      fs.chownSync(fifo, hostIdFor(spec.linux?.uidMappings, 0), hostIdFor(spec.linux?.gidMappings, 0));
    }
    cgroupFd = cgroups.cloneIntoFd();
    plan.cgroupFd = cgroupFd;
    const listenerPath = spec.linux?.seccomp?.listenerPath as string | undefined;
    if (listenerPath) {
      // Connected now, so a missing agent is a create error before anything runs.
      plan.seccompListenerFd = native().connectUnix(listenerPath);
      passedFds.push(plan.seccompListenerFd);
    }
    plan.createContainerHooks = nativeHooks(spec.hooks?.createContainer);
    plan.startContainerHooks = nativeHooks(spec.hooks?.startContainer);
    ({ pid, syncFd } = native().spawnInit(plan));
    crashPoint('create', 'spawned');
    if (plan.seccompListenerFd !== undefined) {
      // What runc sends the agent with the listener fd: the container's process state.
      fs.writeFileSync(path.join(stateDir, 'seccomp-state.json'), JSON.stringify({
        ociVersion: SPEC_VERSION, fds: ['seccompFd'], pid, metadata: spec.linux?.seccomp?.listenerMetadata ?? '',
        state: { ociVersion: SPEC_VERSION, id: req.id, status: 'creating', pid, bundle, annotations: spec.annotations ?? {} },
      }));
    }
    if (plan.consoleFd !== undefined) native().closeFd(plan.consoleFd);
    if (plan.seccompListenerFd !== undefined) native().closeFd(plan.seccompListenerFd);
    passedFds = passedFds.filter((fd) => fd !== plan.consoleFd && fd !== plan.seccompListenerFd);
    if (cgroupFd !== undefined) fs.closeSync(cgroupFd);
    cgroupFd = undefined;
    writeIdMap(pid, 'uid_map', spec.linux?.uidMappings);
    writeIdMap(pid, 'gid_map', spec.linux?.gidMappings);
    cgroups.join(pid);
    crashPoint('create', 'joined');
    native().syncSend(syncFd, Sync.Go);
    for (;;) {
      let msg;
      try {
        msg = native().syncRecv(syncFd);
      } catch (e) {
        msg = null;
      }
      if (!msg) {
        // runc's words when the memory limit killed the init during setup.
        throw new SkiffError(cgroups.oomKilled() ? 'container init was OOM-killed (memory limit too low?)' : 'container init exited during setup');
      }
      if (msg.type === Sync.Error) throw new SkiffError(describeChildError(msg));
      if (msg.type === Sync.CreateRuntime) {
        // The namespaces exist and the rootfs is mounted, pivot_root has not happened yet.
        const json = writeHookState(stateDir, hookState(spec, req.id, bundle, 'creating', pid, SPEC_VERSION));
        runHooks('prestart', spec.hooks?.prestart, json);
        runHooks('createRuntime', spec.hooks?.createRuntime, json);
        crashPoint('create', 'hooks');
        native().syncSend(syncFd, Sync.HooksDone);
        continue;
      }
      if (msg.type === Sync.Ready) break;
      throw new SkiffError(`container init sent an unexpected message (${msg.type})`);
    }
    crashPoint('create', 'ready');
    const startTime = pidStartTime(pid);
    if (!startTime) throw new SkiffError('container init exited during setup');
    state.pid = pid;
    state.initStartTime = startTime;
    state.created = new Date().toISOString();
    delete state.creating;
    store.save(state);
    if (req.pidFile) writePidFile(req.pidFile, pid);
    crashPoint('create', 'saved');
    // The init dies with us until it has this; its EOF says it will outlive us.
    native().syncSend(syncFd, Sync.Commit);
    if (native().syncRecv(syncFd) !== null) throw new SkiffError('container init sent an unexpected message after commit');
    native().closeFd(syncFd);
    syncFd = -1;
    crashPoint('create', 'committed');
    let ptyMaster: number | undefined;
    if (relayEnd !== undefined) {
      ptyMaster = native().recvFd(relayEnd).fd;
      native().closeFd(relayEnd);
    }
    return { state, ptyMaster };
  } catch (e) {
    for (const fd of passedFds) native().closeFd(fd);
    if (cgroupFd !== undefined) fs.closeSync(cgroupFd);
    if (syncFd >= 0) native().closeFd(syncFd);
    if (pid > 0) killAndReap(pid);
    cgroups.destroy();
    cgroups.undo();
    store.remove(req.id);
    throw e;
  } finally {
    unlock();
  }
}
