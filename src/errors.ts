// Errors that reach the user, in the style of runc's sentinel errors: one type, a kind that
// says what went wrong (callers test the kind, never the words) and the exit code it gives.

export type ErrorKind =
  | 'usage'       // the command line: an unknown flag, a bad value, a missing argument
  | 'config'      // config.json (or an update's resources, an exec process.json) is wrong
  | 'notFound'    // no container (or image) of that name
  | 'exists'      // the name is taken
  | 'wrongState'  // the container's state does not allow the operation
  | 'setup'       // making or running the container failed on the way (the kernel said no)
  | 'host'        // this host lacks what was asked for (systemd, an LSM, a kernel feature)
  | 'image'       // the image store: a bad or hostile image, a registry's refusal
  | 'state';      // Skiff's own state on disk is damaged

export class SkiffError extends Error {
  constructor(readonly kind: ErrorKind, message: string, readonly exitCode = 1) {
    super(message);
  }
}

export const isKind = (e: unknown, kind: ErrorKind): e is SkiffError => e instanceof SkiffError && e.kind === kind;

// runc's wording where clients (containerd's go-runc, Podman) match on it.
export const notExist = () => new SkiffError('notFound', 'container does not exist');
export const notRunning = () => new SkiffError('wrongState', 'container not running');

// Go's %q (strconv.Quote), which runc's messages use: JSON's escapes, but \xNN for control
// bytes, \a and \v by name.
export function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\(?:u00([0-9a-f]{2})|.)/g, (m, h?: string) => (!h ? m : h === '07' ? '\\a' : h === '0b' ? '\\v' : `\\x${h}`))
    .replace(/\x7f/g, '\\x7f');
}

// A Node fs error as Go prints its errno ("no such file or directory"), as runc's messages have it.
export function errnoText(e: NodeJS.ErrnoException): string {
  const map: Record<string, string> = {
    EINVAL: 'invalid argument', EBUSY: 'device or resource busy', ENOENT: 'no such file or directory',
    EPERM: 'operation not permitted', EACCES: 'permission denied', ERANGE: 'numerical result out of range',
    ENOSPC: 'no space left on device', EOPNOTSUPP: 'operation not supported', ENOTSUP: 'operation not supported', ENODEV: 'no such device',
    ENAMETOOLONG: 'file name too long', ENOTDIR: 'not a directory', ELOOP: 'too many levels of symbolic links', EEXIST: 'file exists',
  };
  return (e.code && map[e.code]) || e.message;
}
