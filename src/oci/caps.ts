// Capability and rlimit names as the runtime-spec writes them, and their kernel numbers.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { JsonNumber, exactInteger } from './json';

export const CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

let lastCap: number | undefined;
export function capLastCap(): number {
  if (lastCap === undefined) {
    try {
      lastCap = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    } catch {
      lastCap = CAPABILITIES.length - 1;
    }
  }
  return lastCap;
}

// A set of names as a bit mask. Unknown names are errors; names the running kernel does not
// have are left out, as runc does, since a mask cannot hold what the kernel cannot grant.
export function capMask(names: string[] | undefined, field: string): bigint {
  let mask = 0n;
  const last = capLastCap();
  for (const name of names ?? []) {
    const n = CAPABILITIES.indexOf(name.toUpperCase().startsWith('CAP_') ? name.toUpperCase() : `CAP_${name.toUpperCase()}`);
    if (n < 0) throw new SkiffError('config', `config.json: ${field}: unknown capability ${JSON.stringify(name)}`);
    if (n <= last) mask |= 1n << BigInt(n);
  }
  return mask;
}

export const RLIMITS: Record<string, number> = {
  RLIMIT_CPU: 0, RLIMIT_FSIZE: 1, RLIMIT_DATA: 2, RLIMIT_STACK: 3, RLIMIT_CORE: 4, RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6, RLIMIT_NOFILE: 7, RLIMIT_MEMLOCK: 8, RLIMIT_AS: 9, RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11, RLIMIT_MSGQUEUE: 12, RLIMIT_NICE: 13, RLIMIT_RTPRIO: 14, RLIMIT_RTTIME: 15,
};

// A limit as setrlimit takes it. The config's literal is kept (JsonNumber) where a double
// cannot hold it: 18446744073709551615 is RLIM_INFINITY, 18446744073709551614 is not.
// Validation has refused anything that is not an exact integer in [0, 2^64-1].
export function rlimitValue(v: number | JsonNumber): bigint {
  const n = exactInteger(v);
  if (n === null) throw new SkiffError('config', `rlimit ${String(v)}: not an exact integer`);
  return n;
}
