// The v1 devices cgroup: each rule as a devices.allow or devices.deny line.
import * as fs from 'fs';
import * as path from 'path';
import type { DeviceRule } from '../../oci/spec';
import { effectiveRules } from '../devices';

export function ruleLine(r: DeviceRule): string {
  const n = (v: number | null | undefined) => (v === undefined || v === null || v < 0 ? '*' : String(v));
  const type = r.type ?? 'a';
  if (type === 'a') return 'a';
  return `${type} ${n(r.major)}:${n(r.minor)} ${r.access ?? 'rwm'}`;
}

export function writeDeviceRules(dir: string | undefined, rules: DeviceRule[] | undefined): void {
  if (!dir) return;
  for (const r of effectiveRules(rules)) {
    fs.writeFileSync(path.join(dir, r.allow ? 'devices.allow' : 'devices.deny'), ruleLine(r));
  }
}
