// checkpoint and restore: runc's commands and flags, each value checked as runc checks it, and
// then a plain refusal: Skiff does not checkpoint (no CRIU support), so a script learns that
// in words instead of from "No help topic".
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError, errnoText } from '../errors';
import type { FlagValue } from './args';

const NAMESPACES = new Set(['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time']);

export function unsupported(what: 'checkpoint' | 'restore'): SkiffError {
  return new SkiffError('host', `${what}: CRIU is not supported by skiff: containers cannot be checkpointed or restored`);
}

// runc's prepareImagePaths, setPageServer, setManageCgroupsMode and setEmptyNsMask, in that
// order and words; nothing is made on disk (runc makes the image directory first).
export function checkCriuFlags(f: Record<string, FlagValue>): void {
  const imagePath = typeof f.imagePath === 'string' && f.imagePath ? f.imagePath : path.join(process.cwd(), 'checkpoint');
  const parent = typeof f.parentPath === 'string' ? f.parentPath : '';
  if (parent) {
    if (path.isAbsolute(parent)) throw new SkiffError('usage', '--parent-path must be relative');
    const real = path.join(imagePath, parent);
    let why: string | undefined;
    try {
      // runc's os.PathError without an Op: two spaces, as it prints them.
      if (!fs.statSync(real).isDirectory()) why = ` ${real}: not a directory`;
    } catch (e) {
      why = `stat ${real}: ${errnoText(e as NodeJS.ErrnoException)}`;
    }
    if (why) throw new SkiffError('usage', `invalid --parent-path: ${why}`);
  }
  if (typeof f.pageServer === 'string' && f.pageServer) {
    const parts = f.pageServer.split(':');
    if (parts.length !== 2) throw new SkiffError('usage', 'Use --page-server ADDRESS:PORT to specify page server');
    if (!/^[+-]?\d+$/.test(parts[1])) throw new SkiffError('usage', 'Invalid port number');
  }
  const mode = f.manageCgroupsMode;
  if (typeof mode === 'string' && mode && !['soft', 'full', 'strict'].includes(mode)) throw new SkiffError('usage', 'Invalid manage cgroups mode');
  for (const ns of (f.emptyNs as string[] | undefined) ?? []) {
    if (!NAMESPACES.has(ns)) throw new SkiffError('usage', `namespace "${ns}" is not supported`);
  }
}
