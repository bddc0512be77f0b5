// v1 OOM notifications: an eventfd registered on memory.oom_control through
// cgroup.event_control. The kernel signals it on every OOM in the cgroup, and once more when
// the cgroup is removed.
import * as fs from 'fs';
import * as path from 'path';
import type { OomWatch } from '../manager';
import { native } from '../../native';

export function watchOom(dir: string | undefined, onOom: () => void, onGone: () => void): OomWatch {
  if (!dir) throw new Error('no memory cgroup: cannot watch for OOM');
  const control = path.join(dir, 'cgroup.event_control');
  const efd = native().cgroups.eventfd();
  const ofd = fs.openSync(path.join(dir, 'memory.oom_control'), fs.constants.O_RDONLY);
  fs.writeFileSync(control, `${efd} ${ofd}`);
  let closed = false;
  const buf = Buffer.alloc(8);
  const close = () => {
    if (closed) return;
    closed = true;
    // The read blocked on the eventfd holds a thread-pool thread, and libuv joins those at
    // exit: wake it with an event of our own.
    const one = Buffer.alloc(8);
    one.writeBigUInt64LE(1n);
    try {
      fs.writeSync(efd, one);
    } catch {
      // already closed
    }
  };
  const loop = () => {
    fs.read(efd, buf, 0, 8, null, (err) => {
      if (closed) {
        fs.close(efd, () => undefined);
        fs.close(ofd, () => undefined);
        return;
      }
      if (err || !fs.existsSync(control)) {
        closed = true;
        onGone();
        return;
      }
      onOom();
      loop();
    });
  };
  loop();
  return { close };
}
