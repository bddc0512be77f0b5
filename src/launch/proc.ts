// Facts about host processes read from /proc.
import * as fs from 'fs';
import { native } from '../native';

// Field 22 of /proc/PID/stat: the start time in clock ticks since boot. With the pid it
// names one process for good: a reused pid has another start time.
export function pidStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // comm may hold spaces and parens: fields start after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (rest[0] === 'Z' || rest[0] === 'X') return undefined; // exited, not yet reaped
  return rest[19];
}

export function isAlive(pid: number, startTime: string): boolean {
  return pid > 0 && pidStartTime(pid) === startTime;
}

// Ends a half-made init or exec process and reaps it, so a failed command leaves none behind.
export function killAndReap(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  native().waitPidSync(pid);
}
