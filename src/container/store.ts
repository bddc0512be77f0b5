// The state store: one directory per container under the root, state.json written
// atomically, and a per-container lock so that concurrent commands serialize.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, notExist } from '../errors';
import { LOCK_EX, native } from '../native';
import type { Spec } from '../oci/spec';
import { parseJson, toJson } from '../oci/json';
import { parseCgroupRecord } from '../cgroups/manager';
import type { CgroupRecord } from '../cgroups/manager';
import { isAlive } from '../launch/proc';
import type { Status } from './status';
import { crashPoint } from './crash';
import { writeFileAtomic, removeFile } from '../atomic';
import { STATE_DIR_FILES } from '../launch/statedir';
import type { RdtRecord } from '../launch/resctrl';

export const DEFAULT_ROOT = '/run/skiff';
const FIFO_NAME = STATE_DIR_FILES.fifo;
const STATE_FILE = STATE_DIR_FILES.state;

// runc's id rule: letters, digits and _ + - . only, and not "." or "..".
const ID_PATTERN = /^[\w+.-]+$/;
// A directory entry is at most 255 bytes (NAME_MAX); the state dir is named by the id.
const MAX_ID_LENGTH = 255;

export function validateId(id: string): void {
  if (!id) throw new SkiffError('usage', 'container id cannot be empty');
  if (!ID_PATTERN.test(id) || id === '.' || id === '..') throw new SkiffError('usage', 'invalid container ID format');
  if (id.length > MAX_ID_LENGTH) throw new SkiffError('usage', `container ID is too long: ${id.length} characters, a file name holds at most ${MAX_ID_LENGTH}`);
}

// The process that is creating a container, named for good by its pid and start time.
export interface Creator {
  pid: number;
  startTime: string;
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
  // linux.intelRdt: the resctrl group the container is in
  intelRdt?: RdtRecord;
  config: Spec;
  // Set from the first moment of create until the init is ready: a create that died (kill -9)
  // leaves a record that `list` shows and `delete` cleans, never an invisible directory.
  creating?: Creator;
}

// Checks what the rest of Skiff reads from state.json, so that a damaged file is one clear
// error for that container and never a TypeError (or a made-up state) somewhere later.
function checkShape(id: string, v: unknown): ContainerState {
  const bad = (why: string) => new SkiffError('state', `container ${id}: state.json is damaged: ${why}`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not a JSON object');
  const s = v as Record<string, unknown>;
  if (s.id !== id) throw bad(`its id ${JSON.stringify(s.id)} is not the directory's`);
  for (const k of ['ociVersion', 'bundle', 'rootfs', 'created', 'initStartTime'] as const) {
    if (typeof s[k] !== 'string') throw bad(`"${k}" is not a string`);
  }
  if (!Number.isSafeInteger(s.pid) || (s.pid as number) < 0) throw bad('"pid" is not a process id');
  if (typeof s.started !== 'boolean') throw bad('"started" is not a boolean');
  if (typeof s.config !== 'object' || s.config === null || Array.isArray(s.config)) throw bad('"config" is not an object');
  if (s.cgroup !== undefined) {
    try {
      s.cgroup = parseCgroupRecord(s.cgroup);
    } catch {
      throw bad('"cgroup" is not a cgroup record');
    }
  }
  const cr = s.creating as Record<string, unknown> | undefined;
  if (cr !== undefined && (typeof cr !== 'object' || cr === null || !Number.isSafeInteger(cr.pid) || typeof cr.startTime !== 'string')) throw bad('"creating" is not a process');
  return v as ContainerState;
}

export class Store {
  constructor(readonly root: string) {}

  // Every path is made from the id the user gave, checked first: never from a file's content.
  dir(id: string): string {
    validateId(id);
    return path.join(this.root, id);
  }

  fifoPath(id: string): string {
    return path.join(this.dir(id), FIFO_NAME);
  }

  // Makes the container's directory and takes its lock: mkdir is the atomic claim on the id,
  // and commands on the id wait until create has finished or failed.
  claim(id: string): { dir: string; unlock: () => void } {
    const dir = this.dir(id);
    fs.mkdirSync(this.root, { recursive: true, mode: 0o700 });
    try {
      fs.mkdirSync(dir, { mode: 0o711 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SkiffError('exists', 'container with given ID already exists');
      throw e;
    }
    return { dir, unlock: this.lock(id) };
  }

  load(id: string): ContainerState {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    let value: unknown;
    try {
      value = parseJson(text);
    } catch (e) {
      throw new SkiffError('state', `container ${id}: state.json is damaged: ${(e as Error).message}`);
    }
    return checkShape(id, value);
  }

  // state.json as whatever JSON it holds (undefined if none): for delete --force of a damaged
  // record, which still kills what it names.
  rawState(id: string): unknown {
    try {
      return parseJson(fs.readFileSync(path.join(this.dir(id), STATE_FILE), 'utf8'));
    } catch {
      return undefined;
    }
  }

  save(state: ContainerState, id = state.id): void {
    // toJson: the config's exact numbers (an rlimit of 2^64-1) survive for exec.
    writeFileAtomic(path.join(this.dir(id), STATE_FILE), toJson(state), { mode: 0o600 });
  }

  // state.json goes last: a remove cut short (kill -9) leaves a record `list` still shows.
  remove(id: string): void {
    const dir = this.dir(id);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const n of names) if (n !== STATE_FILE) fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    crashPoint('delete', 'state-removing');
    removeFile(path.join(dir, STATE_FILE));
    fs.rmSync(dir, { recursive: true, force: true });
  }

  // Every container directory, with or without a readable state.json.
  ids(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter((n) => ID_PATTERN.test(n) && n !== '.' && n !== '..' && n.length <= MAX_ID_LENGTH).sort();
  }

  // Takes an exclusive lock on the container's directory and returns its release; the kernel
  // drops it anyway when we exit. Commands on one container take turns.
  lock(id: string): () => void {
    let fd: number;
    try {
      fd = fs.openSync(this.dir(id), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notExist();
      throw e;
    }
    native().flock(fd, LOCK_EX);
    return () => fs.closeSync(fd);
  }
}

// The status is derived, never trusted from disk: the creator's and the init's pid and start
// time say whether they live, the fifo whether it was started, the freezer whether it is
// paused (a frozen created container is paused, as runc says, and resume makes it created).
export function statusOf(store: Store, id: string, st: ContainerState, isFrozen: () => boolean): Status {
  if (st.creating) return isAlive(st.creating.pid, st.creating.startTime) ? 'creating' : 'stopped';
  if (!isAlive(st.pid, st.initStartTime)) return 'stopped';
  if (isFrozen()) return 'paused';
  if (fs.existsSync(store.fifoPath(id))) return 'created';
  return 'running';
}
