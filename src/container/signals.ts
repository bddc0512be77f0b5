// Signal names as runc takes them: "KILL", "SIGKILL", "9".
import * as os from 'os';
import { SkiffError } from '../errors';

export function parseSignal(s: string): number {
  const sigs = os.constants.signals as Record<string, number>;
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    if (n > 0 && n <= 64) return n;
  } else {
    const name = s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`;
    if (sigs[name] !== undefined) return sigs[name];
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name) ?? /^SIGRTMAX(?:-(\d+))?$/.exec(name);
    if (rt) {
      const off = Number(rt[1] ?? 0);
      const n = name.startsWith('SIGRTMIN') ? 34 + off : 64 - off;
      if (n >= 34 && n <= 64) return n;
    }
  }
  throw new SkiffError(`unknown signal ${JSON.stringify(s)}`);
}
