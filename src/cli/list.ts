import * as fs from 'fs';
import { loadContainer } from '../container/ops';
import { publicState } from '../container/view';
import type { State } from '../oci/spec';
import type { Invocation } from './main';
import { SkiffError } from '../errors';
import { out } from './output';
import { logWarn } from '../log';
import { parsePasswd } from '../passwd';
import type { PwEntry } from '../passwd';

// The host's users, read once for the whole listing.
function hostUsers(): PwEntry[] | undefined {
  try {
    return parsePasswd(fs.readFileSync('/etc/passwd', 'utf8'));
  } catch {
    return undefined;
  }
}

function ownerName(dir: string, users: PwEntry[] | undefined): string {
  if (!users) return '';
  try {
    const uid = fs.statSync(dir).uid;
    return users.find((e) => e.uid === uid)?.name ?? `#${uid}`;
  } catch {
    return '';
  }
}

// Go's text/tabwriter as runc configures it: min width 12, padding 3.
function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(12, ...rows.map((r) => r[i].length + 3)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('')).join('\n') + '\n';
}

export default function list(inv: Invocation): void {
  const s = inv.store;
  const o = inv.flags;
  if (o.format !== 'table' && o.format !== 'json') throw new SkiffError('usage', `invalid format option ${JSON.stringify(o.format)}`);
  const states: State[] = [];
  const users = hostUsers();
  for (const id of s.ids()) {
    try {
      const c = loadContainer(s, id);
      states.push(publicState(c.state, c.status, ownerName(s.dir(id), users)));
    } catch (e) {
      // One bad entry must not hide the others, and gets no made-up state: a warning each.
      // A directory removed while we listed is no entry at all.
      if (!fs.existsSync(s.dir(id))) continue;
      logWarn(`${id}: ${(e as Error).message} (skiff delete --force ${id} removes it)`);
    }
  }
  if (o.quiet) {
    out(states.map((st) => st.id + '\n').join(''));
  } else if (o.format === 'json') {
    out(states.length ? JSON.stringify(states) + '\n' : 'null\n');
  } else {
    const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...states.map((st) => [st.id, String(st.pid), st.status, st.bundle, st.created, st.owner])];
    out(table(rows));
  }
}
