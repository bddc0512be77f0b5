// linux.netDevices (runtime-spec 1.3): host network devices moved into the container's
// network namespace, renamed (src/launch/netdevices.ts moves them, from create). The namespace
// is the container's: when it goes, the kernel destroys a virtual device (veth, dummy) and
// gives a physical one back to the host's initial namespace, as runc 1.4 documents.
import * as fs from 'fs';
import { SkiffError } from '../errors';

const invalid = (field: string, why: string) => new SkiffError('config', `config.json: ${field}: ${why}`);
type Json = unknown;
const isObj = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

// The kernel's dev_valid_name: 1..15 bytes, not . or .., no '/', ':' or whitespace.
function nameProblem(name: string): string | undefined {
  if (name.length === 0 || Buffer.byteLength(name) > 15) return 'must be 1 to 15 bytes long';
  if (name === '.' || name === '..') return 'must not be . or ..';
  if (/[/:\s]/.test(name)) return "must not contain '/', ':' or whitespace";
  return undefined;
}

// [host name, name in the container] for each device, checked.
export function netDevicePairs(l: Record<string, Json>): [string, string][] {
  if (l.netDevices === undefined) return [];
  if (!isObj(l.netDevices)) throw invalid('linux.netDevices', 'must be an object');
  const pairs: [string, string][] = [];
  for (const [host, v] of Object.entries(l.netDevices)) {
    const f = `linux.netDevices.${host}`;
    if (nameProblem(host)) throw invalid(f, `the host device name ${nameProblem(host)}`);
    if (!isObj(v)) throw invalid(f, 'must be an object');
    for (const k of Object.keys(v)) if (k !== 'name') throw invalid(`${f}.${k}`, `is not a field of ${f}`);
    if (v.name !== undefined && typeof v.name !== 'string') throw invalid(`${f}.name`, 'must be a string');
    const name = (v.name as string | undefined) || host;
    const why = nameProblem(name);
    if (why) throw invalid(`${f}.name`, why);
    if (pairs.some(([, n]) => n === name)) throw invalid(`${f}.name`, `${JSON.stringify(name)} is given to two devices`);
    pairs.push([host, name]);
  }
  if (pairs.length === 0) return pairs;
  const net = Array.isArray(l.namespaces) ? (l.namespaces as Json[]).find((n) => isObj(n) && n.type === 'network') as Record<string, Json> | undefined : undefined;
  if (!net) throw invalid('linux.netDevices', 'needs a network namespace of the container in linux.namespaces (the devices would stay on the host)');
  if (typeof net.path === 'string') {
    try {
      if (fs.statSync(net.path).ino === fs.statSync('/proc/self/ns/net').ino) throw invalid('linux.netDevices', `the network namespace ${net.path} is the host's`);
    } catch (e) {
      if (e instanceof SkiffError) throw e;
    }
  }
  return pairs;
}
