// OOM notifications. v1: an eventfd registered on memory.oom_control through
// cgroup.event_control (the kernel signals it on every OOM in the cgroup, and once more when
// the cgroup is removed). v2: memory.events, whose oom_kill count rises; inotify reports the
// change.
import * as fs from 'fs';
import * as path from 'path';
import type { CgroupRecord } from './manager';
import { cgroupNative } from './native';

export interface OomWatch {
  close(): void;
}

// Calls onOom for each OOM kill in the container's cgroup, onGone once the cgroup is removed.
export function watchOom(rec: CgroupRecord, onOom: () => void, onGone: () => void): OomWatch {
  if (rec.kind === 'v1') {
    const dir = rec.dirs['memory'];
    if (!dir) throw new Error('no memory cgroup: cannot watch for OOM');
    const control = path.join(dir, 'cgroup.event_control');
    const efd = cgroupNative().eventfd();
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
  const dir = rec.dirs[''];
  const file = path.join(dir, 'memory.events');
  const count = () => {
    const m = /^oom_kill (\d+)$/m.exec(fs.readFileSync(file, 'utf8'));
    return m ? Number(m[1]) : 0;
  };
  let seen = count();
  const w = fs.watch(file, () => {
    let now: number;
    try {
      now = count();
    } catch {
      w.close();
      onGone();
      return;
    }
    for (; seen < now; seen++) onOom();
  });
  w.on('error', () => {
    w.close();
    onGone();
  });
  return { close: () => w.close() };
}
