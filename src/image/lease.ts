// Coordination between writers (import, pull, bundle) and prune, which is the only command that
// deletes. A reader/writer lock made of files, since Node has no flock:
//   writer (prune):  mkdir gc.lock, then wait until no live lease remains, sweep, rmdir.
//   readers:         write leases/PID-RAND, then back off while gc.lock is held by a live process.
// Either the reader's lease is there before prune looks for leases, or the reader sees gc.lock.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { ImageError } from './digest';
import { Store, pidAlive } from './store';
import { removeTree } from './tree';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function lockOwner(store: Store): number | undefined {
  const dir = store.dir('gc.lock');
  try {
    return Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    try {
      const st = fs.statSync(dir);
      // Created but never given an owner (a crash in between): stale after a few seconds.
      return Date.now() - st.mtimeMs > 5000 ? 0 : -1;
    } catch {
      return undefined;
    }
  }
}

function gcLockHeld(store: Store): boolean {
  const owner = lockOwner(store);
  if (owner === undefined) return false;
  if (owner === -1 || pidAlive(owner)) return true;
  removeTree(store.dir('gc.lock'));
  return false;
}

export async function withLease<T>(store: Store, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  store.init();
  const lease = store.dir('leases', `${process.pid}-${randomBytes(4).toString('hex')}`);
  const start = Date.now();
  for (;;) {
    fs.writeFileSync(lease, String(process.pid));
    if (!gcLockHeld(store)) break;
    fs.rmSync(lease, { force: true });
    if (Date.now() - start > timeoutMs) throw new ImageError(`image store ${store.root} is busy: a prune is running`);
    await sleep(100);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lease, { force: true });
  }
}

export function liveLeases(store: Store): string[] {
  let names: string[] = [];
  try {
    names = fs.readdirSync(store.dir('leases'));
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (pidAlive(Number(n.split('-')[0]))) return true;
    fs.rmSync(store.dir('leases', n), { force: true });
    return false;
  });
}

/** Takes the store for prune; resolves with a release function once no writer is active. */
export async function acquireGcLock(store: Store, timeoutMs = 60_000): Promise<() => void> {
  store.init();
  const dir = store.dir('gc.lock');
  for (;;) {
    try {
      fs.mkdirSync(dir);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (gcLockHeld(store)) throw new ImageError(`image store ${store.root} is busy: another prune is running (pid ${lockOwner(store)})`);
    }
  }
  fs.writeFileSync(path.join(dir, 'pid'), String(process.pid));
  const release = () => {
    removeTree(dir);
  };
  const start = Date.now();
  while (liveLeases(store).length > 0) {
    if (Date.now() - start > timeoutMs) {
      release();
      throw new ImageError(`image store ${store.root} is busy: an import, pull or bundle is in progress`);
    }
    await sleep(100);
  }
  return release;
}
