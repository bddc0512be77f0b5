// Commands whose outcome runc's users and scripts rely on, side by side with runc 1.1.5 on the
// same bundle: kill -a and ps of a stopped container (exec --cgroup: cgroups-exec.test.ts).
import t from 'tap';
import { runc, skiff, waitFor, Runtime, runcWords, runDetached } from '../lib/harness';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });
const both = [rc, sk];

const words = runcWords;

const start = (rt: Runtime) => runDetached(rt, 'parity-cli');

async function stopped(rt: Runtime): Promise<string> {
  const id = start(rt);
  rt.run(['kill', id, 'KILL']);
  await waitFor(() => rt.state(id).status === 'stopped', 5000, `${rt.name} ${id} stopped`);
  return id;
}

t.test('kill -a of a stopped container exits 0; without -a it is "container not running"', async (t) => {
  for (const rt of both) {
    const id = await stopped(rt);
    for (const sig of ['KILL', '0', 'TERM']) {
      const r = rt.run(['kill', '-a', id, sig]);
      t.equal(r.code, 0, `${rt.name}: kill -a ${sig} of a stopped container: ${r.stderr}`);
    }
    const r = rt.run(['kill', id, '0']);
    t.equal(r.code, 1, `${rt.name}: kill 0 without -a refuses`);
    t.match(words(r.stderr), 'container not running');
    t.equal(rt.run(['kill', '-a', 'parity-cli-nonexistent', 'KILL']).code, 1, `${rt.name}: kill -a of no container still fails`);
    rt.run(['delete', '-f', id]);
  }
});

t.test('ps of a stopped container: exit 0, the ps header only; json "null"', async (t) => {
  const out = await Promise.all(both.map(async (rt) => {
    const id = await stopped(rt);
    const table = rt.run(['ps', id]);
    const json = rt.run(['ps', '-f', 'json', id]);
    const custom = rt.run(['ps', id, '-o', 'pid,comm']);
    rt.run(['delete', '-f', id]);
    return { table, json, custom };
  }));
  for (const k of ['table', 'json', 'custom'] as const) {
    t.equal(out[1][k].code, 0, `skiff ps (${k}): ${out[1][k].stderr}`);
    t.equal(out[1][k].code, out[0][k].code, `${k}: runc's exit code`);
    t.equal(out[1][k].stdout, out[0][k].stdout, `${k}: runc's output ${JSON.stringify(out[0][k].stdout)}`);
  }
});

t.test('ps of a running container still lists its process (json: the pid array)', async (t) => {
  const id = start(sk);
  const pid = sk.state(id).pid as number;
  t.same(JSON.parse(sk.run(['ps', '-f', 'json', id]).stdout), [pid]);
  t.match(sk.run(['ps', id]).stdout, new RegExp(`^UID .*\\n\\S+\\s+${pid}\\s.*sleep 1000\\n$`, 's'));
  sk.run(['delete', '-f', id]);
});

