// create: bundle in, a container whose init waits on the exec fifo out. Any failure undoes
// everything it made: no state dir, cgroup or process is left behind; a kill -9 leaves a
// record that `list` shows and `delete --force` removes.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from '../errors';
import { native, Sync } from '../native';
import type { InitPlan } from '../native';
import { loadSpec } from '../oci/validate';
import { SPEC_VERSION } from '../oci/defaults';
import type { Spec } from '../oci/spec';
import { writeIdMap } from '../launch/userns';
import { cgroupsFor, planCgroup } from '../cgroups/manager';
import type { CgroupRecord, Cgroups } from '../cgroups/manager';
import { buildPlan, hostIdFor } from '../launch/plan';
import { hookState, nativeHooks, runHooks, writeHookState } from '../launch/hooks';
import type { CreateOptions } from '../launch/plan';
import { spawn } from '../launch/spawn';
import type { SyncChannel } from '../launch/spawn';
import { killAndReap, pidStartTime } from '../launch/proc';
import { attachConsole } from '../launch/console';
import { ContainerState, Store } from './store';
import { crashPoint } from './crash';
import { logDebug, logWarn } from '../log';
import { writeFileAtomic } from '../atomic';
import { connectAgent, writeAgentState } from '../launch/seccomp-agent';
import { PidfdSocket } from '../launch/pidfd';
import { moveNetDevices, releaseNetns, returnNetDevices } from '../launch/netdevices';
import type { MovedDevices } from '../launch/netdevices';
import { joinRdt, removeRdt, setupRdt } from '../launch/resctrl';

export interface CreateRequest extends CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  // receives a pidfd of the init once the container is created
  pidfdSocket?: string;
  systemdCgroup?: boolean;
  // runc's rootless cgroup manager: cgroups this user may not create are done without
  rootless?: boolean;
  // run in the foreground with a terminal: the pty master comes back to us instead
  relayTerminal?: boolean;
}

// Atomic and without a newline: clients read it the moment create returns.
export function writePidFile(file: string, pid: number): void {
  writeFileAtomic(file, String(pid));
}

function checkRootfs(spec: Spec, bundle: string): string {
  // runc joins a relative root.path to the bundle's real path (its cwd) and refuses a rootfs
  // that is, or goes through, a symlink.
  const rootfs = path.resolve(path.isAbsolute(spec.root!.path) ? '/' : fs.realpathSync(bundle), spec.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new SkiffError('config', `rootfs (${rootfs}) does not exist`);
  }
  if (!st.isDirectory()) throw new SkiffError('config', `rootfs (${rootfs}) is not a directory`);
  if (fs.realpathSync(rootfs) !== rootfs) throw new SkiffError('config', 'invalid rootfs: not an absolute path, or a symlink');
  return rootfs;
}

function checkRequest(spec: Spec, req: CreateRequest): void {
  if (spec.process?.terminal && !req.consoleSocket && !req.relayTerminal) {
    throw new SkiffError('usage', 'cannot allocate tty if skiff will detach without setting console socket');
  }
  // slice:prefix:name paths mean asking systemd over D-Bus; without systemd there is no one to ask.
  if (req.systemdCgroup && !fs.existsSync('/run/systemd/system')) {
    throw new SkiffError('host', 'systemd cgroup manager: systemd is not running on this host (drop --systemd-cgroup)');
  }
}

export interface Created {
  state: ContainerState;
  // the pty master, when the caller asked to relay the terminal itself
  ptyMaster?: number;
}

// What one create holds until it succeeds or undoes itself.
interface Making {
  req: CreateRequest;
  spec: Spec;
  stateDir: string;
  state: ContainerState;
  cgroups: Cgroups;
  // fds opened for the init (console, seccomp agent, cgroup dir), closed once it has them
  fds: Set<number>;
  relayEnd?: number;
  // linux.netDevices moved in, to give back if create fails
  netDevices?: MovedDevices;
}

