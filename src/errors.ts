// Errors that reach the user: one message that names the container and the cause.

export class SkiffError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

// runc's wording where clients (containerd's go-runc, Podman) match on it.
export const notExist = () => new SkiffError('container does not exist');
export const notRunning = () => new SkiffError('container not running');
