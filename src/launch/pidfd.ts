// --pidfd-socket (runc 1.2+): the caller gets a pidfd of the container's process (the init
// for create/run, the new process for exec) over a unix socket it listens on. Connected
// before anything is made, so a wrong path fails first; sent once the process exists.
import { SkiffError } from '../errors';
import { native } from '../native';

export class PidfdSocket {
  private constructor(private fd: number) {}

  static connect(path: string | undefined): PidfdSocket | undefined {
    if (!path) return undefined;
    try {
      return new PidfdSocket(native().connectUnix(path, 'pidfd socket'));
    } catch (e) {
      throw new SkiffError('usage', (e as Error).message);
    }
  }

  send(pid: number): void {
    try {
      native().sendPidfd(this.fd, pid);
    } catch (e) {
      throw new SkiffError('host', `--pidfd-socket: ${(e as Error).message}`);
    }
  }

  close(): void {
    if (this.fd < 0) return;
    native().closeFd(this.fd);
    this.fd = -1;
  }
}