function closeFds(m: Making, fds: Iterable<number | undefined>): void {
  for (const fd of fds) {
    if (fd === undefined || !m.fds.delete(fd)) continue;
    native().closeFd(fd);
  }
}

function provisionalState(req: CreateRequest, spec: Spec, bundle: string, rootfs: string, cgroup: CgroupRecord): ContainerState {
  return {
    ociVersion: SPEC_VERSION, id: req.id, pid: 0, bundle, rootfs, created: new Date().toISOString(),
    annotations: spec.annotations, initStartTime: '', started: false, cgroup, config: spec,
    creating: { pid: process.pid, startTime: pidStartTime(process.pid) ?? '' },
  };
}

// A cgroup that exists already (a pod's, a cgroupsPath shared on purpose), as runc's factory
// judges it: frozen is refused (the init would stop there and run never return), processes
// in it get runc's warning.
function checkExistingCgroup(cgroups: Cgroups): void {
  if (cgroups.isFrozen()) throw new SkiffError('setup', "container's cgroup unexpectedly frozen");
  const pids = cgroups.pids();
  if (pids.length) logWarn(`container's cgroup is not empty: ${pids.length} process(es) found`);
}

// Everything on the host the init needs before clone: terminal, cgroups, fifo, agent, hooks.
function prepareHost(store: Store, m: Making, plan: InitPlan): void {
  const console = attachConsole(plan, m.spec.process!, m.req.consoleSocket);
  m.relayEnd = console.relayEnd;
  console.fds.forEach((fd) => m.fds.add(fd));
  m.cgroups.create();
  m.cgroups.applyResources(m.spec.linux?.resources);
  m.state.intelRdt = setupRdt(m.spec, m.req.id);
  crashPoint('create', 'cgroups');
  const fifo = store.fifoPath(m.req.id);
  native().mkfifo(fifo, 0o622);
  if (plan.inUserns) {
    fs.chownSync(fifo, hostIdFor(m.spec.linux?.uidMappings, 0), hostIdFor(m.spec.linux?.gidMappings, 0));
  }
  plan.cgroupFd = m.cgroups.cloneIntoFd();
  if (plan.cgroupFd !== undefined) m.fds.add(plan.cgroupFd);
  plan.seccompListenerFd = connectAgent(m.spec);
  if (plan.seccompListenerFd !== undefined) m.fds.add(plan.seccompListenerFd);
  plan.createContainerHooks = nativeHooks(m.spec.hooks?.createContainer);
  plan.startContainerHooks = nativeHooks(m.spec.hooks?.startContainer);
}

// Between clone and GO: what the init reads, its id maps and its cgroups.
function placeInit(m: Making, plan: InitPlan, pid: number): void {
  crashPoint('create', 'spawned');
  const { spec, req } = m;
  if (plan.seccompListenerFd !== undefined) {
    writeAgentState(path.join(m.stateDir, plan.seccompStateName), spec,
      { id: req.id, pid, initPid: pid, status: 'creating', bundle: m.state.bundle, ociVersion: SPEC_VERSION });
  }
  // The child has its own copies now; the relay end stays ours.
  closeFds(m, [plan.consoleFd, plan.seccompListenerFd, plan.cgroupFd]);
  writeIdMap(pid, 'uid_map', spec.linux?.uidMappings);
  writeIdMap(pid, 'gid_map', spec.linux?.gidMappings);
  m.cgroups.join(pid);
  joinRdt(m.state.intelRdt, pid);
  m.netDevices = moveNetDevices(spec, pid);
  crashPoint('create', 'joined');
}

// The namespaces exist and the rootfs is mounted, pivot_root has not happened yet.
function runRuntimeHooks(m: Making, pid: number): void {
  const json = writeHookState(m.stateDir, hookState(m.spec, m.req.id, m.state.bundle, 'creating', pid, SPEC_VERSION));
  runHooks('prestart', m.spec.hooks?.prestart, json);
  runHooks('createRuntime', m.spec.hooks?.createRuntime, json);
  crashPoint('create', 'hooks');
}

