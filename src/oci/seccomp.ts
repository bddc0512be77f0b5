// linux.seccomp checked and normalized, with the tables of names the runtime-spec uses: the
// checks, the compiler (src/launch/seccomp.ts) and `skiff features` all read these tables.
import { SkiffError } from '../errors';
import { U64, exactInteger, integerProblem } from '../oci/json';

const invalid = (field: string, why: string) => new SkiffError('config', `config.json: linux.seccomp${field}: ${why}`);

const EPERM = 1;
export const ACTIONS: Record<string, (errno: number) => number> = {
  SCMP_ACT_KILL: () => 0x00000000,
  SCMP_ACT_KILL_THREAD: () => 0x00000000,
  SCMP_ACT_KILL_PROCESS: () => 0x80000000,
  SCMP_ACT_TRAP: () => 0x00030000,
  SCMP_ACT_ERRNO: (e) => 0x00050000 | (e & 0xffff),
  SCMP_ACT_TRACE: (e) => 0x7ff00000 | (e & 0xffff),
  SCMP_ACT_LOG: () => 0x7ffc0000,
  SCMP_ACT_ALLOW: () => 0x7fff0000,
  SCMP_ACT_NOTIFY: () => 0x7fc00000,
};
export const OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1, SCMP_CMP_LT: 2, SCMP_CMP_LE: 3, SCMP_CMP_EQ: 4, SCMP_CMP_GE: 5, SCMP_CMP_GT: 6, SCMP_CMP_MASKED_EQ: 7,
};
export const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1, SECCOMP_FILTER_FLAG_LOG: 2, SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};
// SCMP_ARCH_X86_64 -> libseccomp's "x86_64"
export const ARCHES: Record<string, string> = {
  SCMP_ARCH_X86: 'x86', SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_ARM: 'arm', SCMP_ARCH_AARCH64: 'aarch64',
  SCMP_ARCH_MIPS: 'mips', SCMP_ARCH_MIPS64: 'mips64', SCMP_ARCH_MIPS64N32: 'mips64n32', SCMP_ARCH_MIPSEL: 'mipsel',
  SCMP_ARCH_MIPSEL64: 'mipsel64', SCMP_ARCH_MIPSEL64N32: 'mipsel64n32', SCMP_ARCH_PPC: 'ppc', SCMP_ARCH_PPC64: 'ppc64',
  SCMP_ARCH_PPC64LE: 'ppc64le', SCMP_ARCH_S390: 's390', SCMP_ARCH_S390X: 's390x', SCMP_ARCH_PARISC: 'parisc',
  SCMP_ARCH_PARISC64: 'parisc64', SCMP_ARCH_RISCV64: 'riscv64',
};

export interface Rule {
  syscall: string;
  action: number;
  args: { index: number; op: number; value: bigint; valueTwo: bigint }[];
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function action(name: unknown, errnoRet: unknown, field: string): number {
  if (typeof name !== 'string' || !ACTIONS[name]) throw invalid(field, `unknown action ${JSON.stringify(name)}`);
  // The action carries 16 bits of errno: a larger value would be cut, not refused.
  const why = errnoRet === undefined ? undefined : integerProblem(errnoRet, [0n, 65535n]);
  if (why) throw invalid(field.replace(/defaultAction$/, 'defaultErrnoRet').replace(/\.action$/, '.errnoRet'), why);
  return ACTIONS[name](errnoRet === undefined ? EPERM : (errnoRet as number));
}

// Argument values reach the filter as bigints: any u64 is exact, masks such as 2^64-1 too.
function u64(v: unknown, field: string): bigint {
  const why = integerProblem(v, U64, true);
  if (why) throw invalid(field, why);
  return exactInteger(v) as bigint;
}

// Checks linux.seccomp and returns what the addon compiles.
export function normalizeSeccomp(s: unknown): { defaultAction: number; architectures: string[]; rules: Rule[]; flags: number } {
  if (!isObj(s)) throw invalid('', 'must be an object');
  if (s.listenerPath !== undefined && (typeof s.listenerPath !== 'string' || !s.listenerPath.startsWith('/')))
    throw invalid('.listenerPath', 'must be an absolute path');
  if (s.listenerMetadata !== undefined && typeof s.listenerMetadata !== 'string') throw invalid('.listenerMetadata', 'must be a string');
  const defaultAction = action(s.defaultAction, s.defaultErrnoRet, '.defaultAction');
  const architectures = ((s.architectures ?? []) as unknown[]).map((a, i) => {
    if (typeof a !== 'string' || !ARCHES[a]) throw invalid(`.architectures[${i}]`, `unknown architecture ${JSON.stringify(a)}`);
    return ARCHES[a];
  });
  let flags = 0;
  ((s.flags ?? []) as unknown[]).forEach((f, i) => {
    if (typeof f !== 'string' || FLAGS[f] === undefined) throw invalid(`.flags[${i}]`, `unknown flag ${JSON.stringify(f)}`);
    flags |= FLAGS[f];
  });
  const rules: Rule[] = [];
  if (s.syscalls !== undefined && !Array.isArray(s.syscalls)) throw invalid('.syscalls', 'must be an array');
  ((s.syscalls ?? []) as unknown[]).forEach((sc, i) => {
    const f = `.syscalls[${i}]`;
    if (!isObj(sc)) throw invalid(f, 'must be an object');
    if (!Array.isArray(sc.names) || sc.names.length === 0 || sc.names.some((n) => typeof n !== 'string'))
      throw invalid(`${f}.names`, 'must be a non-empty array of syscall names');
    const act = action(sc.action, sc.errnoRet, `${f}.action`);
    if (act === ACTIONS.SCMP_ACT_NOTIFY(0) && s.listenerPath === undefined) throw invalid(`${f}.action`, 'SCMP_ACT_NOTIFY needs a listenerPath');
    // The runtime's own writes (to its sync socket, to the agent) would wait on the agent:
    // runc refuses it, in these words.
    if (act === ACTIONS.SCMP_ACT_NOTIFY(0) && (sc.names as string[]).includes('write'))
      throw new SkiffError('config', 'unable to start container process: unable to init seccomp: SCMP_ACT_NOTIFY cannot be used for the write syscall');
    const args = ((sc.args ?? []) as unknown[]).map((a, j) => {
      const af = `${f}.args[${j}]`;
      if (!isObj(a)) throw invalid(af, 'must be an object');
      if (!Number.isInteger(a.index) || (a.index as number) < 0 || (a.index as number) > 5) throw invalid(`${af}.index`, 'must be 0 to 5');
      if (typeof a.op !== 'string' || OPERATORS[a.op] === undefined) throw invalid(`${af}.op`, `unknown operator ${JSON.stringify(a.op)}`);
      return { index: a.index as number, op: OPERATORS[a.op], value: u64(a.value, `${af}.value`), valueTwo: a.valueTwo === undefined ? 0n : u64(a.valueTwo, `${af}.valueTwo`) };
    });
    // runc's rule: conditions on distinct arguments are ANDed in one rule; several on the
    // same argument become one rule each.
    const perArg = new Map<number, number>();
    for (const a of args) perArg.set(a.index, (perArg.get(a.index) ?? 0) + 1);
    const split = [...perArg.values()].some((n) => n > 1);
    for (const name of sc.names as string[]) {
      if (split) for (const a of args) rules.push({ syscall: name, action: act, args: [a] });
      else rules.push({ syscall: name, action: act, args });
    }
  });
  return { defaultAction, architectures, rules, flags };
}

