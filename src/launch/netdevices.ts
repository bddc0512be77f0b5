// linux.netDevices: the checked pairs (src/oci/netdevices.ts) moved by native/netdev.cc.
import { SkiffError } from '../errors';
import { native } from '../native';
import type { Spec } from '../oci/spec';
import { netDevicePairs } from '../oci/netdevices';

type Json = unknown;

// Between clone and GO: each device into the init's network namespace (or the one it joins).
export function moveNetDevices(spec: Spec, pid: number): void {
  const pairs = netDevicePairs(spec.linux as Record<string, Json>);
  if (pairs.length === 0) return;
  const net = spec.linux!.namespaces!.find((n) => n.type === 'network')!;
  try {
    native().moveLinks(net.path ?? `/proc/${pid}/ns/net`, pairs);
  } catch (e) {
    throw new SkiffError('setup', `linux.netDevices: ${(e as Error).message}`);
  }
}
