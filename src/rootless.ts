// Rootless Skiff, in runc's terms: whether this run counts as rootless (--rootless auto, true
// or false) and where an unprivileged user's state goes by default.
import * as fs from 'fs';
import * as path from 'path';
import { SkiffError } from './errors';
import { DEFAULT_ROOT } from './container/store';

// In a user namespace other than the initial one (whose uid_map maps all of 0..2^32-2).
export function inUserNamespace(): boolean {
  try {
    return !/^\s*0\s+0\s+4294967295\s*$/.test(fs.readFileSync('/proc/self/uid_map', 'utf8'));
  } catch {
    return false;
  }
}

// runc's shouldUseRootlessCgroupManager: auto is rootless for a non-root user, or for root in
// a user namespace (it cannot know whether its cgroups were delegated to it).
export function rootlessMode(flag: string | undefined): boolean {
  if (flag === 'true') return true;
  if (flag === 'false') return false;
  if (flag !== undefined && flag !== 'auto') throw new SkiffError('usage', `invalid --rootless value ${JSON.stringify(flag)}: true, false or auto`);
  return process.geteuid!() !== 0 || inUserNamespace();
}

// runc's default --root (shouldHonorXDGRuntimeDir): $XDG_RUNTIME_DIR/<name> for a non-root
// user that has one, and for root in a user namespace (rootless Podman runs the runtime so)
// unless $USER says root; else the system's.
export function defaultRoot(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  const honour = !!xdg && (process.geteuid!() !== 0 || (inUserNamespace() && process.env.USER !== 'root'));
  return honour ? path.join(xdg!, 'skiff') : DEFAULT_ROOT;
}
