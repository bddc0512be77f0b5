// events: runc's JSON lines. --stats prints one {"type":"stats",...} and exits; otherwise stats
// every --interval and {"type":"oom","id":...} as the kernel reports OOM kills, until the
// container is gone.
import { SkiffError } from '../errors';
import { loadContainer } from '../container/ops';
import { assertAllowed } from '../container/status';
import { toJson } from '../oci/json';
import type { OomWatch } from '../cgroups/manager';
import type { Invocation } from './main';
import { out } from './output';
import { parseDuration } from './values';


export default async function events(inv: Invocation): Promise<void> {
  const id = inv.args[0];
  const interval = parseDuration(String(inv.flags.interval ?? '5s'));
  if (interval <= 0) throw new SkiffError('usage', 'duration interval must be greater than 0');
  const c = loadContainer(inv.store, id);
  if (c.status === 'stopped') throw new SkiffError('wrongState', `container with id ${id} is not running`);
  assertAllowed('events', c.status, id);
  const emit = (e: object) => out(toJson(e) + '\n');
  if (inv.flags.stats) {
    emit({ type: 'stats', id, data: c.cgroups.stats() });
    return;
  }
  await new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(timer);
      watch?.close();
      resolve();
    };
    const alive = () => {
      try {
        return loadContainer(inv.store, id).status !== 'stopped';
      } catch {
        return false;
      }
    };
    const timer = setInterval(() => {
      // A last OOM report may still be on its way from the kernel: give it a moment.
      if (!alive()) return void setTimeout(finish, 200);
      emit({ type: 'stats', id, data: c.cgroups.stats() });
    }, interval);
    let watch: OomWatch | undefined;
    try {
      watch = c.cgroups.watchOom(() => emit({ type: 'oom', id }), () => {
        // The cgroup is gone: the container was deleted.
        finish();
      });
    } catch {
      // no memory controller: stats only
    }
  });
}
