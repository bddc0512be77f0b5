// Errors that reach the user: one message that names the container and the cause.

export class SkiffError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

// runc's wording where clients (containerd's go-runc, Podman) match on it.
export const notExist = () => new SkiffError('container does not exist');
export const notRunning = () => new SkiffError('container not running');

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
