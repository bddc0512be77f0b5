// The v1 devices cgroup: each rule as a devices.allow or devices.deny line, written as the
// smallest transition from what the cgroup allows now (runc's devices emulator), so that a
// populated cgroup (a pod's, or one an update rewrites) never passes through "deny all".
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

// What a devices cgroup lets through, as devices.list shows it: everything ("a *:* rwm"), or
// nothing but the listed entries ("c 1:3" -> "rwm"). `exact: false`: a state devices.list
// cannot show (exceptions to allow-all), where only a full rewrite is sure.
export interface DeviceState {
  allowAll: boolean;
  allowed: Map<string, string>;
  exact: boolean;
}

const LETTERS = ['r', 'w', 'm'];
const union = (a: string, b: string) => LETTERS.filter((c) => a.includes(c) || b.includes(c)).join('');
const minus = (a: string, b: string) => LETTERS.filter((c) => a.includes(c) && !b.includes(c)).join('');

export function parseDeviceList(text: string): DeviceState {
  const state: DeviceState = { allowAll: false, allowed: new Map(), exact: true };
  for (const line of text.split('\n')) {
    const m = /^([abc]) (\S+:\S+) ([rwm]+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'a') state.allowAll = true;
    else state.allowed.set(`${m[1]} ${m[2]}`, union(state.allowed.get(`${m[1]} ${m[2]}`) ?? '', m[3]));
  }
  if (state.allowAll) state.allowed.clear();
  return state;
}

// The state the rules leave, as the kernel applies them one by one.
export function stateAfter(rules: DeviceRule[]): DeviceState {
  const state: DeviceState = { allowAll: true, allowed: new Map(), exact: true };
  for (const r of rules) {
    const line = ruleLine(r);
    if (line === 'a') {
      state.allowAll = r.allow;
      state.allowed.clear();
      state.exact = true;
      continue;
    }
    const [type, nums, access] = line.split(' ');
    const key = `${type} ${nums}`;
    if (state.allowAll) {
      if (!r.allow) state.exact = false;
      continue;
    }
    const left = r.allow ? union(state.allowed.get(key) ?? '', access) : minus(state.allowed.get(key) ?? '', access);
    if (left) state.allowed.set(key, left);
    else state.allowed.delete(key);
  }
  return state;
}

// The lines to write, [file, line], to go from `current` to what `rules` make.
export function deviceTransition(current: DeviceState, rules: DeviceRule[]): [string, string][] {
  const target = stateAfter(rules);
  const full = (): [string, string][] => rules.map((r) => [r.allow ? 'devices.allow' : 'devices.deny', ruleLine(r)]);
  // Only between two deny-by-default states is the difference a list of entries.
  if (current.allowAll || target.allowAll || !current.exact || !target.exact) return full();
  const out: [string, string][] = [];
  // Additions first: an entry that stays allowed is never denied on the way.
  for (const [key, access] of target.allowed) {
    const add = minus(access, current.allowed.get(key) ?? '');
    if (add) out.push(['devices.allow', `${key} ${add}`]);
  }
  for (const [key, access] of current.allowed) {
    const drop = minus(access, target.allowed.get(key) ?? '');
    if (drop) out.push(['devices.deny', `${key} ${drop}`]);
  }
  return out;
}

export function writeDeviceRules(dir: string | undefined, rules: DeviceRule[] | undefined): void {
  if (!dir) return;
  let list = 'a *:* rwm';
  try {
    list = fs.readFileSync(path.join(dir, 'devices.list'), 'utf8');
  } catch (e) {
    // No devices.list: taken as a fresh cgroup's (allow-all), which the whole list rewrites.
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const current = parseDeviceList(list);
  for (const [file, line] of deviceTransition(current, effectiveRules(rules))) fs.writeFileSync(path.join(dir, file), line);
}
