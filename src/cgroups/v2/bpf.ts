// cgroup v2 device control: the rule list (the config's plus runc's default devices) reduced
// as the v1 devices cgroup would (runc's devices emulator), then compiled to a
// BPF_PROG_TYPE_CGROUP_DEVICE program with runc's layout (devicefilter.go), attached by the
// addon. Default-deny unless a rule says otherwise.
import type { DeviceRule } from '../../oci/spec';
import { SkiffError } from '../../errors';
import { effectiveRules } from '../devices';
import { native } from '../../native';

type Perm = 'r' | 'w' | 'm';
const permSet = (s: string | undefined): Set<Perm> => new Set([...(s ?? 'rwm')].filter((c): c is Perm => 'rwm'.includes(c)));
const permStr = (p: Set<Perm>) => ['r', 'w', 'm'].filter((c) => p.has(c as Perm)).join('');

export interface CleanRule {
  type: 'b' | 'c';
  major: number; // -1: any
  minor: number;
  access: string;
  allow: boolean;
}

const wild = (v: number | null | undefined) => (v === undefined || v === null || v < 0 ? -1 : v);

// runc's devices.Emulator: the v1 semantics (a wildcard "a" rule resets to allow-all or
// deny-all; other rules add or remove exceptions) and its refusal to punch a hole in a
// wildcard exception, which v1 would silently ignore.
export function emulate(rules: DeviceRule[]): { defaultAllow: boolean; rules: CleanRule[] } {
  let defaultAllow = false;
  let ex = new Map<string, { type: 'b' | 'c'; major: number; minor: number; perms: Set<Perm> }>();
  const key = (t: string, ma: number, mi: number) => `${t} ${ma} ${mi}`;
  for (const r of rules) {
    const type = r.type ?? 'a';
    if (type === 'a') {
      defaultAllow = r.allow;
      ex = new Map();
      continue;
    }
    if (type !== 'b' && type !== 'c') throw new SkiffError('config', `devices: invalid device type ${JSON.stringify(type)}`);
    const major = wild(r.major);
    const minor = wild(r.minor);
    const perms = permSet(r.access);
    const k = key(type, major, minor);
    if (r.allow === defaultAllow) {
      // Remove an exception (rmRule).
      for (const [pm, pn] of [[-1, minor], [major, -1], [-1, -1]]) {
        if (pm === major && pn === minor) continue;
        const partial = ex.get(key(type, pm, pn));
        if (partial && [...perms].some((p) => partial.perms.has(p))) {
          throw new SkiffError('config', `devices: rule ${type} ${major < 0 ? '*' : major}:${minor < 0 ? '*' : minor} ${permStr(perms)} cannot punch a hole in the wildcard rule ${type} ${pm < 0 ? '*' : pm}:${pn < 0 ? '*' : pn} ${permStr(partial.perms)}`);
        }
      }
      const cur = ex.get(k);
      if (cur) {
        for (const p of perms) cur.perms.delete(p);
        if (cur.perms.size === 0) ex.delete(k);
      }
    } else {
      const cur = ex.get(k);
      if (cur) for (const p of perms) cur.perms.add(p);
      else ex.set(k, { type, major, minor, perms });
    }
  }
  const out = [...ex.values()].sort((a, b) => (a.type !== b.type ? (a.type < b.type ? -1 : 1) : a.major !== b.major ? a.major - b.major : a.minor - b.minor));
  return { defaultAllow, rules: out.map((e) => ({ type: e.type, major: e.major, minor: e.minor, access: permStr(e.perms), allow: !defaultAllow })) };
}

// eBPF encoding: op, dst | src << 4, off (s16), imm (s32).
const R0 = 0, R1 = 1, R2 = 2, R3 = 3, R4 = 4, R5 = 5;
interface Insn { op: number; dst: number; src: number; off: number; imm: number; jumpTo?: number }
const LDX_W = 0x61, ALU_AND_K = 0x54, ALU_RSH_K = 0x74, ALU_MOV_K = 0xb4, ALU_MOV_X = 0xbc, JNE_K = 0x55, JNE_X = 0x5d, EXIT = 0x95;
const DEV_BLOCK = 1, DEV_CHAR = 2;
const ACC_MKNOD = 1, ACC_READ = 2, ACC_WRITE = 4;

// The program (runc's devicefilter): R2 = type, R3 = access, R4 = major, R5 = minor; one
// block per rule that jumps to the next block on any mismatch and returns the rule's verdict
// on a match; the last block returns the default.
export function deviceProgram(rules: DeviceRule[]): Buffer {
  const { defaultAllow, rules: clean } = emulate(rules);
  const insns: Insn[] = [
    { op: LDX_W, dst: R2, src: R1, off: 0, imm: 0 },
    { op: ALU_AND_K, dst: R2, src: 0, off: 0, imm: 0xffff },
    { op: LDX_W, dst: R3, src: R1, off: 0, imm: 0 },
    { op: ALU_RSH_K, dst: R3, src: 0, off: 0, imm: 16 },
    { op: LDX_W, dst: R4, src: R1, off: 4, imm: 0 },
    { op: LDX_W, dst: R5, src: R1, off: 8, imm: 0 },
  ];
  const blockStarts: number[] = [];
  clean.forEach((r, block) => {
    blockStarts.push(insns.length);
    const next = block + 1;
    insns.push({ op: JNE_K, dst: R2, src: 0, off: 0, imm: r.type === 'c' ? DEV_CHAR : DEV_BLOCK, jumpTo: next });
    let acc = 0;
    for (const c of r.access) acc |= c === 'r' ? ACC_READ : c === 'w' ? ACC_WRITE : ACC_MKNOD;
    if (acc !== (ACC_READ | ACC_WRITE | ACC_MKNOD)) {
      insns.push({ op: ALU_MOV_X, dst: R1, src: R3, off: 0, imm: 0 });
      insns.push({ op: ALU_AND_K, dst: R1, src: 0, off: 0, imm: acc });
      insns.push({ op: JNE_X, dst: R1, src: R3, off: 0, imm: 0, jumpTo: next });
    }
    if (r.major >= 0) insns.push({ op: JNE_K, dst: R4, src: 0, off: 0, imm: r.major | 0, jumpTo: next });
    if (r.minor >= 0) insns.push({ op: JNE_K, dst: R5, src: 0, off: 0, imm: r.minor | 0, jumpTo: next });
    insns.push({ op: ALU_MOV_K, dst: R0, src: 0, off: 0, imm: r.allow ? 1 : 0 });
    insns.push({ op: EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  });
  blockStarts.push(insns.length);
  insns.push({ op: ALU_MOV_K, dst: R0, src: 0, off: 0, imm: defaultAllow ? 1 : 0 });
  insns.push({ op: EXIT, dst: 0, src: 0, off: 0, imm: 0 });
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    const off = ins.jumpTo !== undefined ? blockStarts[ins.jumpTo] - i - 1 : ins.off;
    buf.writeUInt8(ins.op, i * 8);
    buf.writeUInt8((ins.dst & 0xf) | ((ins.src & 0xf) << 4), i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return buf;
}

// Attaches the container's device filter (config rules + runc's defaults) to its v2 cgroup.
export function attachDeviceFilter(dir: string | undefined, rules: DeviceRule[] | undefined): void {
  if (!dir) return;
  const prog = deviceProgram(effectiveRules(rules));
  try {
    native().cgroups.attachDeviceFilter(dir, prog);
  } catch (e) {
    throw new SkiffError('config', `linux.resources.devices: ${(e as Error).message}`);
  }
}
