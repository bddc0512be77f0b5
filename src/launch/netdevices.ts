// linux.netDevices: the checked pairs (src/oci/netdevices.ts) moved by native/netdev.cc.
// create holds the container's network namespace open from the move on: if create fails,
// even after the init died, the devices are still in it and go back to the host under their
// own names, instead of being destroyed with the namespace.
import * as fs from 'fs';
import { SkiffError } from '../errors';
import { native } from '../native';
import type { Spec } from '../oci/spec';
import { netDevicePairs } from '../oci/netdevices';

type Json = unknown;

export interface MovedDevices {
  netns: number;               // an fd of the namespace they are in
  pairs: [string, string][];   // [host name, container name]
}

// Between clone and GO: each device into the init's network namespace (or the one it joins).
export function moveNetDevices(spec: Spec, pid: number): MovedDevices | undefined {
  const pairs = netDevicePairs(spec.linux as Record<string, Json>);
  if (pairs.length === 0) return undefined;
  const net = spec.linux!.namespaces!.find((n) => n.type === 'network')!;
  const moved = { netns: fs.openSync(net.path ?? `/proc/${pid}/ns/net`, 'r'), pairs };
  try {
    native().moveLinks(`/proc/self/fd/${moved.netns}`, pairs);
  } catch (e) {
    returnNetDevices(moved);
    throw new SkiffError('setup', `linux.netDevices: ${(e as Error).message}`);
  }
  return moved;
}

// create failed: every device still in the namespace back to the host, each on its own (one
// that cannot go back does not keep the others), then the namespace let go.
export function returnNetDevices(moved: MovedDevices | undefined): void {
  if (!moved || moved.netns < 0) return;
  for (const [host, inside] of moved.pairs) {
    try {
      native().moveLinks('/proc/self/ns/net', [[inside, host]], `/proc/self/fd/${moved.netns}`);
    } catch {
      // not moved in, or already gone
    }
  }
  releaseNetns(moved);
}

export function releaseNetns(moved: MovedDevices | undefined): void {
  if (!moved || moved.netns < 0) return;
  fs.closeSync(moved.netns);
  moved.netns = -1;
}
