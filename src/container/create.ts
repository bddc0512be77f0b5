// create: bundle in, a container whose init waits on the exec fifo out. Any failure undoes
// everything it made: no state dir, cgroup or process is left behind.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, goQuote } from '../errors';
import { native, Sync } from '../native';
import type { SyncMessage } from '../native';
import { loadSpec } from '../oci/validate';
import { SPEC_VERSION } from '../oci/defaults';
import type { IdMapping, Spec } from '../oci/spec';
import { CgroupManager, planCgroup } from '../cgroups/manager';
import { applyResources } from '../cgroups/resources';
import { buildPlan, hostIdFor } from '../launch/plan';
import { hookState, nativeHooks, runHooks, writeHookState } from '../launch/hooks';
import type { CreateOptions } from '../launch/plan';
import { killAndReap, pidStartTime } from './proc';
import { attachConsole } from '../launch/console';
import { ContainerState, Store } from './store';

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
  if (m.step === 'exec' || m.step.startsWith('exec: ')) {
    // Go's exec.LookPath errors, as runc reports them, errno text included.
    const what = m.step === 'exec: stat' ? `stat ${m.detail}` : m.step.slice(6);
    return `exec: ${goQuote(m.detail)}: ${[what, cause].filter(Boolean).join(': ')}`;
  }
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
  // runc joins a relative root.path to the bundle's real path (its cwd) and refuses a rootfs
  // that is, or goes through, a symlink.
  const rootfs = path.resolve(path.isAbsolute(spec.root!.path) ? '/' : fs.realpathSync(bundle), spec.root!.path);
  let st: fs.Stats;
  try {
    st = fs.statSync(rootfs);
  } catch {
    throw new SkiffError(`rootfs (${rootfs}) does not exist`);
  }
  if (!st.isDirectory()) throw new SkiffError(`rootfs (${rootfs}) is not a directory`);
  if (fs.realpathSync(rootfs) !== rootfs) throw new SkiffError('invalid rootfs: not an absolute path, or a symlink');
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
  const stateDir = store.claim(req.id);
  const cgroups = new CgroupManager(cgroupRecord);
  let pid = 0;
  let syncFd = -1;
  let cgroupFd: number | undefined;
  // fds opened for the init (console, seccomp agent), closed here if create fails
  let passedFds: number[] = [];
  let relayEnd: number | undefined;
  try {
    const plan = buildPlan(spec, bundle, rootfs, stateDir, req.id, cgroupRecord, req);
    const console = attachConsole(plan, spec.process!, req.consoleSocket);
    relayEnd = console.relayEnd;
    passedFds = console.fds;
    cgroups.create();
    applyResources(cgroups, spec.linux?.resources);
    const fifo = store.fifoPath(req.id);
    native().mkfifo(fifo, 0o622);
    if (plan.inUserns) {
      fs.chownSync(fifo, hostIdFor(spec.linux?.uidMappings, 0), hostIdFor(spec.linux?.gidMappings, 0));
    }
    cgroupFd = cgroups.openUnifiedFd();
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
        native().syncSend(syncFd, Sync.HooksDone);
        continue;
      }
      if (msg.type === Sync.Ready) break;
      throw new SkiffError(`container init sent an unexpected message (${msg.type})`);
    }
    const startTime = pidStartTime(pid);
    if (!startTime) throw new SkiffError('container init exited during setup');
    const state: ContainerState = {
      ociVersion: SPEC_VERSION,
      id: req.id,
      pid,
      bundle,
      rootfs,
      created: new Date().toISOString(),
      annotations: spec.annotations,
      initStartTime: startTime,
      started: false,
      cgroup: cgroupRecord,
      config: spec,
    };
    store.save(state);
    if (req.pidFile) writePidFile(req.pidFile, pid);
    native().closeFd(syncFd);
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
  }
}
