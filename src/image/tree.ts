// Walking directory trees without recursion. A layer, a bundle's rootfs or a container's writes
// can nest thousands of levels deep: a recursive walk (fs.rmSync's included) overflows the stack
// there, and a command that cannot remove its own staging dir leaves it for every later prune
// to trip over in the same way.
import * as fs from 'fs';

/**
 * Paths we build stay below this length. Past it, removal moves a directory up to the top of the
 * tree before going into it, so no path we hand the kernel nears PATH_MAX (4096) however deep the
 * tree goes (Node has no openat/unlinkat to walk by file descriptor).
 */
const LONG_PATH = 3000;

/** The longest absolute path we create (PATH_MAX less its NUL); deeper entries are refused. */
export const PATH_LIMIT = 4095;

/** lstat, or undefined when nothing is there (a missing parent, or a file where one was expected). */
export function lstatOrNone(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
}

function namesOf(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (e) {
    // Removed under us (another prune, a finished download): nothing left to walk.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/**
 * Visits every entry below top, depth first, with an explicit stack. onEntry gets each path and
 * its lstat and returns the directory to go into (the path itself, or where it moved it), or
 * nothing to skip it; onDone runs for each directory once everything below it was visited.
 */
export function walkTree(top: string, onEntry: (p: string, st: fs.Stats) => string | undefined, onDone?: (dir: string) => void): void {
  const stack = [{ dir: top, names: namesOf(top), next: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next === frame.names.length) {
      stack.pop();
      onDone?.(frame.dir);
      continue;
    }
    const p = frame.dir + '/' + frame.names[frame.next++];
    const st = lstatOrNone(p);
    if (!st) continue;
    const into = onEntry(p, st);
    if (into !== undefined) stack.push({ dir: into, names: namesOf(into), next: 0 });
  }
}

/** Counts allocated blocks once per inode (hard links share theirs). */
function blockCounter(): { add: (st: fs.Stats) => void; total: () => number } {
  const seen = new Set<string>();
  let bytes = 0;
  return {
    add: (st) => {
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) return;
      seen.add(key);
      bytes += st.blocks * 512;
    },
    total: () => bytes,
  };
}

function ignoreMissing(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Removes p (a tree or a single entry) if it exists; returns the bytes it occupied. */
export function removeTree(p: string): number {
  const st = lstatOrNone(p);
  if (!st) return 0;
  const blocks = blockCounter();
  blocks.add(st);
  if (!st.isDirectory()) {
    ignoreMissing(() => fs.unlinkSync(p));
    return blocks.total();
  }
  let moved = 0;
  const moveUp = (q: string): string => {
    for (;;) {
      const to = `${p}/.skiff-rm-${process.pid}-${moved++}`;
      try {
        fs.renameSync(q, to);
        return to;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e;
      }
    }
  };
  walkTree(p, (q, qst) => {
    blocks.add(qst);
    if (qst.isDirectory()) return q.length > LONG_PATH ? moveUp(q) : q;
    ignoreMissing(() => fs.unlinkSync(q));
    return undefined;
  }, (dir) => ignoreMissing(() => fs.rmdirSync(dir)));
  return blocks.total();
}

/** Disk usage of a tree in bytes (allocated blocks, hard links counted once). */
export function diskUsage(p: string): number {
  const st = lstatOrNone(p);
  if (!st) return 0;
  const blocks = blockCounter();
  blocks.add(st);
  // Read-only, so nothing can be moved: what lies past LONG_PATH is left uncounted.
  if (st.isDirectory()) walkTree(p, (q, qst) => (blocks.add(qst), qst.isDirectory() && q.length <= LONG_PATH ? q : undefined));
  return blocks.total();
}
