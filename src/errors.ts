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
