// The state store: one directory per container under the root, state.json written
// atomically, and a per-container lock so that concurrent commands serialize.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, notExist } from '../errors';
import { LOCK_EX, native } from '../native';
import type { Spec } from '../oci/spec';
import { parseJson, toJson } from '../oci/json';
import type { CgroupRecord } from '../cgroups/manager';
import { isAlive } from './proc';
import type { Status } from './status';

export const DEFAULT_ROOT = '/run/skiff';
export const FIFO_NAME = 'exec.fifo';
const STATE_FILE = 'state.json';

// runc's id rule: letters, digits and _ + - . only, and not "." or "..".
const ID_PATTERN = /^[\w+.-]+$/;

export function validateId(id: string): void {
  if (!id) throw new SkiffError('container id cannot be empty');
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new SkiffError('invalid container ID format');
  // The id names a directory here and in every cgroup hierarchy.
  if (id.length > 255) throw new SkiffError(`container ID is too long: ${id.length} characters, a file name holds at most 255`);
}

// What Skiff keeps about a container. The first fields are what `state` prints.
export interface ContainerState {
  ociVersion: string;
  id: string;
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  annotations?: Record<string, string>;
  // Skiff's own
  initStartTime: string;
  started: boolean;
  cgroup?: CgroupRecord;
  config: Spec;
}

export class Store {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), FIFO_NAME);
  }

  // Makes the container's directory: mkdir is the atomic claim on the id.
  claim(id: string): string {
    validateId(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError('container with given ID already exists');
      throw e;
    }
    return dir;
  }

  exists(id: string): boolean {
    return fs.existsSync(path.join(this.dir(id), STATE_FILE));
  }

  load(id: string): ContainerState {
    validateId(id);
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    return parseJson(text) as ContainerState;
  }

  save(state: ContainerState): void {
    const dir = this.dir(state.id);
    const tmp = path.join(dir, `.${STATE_FILE}.${process.pid}`);
    // toJson: the config's exact numbers (an rlimit of 2^64-1) survive for exec.
    fs.writeFileSync(tmp, toJson(state), { mode: 0o600 });
    fs.renameSync(tmp, path.join(dir, STATE_FILE));
  }

  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  ids(): string[] {
    try {
      return fs.readdirSync(this.root).filter((n) => ID_PATTERN.test(n) && this.exists(n)).sort();
    } catch {
      return [];
    }
  }

  // Holds an exclusive lock on the container's directory for the rest of this process (the
  // kernel drops it when we exit), so concurrent commands on one container take turns.
  lock(id: string): void {
    let fd: number;
    try {
      fd = fs.openSync(this.dir(id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    native().flock(fd, LOCK_EX);
  }
}

// The status is derived, never trusted from disk: the init's pid and start time say whether
// it lives, the fifo whether it was started, the freezer whether it is paused.
export function statusOf(store: Store, st: ContainerState, isFrozen: () => boolean): Status {
  if (!isAlive(st.pid, st.initStartTime)) return 'stopped';
  if (fs.existsSync(store.fifoPath(st.id))) return 'created';
  if (isFrozen()) return 'paused';
  return 'running';
}
