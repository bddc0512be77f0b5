// A checked linux.seccomp profile -> BPF bytes, compiled by libseccomp in the addon, in the
// parent (the child only loads it).
import { native } from '../native';
import { normalizeSeccomp } from '../oci/seccomp';

export interface SeccompProgram {
  filter: Buffer;
  flags: number;
}

export function compileSeccomp(s: unknown): SeccompProgram {
  const p = normalizeSeccomp(s);
  return { filter: native().compileSeccomp(p), flags: p.flags };
}
