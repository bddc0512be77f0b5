// A synchronous client for the few systemd calls the driver makes. Skiff's commands are
// synchronous (the launch sequence is), D-Bus is a conversation on a socket: one worker
// thread per process holds the bus connection (dbus-next, pure JavaScript) and the calling
// thread blocks on a shared flag until the worker has the answer. The worker is unref'd, so
// it never keeps a command alive.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { SkiffError } from '../../errors';
import { inCompiledExecutable } from '../../native';
import type { Property } from './properties';

export type BusRequest =
  | { op: 'start'; unit: string; props: Property[] }
  | { op: 'set'; unit: string; props: Property[] }
  | { op: 'stop'; unit: string };

export interface BusReply {
  error?: string;
  // the D-Bus error name, when systemd answered with one
  name?: string;
  warning?: string;
}

// Past runc's 30 s wait for a job, with room for the worker to start.
const WAIT_MS = 45000;

let conn: { worker: Worker; flag: Int32Array; data: Buffer } | undefined;

// The worker's file. The compiled bin/skiff holds it as an entry point of its own
// (scripts/build-bin.js), named as it was given to bun build; under Node, beside this file.
function workerEntry(): string {
  if (inCompiledExecutable()) return './dist/src/cgroups/systemd/bus-worker.js';
  return path.join(__dirname, 'bus-worker.js');
}

function worker(): NonNullable<typeof conn> {
  if (conn) return conn;
  const flag = new SharedArrayBuffer(4);
  const data = new SharedArrayBuffer(64 * 1024);
  const w = new Worker(workerEntry(), { workerData: { flag, data } });
  w.unref();
  conn = { worker: w, flag: new Int32Array(flag), data: Buffer.from(data) };
  return conn;
}

export function busCall(req: BusRequest): BusReply {
  const c = worker();
  Atomics.store(c.flag, 0, 0);
  c.worker.postMessage(req);
  if (Atomics.wait(c.flag, 0, 0, WAIT_MS) === 'timed-out') {
    throw new SkiffError('host', `systemd cgroup manager: no answer from systemd over D-Bus in ${WAIT_MS / 1000}s (${req.op} ${req.unit})`);
  }
  const len = c.data.readUInt32LE(0);
  return JSON.parse(c.data.toString('utf8', 4, 4 + len)) as BusReply;
}

// The call, with a failure as a SkiffError of `kind`.
export function busDo(req: BusRequest, kind: 'setup' | 'host' = 'setup'): BusReply {
  const r = busCall(req);
  if (r.error) throw new SkiffError(kind, `systemd cgroup manager: ${r.error}`);
  return r;
}
