// linux.sysctl -> the writes the init makes through the container's /proc/sys. /proc/sys is
// only partly namespaced: a key the container's namespaces do not own is the host's, so it is
// refused, with runc's validator's rules and words.
import * as fs from 'fs';
import { SkiffError, goQuote } from '../errors';
import type { Namespace } from '../oci/spec';

const IPC_KEYS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall',
  'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced']);
const NS_FILE = { network: 'net', ipc: 'ipc', uts: 'uts' } as const;

// Whether the container has a namespace of its own of this type: a new one, or one joined by
// path that is not the one Skiff runs in ("host" is the current namespace, as in runc). runc
// asks that last question of network namespaces only; a joined host ipc or uts namespace
// would change the host just the same.
function owns(namespaces: Namespace[], type: keyof typeof NS_FILE): boolean {
  const ns = namespaces.find((n) => n.type === type);
  if (!ns) return false;
  if (!ns.path) return true;
  let joined: fs.Stats;
  try {
    joined = fs.statSync(ns.path);
  } catch {
    return true; // a path that cannot be opened is the namespace join's error to report
  }
  const current = fs.statSync(`/proc/self/ns/${NS_FILE[type]}`);
  return joined.dev !== current.dev || joined.ino !== current.ino;
}

function refusal(key: string, namespaces: Namespace[]): string | undefined {
  const q = goQuote(key);
  if (IPC_KEYS.has(key) || key.startsWith('fs.mqueue.')) {
    return owns(namespaces, 'ipc') ? undefined : `sysctl ${q} is not allowed in the hosts ipc namespace`;
  }
  if (key.startsWith('net.')) return owns(namespaces, 'network') ? undefined : `sysctl ${q} not allowed in host network namespace`;
  if (owns(namespaces, 'uts')) {
    if (key === 'kernel.domainname') return undefined;
    if (key === 'kernel.hostname') return `sysctl ${q} is not allowed as it conflicts with the OCI "hostname" field`;
  }
  return `sysctl ${q} is not in a separate kernel namespace`;
}

export function sysctlPlan(sysctl: Record<string, string> | undefined, namespaces: Namespace[]): { path: string; value: string }[] {
  return Object.entries(sysctl ?? {}).map(([key, value]) => {
    const why = refusal(key, namespaces);
    if (why) throw new SkiffError('config', why);
    return { path: '/proc/sys/' + key.replace(/\./g, '/'), value };
  });
}
