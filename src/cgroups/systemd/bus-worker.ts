// The D-Bus side of src/cgroups/systemd/bus.ts, on a worker thread: Skiff's commands are
// synchronous, D-Bus clients are not, so the command's thread waits (Atomics.wait) while
// this thread talks to systemd with dbus-next and writes the answer into the shared buffer.
// It never throws: every failure is an answer, so the waiting thread always wakes.
import { parentPort, workerData } from 'worker_threads';
import type { BusReply, BusRequest } from './bus';

type DBus = typeof import('dbus-next');
type Bus = import('dbus-next').MessageBus;

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const JOB_TIMEOUT_MS = 30000;

const shared = workerData as { flag: SharedArrayBuffer; data: SharedArrayBuffer };
const flag = new Int32Array(shared.flag);
const data = Buffer.from(shared.data);

function reply(r: BusReply): void {
  let text = JSON.stringify(r);
  if (Buffer.byteLength(text) > data.length - 4) text = JSON.stringify({ error: 'the D-Bus answer does not fit the shared buffer' });
  const len = data.write(text, 4);
  data.writeUInt32LE(len, 0);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}

let dbus: DBus | undefined;
let bus: Bus | undefined;
// JobRemoved results by job path, kept from the first signal on: a job may end before the
// call that made it has returned.
const jobs = new Map<string, string>();
const waiters = new Map<string, (result: string) => void>();

async function connect(): Promise<{ d: DBus; b: Bus }> {
  if (dbus && bus) return { d: dbus, b: bus };
  const d = (dbus = require('dbus-next') as DBus);
  const b = (bus = d.systemBus());
  b.on('message', (msg: import('dbus-next').Message) => {
    if (msg.type !== d.MessageType.SIGNAL || msg.interface !== MANAGER || msg.member !== 'JobRemoved') return;
    const [, job, , result] = msg.body as [number, string, string, string];
    const w = waiters.get(job);
    if (w) w(result);
    else jobs.set(job, result);
  });
  // Matched before any job is made; Subscribe asks systemd to send job signals at all.
  await call(d, b, 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch', 's',
    [`type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`]);
  await manager(d, b, 'Subscribe', '', []);
  return { d, b };
}

async function call(d: DBus, b: Bus, destination: string, path: string, iface: string, member: string, signature: string, body: unknown[]): Promise<unknown[]> {
  const msg = new d.Message({ destination, path, interface: iface, member, signature, body });
  const r = await b.call(msg);
  return r?.body ?? [];
}

const manager = (d: DBus, b: Bus, member: string, signature: string, body: unknown[]) =>
  call(d, b, SYSTEMD, '/org/freedesktop/systemd1', MANAGER, member, signature, body);

function waitJob(job: string): Promise<string> {
  const done = jobs.get(job);
  if (done !== undefined) {
    jobs.delete(job);
    return Promise.resolve(done);
  }
  return new Promise((resolve) => {
    const t = setTimeout(() => { waiters.delete(job); resolve('timeout'); }, JOB_TIMEOUT_MS);
    waiters.set(job, (result) => { clearTimeout(t); waiters.delete(job); resolve(result); });
  });
}

// Properties cross the thread boundary as [name, signature, value]; a structured clone turns
// Buffers into Uint8Arrays, which dbus-next's "ay" wants as Buffers again.
function variants(d: DBus, props: [string, string, unknown][]): unknown[] {
  return props.map(([name, sig, value]) => [name, new d.Variant(sig, value instanceof Uint8Array ? Buffer.from(value) : value)]);
}

const errName = (e: unknown): string => (e as { type?: string }).type ?? '';
const errText = (e: unknown): string => (e as { text?: string }).text ?? (e as Error).message ?? String(e);

async function resetFailed(d: DBus, b: Bus, unit: string): Promise<void> {
  try {
    await manager(d, b, 'ResetFailedUnit', 's', [unit]);
  } catch {
    // not failed, or already gone
  }
}

async function handle(req: BusRequest): Promise<BusReply> {
  const { d, b } = await connect();
  switch (req.op) {
    case 'start': {
      // runc's startUnit: a unit of that name left over (failed) is reset once and retried.
      for (let attempt = 0; ; attempt++) {
        let job: string;
        try {
          [job] = (await manager(d, b, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', [req.unit, 'replace', variants(d, req.props), []])) as string[];
        } catch (e) {
          if (errName(e) === 'org.freedesktop.systemd1.UnitExists' && attempt === 0) {
            await resetFailed(d, b, req.unit);
            continue;
          }
          return { error: `StartTransientUnit ${req.unit}: ${errText(e)}`, name: errName(e) };
        }
        const result = await waitJob(job);
        if (result === 'done') return {};
        await resetFailed(d, b, req.unit);
        return { error: `error creating systemd unit ${req.unit}: got ${result}` };
      }
    }
    case 'set':
      try {
        await manager(d, b, 'SetUnitProperties', 'sba(sv)', [req.unit, true, variants(d, req.props)]);
        return {};
      } catch (e) {
        return { error: `SetUnitProperties ${req.unit}: ${errText(e)}`, name: errName(e) };
      }
    case 'stop': {
      let result = 'done';
      try {
        const [job] = (await manager(d, b, 'StopUnit', 'ss', [req.unit, 'replace'])) as string[];
        result = await waitJob(job);
      } catch (e) {
        if (errName(e) !== 'org.freedesktop.systemd1.NoSuchUnit') return { error: `StopUnit ${req.unit}: ${errText(e)}`, name: errName(e) };
      }
      // A failed unit stays listed until it is reset.
      await resetFailed(d, b, req.unit);
      return result === 'done' ? {} : { warning: `stopping systemd unit ${req.unit}: got ${result}` };
    }
  }
}

parentPort!.on('message', (req: BusRequest) => {
  handle(req).then(reply, (e) => reply({ error: `systemd over D-Bus: ${errText(e)}`, name: errName(e) }));
});
