// A container whose state.json was written before the cgroup drivers (the cgroup2 directory
// under the key "" of `dirs`) is still found, paused, listed and deleted after an upgrade.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { cgroupDirsNamed, makeBundle, skiff, uniqueId } from '../lib/harness';

const sk = skiff();
t.teardown(() => sk.cleanup());

// The record as the code before the drivers wrote it.
function oldRecord(rec: { kind: string; dirs?: Record<string, string>; unified?: string }): object {
  const { unified, ...rest } = rec;
  return { ...rest, dirs: { ...(rec.dirs ?? {}), ...(unified !== undefined ? { '': unified } : {}) } };
}

t.test('an old record: state, pause, ps and delete work on it', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.linux!.resources = { ...s.linux!.resources, pids: { limit: 20 } }; } });
  const id = uniqueId('cg-rec');
  t.equal(sk.run(['run', '-d', '-b', b.dir, id]).code, 0, 'run -d');
  const file = path.join(sk.root, id, 'state.json');
  const state = JSON.parse(fs.readFileSync(file, 'utf8'));
  t.notOk('' in (state.cgroup.dirs ?? {}), 'today\'s records have no "" key');
  fs.writeFileSync(file, JSON.stringify({ ...state, cgroup: oldRecord(state.cgroup) }));
  t.ok(cgroupDirsNamed(id).length > 0, 'the container has cgroups');
  t.equal(sk.state(id).status, 'running', 'state reads it');
  t.equal(sk.run(['pause', id]).code, 0, 'pause');
  t.equal(sk.state(id).status, 'paused', 'the freezer is found');
  t.equal(sk.run(['resume', id]).code, 0, 'resume');
  t.ok((JSON.parse(sk.run(['ps', '-f', 'json', id]).stdout) as number[]).includes(sk.state(id).pid as number), 'ps lists the init');
  const r = sk.run(['delete', '-f', id]);
  t.equal(r.code, 0, `delete -f: ${r.stderr}`);
  t.same(cgroupDirsNamed(id), [], 'every cgroup removed');
  t.equal(sk.run(['state', id]).code, 1, 'no state left');
});
