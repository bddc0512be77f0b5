import type { Invocation } from '../main';
import { out } from '../output';
import { human, openStore } from './common';

export default function imageLs(inv: Invocation): void {
  const s = openStore(inv);
  const refs = s.listRefs();
  if (inv.flags.quiet) {
    out(refs.map((r) => r.name + '\n').join(''));
    return;
  }
  const { imageUsage } = require('../../image/gc') as typeof import('../../image/gc');
  const rows = refs.map((r) => imageUsage(s, r, refs));
  if (inv.flags.json) {
    out(JSON.stringify(rows, null, 2) + '\n');
    return;
  }
  const table = [['NAME', 'DIGEST', 'PLATFORM', 'CREATED', 'SIZE', 'UNPACKED', 'SHARED']];
  for (const u of rows) {
    const shared = u.layers.filter((l) => l.sharedWith > 0).reduce((a, l) => a + l.unpacked, 0);
    table.push([u.name, u.digest.slice(7, 19), u.platform, u.created.slice(0, 19).replace('T', ' '), human(u.size), human(u.unpacked), human(shared)]);
  }
  const w = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  out(table.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n').join(''));
}