// The init is READY: record it for good, then let it outlive us.
function commit(store: Store, m: Making, pid: number, channel: SyncChannel): void {
  crashPoint('create', 'ready');
  const startTime = pidStartTime(pid);
  if (!startTime) throw new SkiffError('setup', 'container init exited during setup');
  Object.assign(m.state, { pid, initStartTime: startTime, created: new Date().toISOString() });
  delete m.state.creating;
  store.save(m.state);
  if (m.req.pidFile) writePidFile(m.req.pidFile, pid);
  crashPoint('create', 'saved');
  // The init dies with us until it has this; its EOF says it will outlive us.
  channel.send(Sync.Commit);
  channel.expectEof();
}

export function createContainer(store: Store, req: CreateRequest): Created {
  const bundle = path.resolve(req.bundle);
  const spec = loadSpec(bundle);
  const rootfs = checkRootfs(spec, bundle);
  checkRequest(spec, req);
  const cgroupRecord = planCgroup(spec.linux?.cgroupsPath, req.id, { rootless: req.rootless === true, systemd: req.systemdCgroup });
  logDebug(`create ${req.id}: bundle ${bundle}, config.json checked, rootfs ${rootfs}`);
  const pidfdSocket = PidfdSocket.connect(req.pidfdSocket);
  let claimed: ReturnType<Store['claim']>;
  try {
    claimed = store.claim(req.id);
  } catch (e) {
    pidfdSocket?.close();
    throw e;
  }
  const { dir: stateDir, unlock } = claimed;
  try {
    // After the claim, so a taken id is "exists", not judged by its container's cgroup; outside
    // the undo below, which would remove a cgroup that is not ours.
    checkExistingCgroup(cgroupsFor(cgroupRecord));
  } catch (e) {
    pidfdSocket?.close();
    store.remove(req.id);
    unlock();
    throw e;
  }
  const m: Making = {
    req, spec, stateDir, state: provisionalState(req, spec, bundle, rootfs, cgroupRecord),
    cgroups: cgroupsFor(cgroupRecord), fds: new Set(),
  };
  let pid = 0;
  try {
    crashPoint('create', 'claimed');
    // Written before anything is made on the host: whatever a kill -9 of create leaves from
    // here on, `list` shows and `delete` removes.
    store.save(m.state);
    crashPoint('create', 'recorded');
    const plan = buildPlan(spec, bundle, rootfs, stateDir, req.id, m.cgroups, req);
    prepareHost(store, m, plan);
    logDebug(`create ${req.id}: cgroups made and limits applied; cloning the init`);
    const spawned = spawn(plan, {
      placed: (pid) => placeInit(m, plan, pid),
      createRuntime: (pid) => runRuntimeHooks(m, pid),
      // runc's words when the memory limit killed the init during setup.
      exitedDuringSetup: () => new SkiffError('setup', m.cgroups.oomKilled() ? 'container init was OOM-killed (memory limit too low?)' : 'container init exited during setup'),
      abandoned: () => returnNetDevices(m.netDevices),
    });
    pid = spawned.pid;
    try {
      commit(store, m, pid, spawned.channel);
    } finally {
      spawned.channel.close();
    }
    crashPoint('create', 'committed');
    pidfdSocket?.send(pid);
    releaseNetns(m.netDevices);
    logDebug(`create ${req.id}: init ${pid} waits on the exec fifo for start`);
    let ptyMaster: number | undefined;
    if (m.relayEnd !== undefined) {
      ptyMaster = native().recvFd(m.relayEnd).fd;
      closeFds(m, [m.relayEnd]);
    }
    return { state: m.state, ptyMaster };
  } catch (e) {
    closeFds(m, [...m.fds]);
    returnNetDevices(m.netDevices);
    if (pid > 0) killAndReap(pid);
    m.cgroups.destroy();
    m.cgroups.undo();
    removeRdt(m.state.intelRdt);
    store.remove(req.id);
    throw e;
  } finally {
    pidfdSocket?.close();
    unlock();
  }
}
