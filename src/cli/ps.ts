// ps: json is the array of host pids; table runs ps(1) and keeps the container's lines.
import { execFileSync } from 'child_process';
import { loadContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import type { Invocation } from './main';
import { out } from './output';

export default function ps(inv: Invocation): void {
  const [id, ...psArgs] = inv.args;
  const o = inv.flags;
  const c = loadContainer(inv.store, id);
  assertAllowed('ps', c.status, id);
  const pids = c.cgroups.pids();
  if (o.format === 'json') {
    // runc encodes a Go nil slice: no processes are "null".
    out((pids.length ? JSON.stringify(pids) : 'null') + '\n');
    return;
  }
  const text = execFileSync('ps', psArgs.length ? psArgs : ['-ef'], { encoding: 'utf8' });
  const lines = text.split('\n');
  const header = lines[0];
  const pidCol = header.trim().split(/\s+/).indexOf('PID');
  if (pidCol < 0) throw new Error(`ps: no PID column in ${JSON.stringify(header)}`);
  const keep = new Set(pids.map(String));
  out([header, ...lines.slice(1).filter((l) => keep.has(l.trim().split(/\s+/)[pidCol]))].join('\n') + '\n');
}
