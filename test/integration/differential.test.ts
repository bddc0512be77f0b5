// Differential tests: the same bundle under Debian's runc and under Skiff, compared.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, differential, tmpDir, uniqueId, Runtime, runcWords } from '../lib/harness';
import type { Spec } from '../../src/oci/spec';

const { sk, rc, both, cleanup } = differential();
t.teardown(cleanup);


t.test('spec output is runc\'s, but for the hostname and version', async (t) => {
  const [a, b] = both((rt) => {
    const dir = tmpDir(`spec-${rt.name}`);
    t.equal(rt.run(['spec', '-b', dir]).code, 0);
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    delete s.hostname;
    delete s.ociVersion;
    const again = rt.run(['spec', '-b', dir]);
    return { s, againCode: again.code };
  });
  t.same(b.s, a.s);
  t.equal(b.againCode, a.againCode, 'refusing to overwrite config.json');
  const [ra, rb] = both((rt) => {
    const dir = tmpDir(`spec-${rt.name}`);
    rt.run(['spec', '--rootless', '-b', dir]);
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    delete s.hostname;
    delete s.ociVersion;
    return s;
  });
  t.same(rb, ra, '--rootless too');
});

t.test('state JSON through the lifecycle', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => { s.annotations = { 'org.example/k': 'v' }; } });
  const id = uniqueId('diff');
  const view = (rt: Runtime) => {
    const st = rt.state(id);
    return { keys: Object.keys(st).sort(), status: st.status, bundle: st.bundle, rootfs: st.rootfs, id: st.id, annotations: st.annotations, pidPositive: (st.pid as number) > 0 };
  };
  const created = both((rt) => { t.equal(rt.run(['create', '-b', b.dir, id]).code, 0); return view(rt); });
  t.same(created[1], created[0], 'created');
  const running = both((rt) => { t.equal(rt.run(['start', id]).code, 0); return view(rt); });
  t.same(running[1], running[0], 'running');
  const paused = both((rt) => { t.equal(rt.run(['pause', id]).code, 0); const v = view(rt); rt.run(['resume', id]); return v; });
  t.same(paused[1], paused[0], 'paused');
  const listed = both((rt) => JSON.parse(rt.run(['list', '-f', 'json']).stdout).map((s: object) => Object.keys(s).sort()));
  t.same(listed[1], listed[0], 'list -f json keys');
  const stopped = both((rt) => {
    rt.run(['kill', id, 'KILL']);
    const end = Date.now() + 5000;
    while (rt.state(id).status !== 'stopped' && Date.now() < end);
    const v = view(rt);
    return { ...v, pid: rt.state(id).pid };
  });
  t.same(stopped[1], stopped[0], 'stopped (pid 0)');
  both((rt) => rt.run(['delete', id]));
});

t.test('exit codes and words of the error cases', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'] });
  const id = uniqueId('errs');
  const steps: [string, string[]][] = [
    ['unknown start', ['start', 'nope']], ['unknown state', ['state', 'nope']], ['unknown kill', ['kill', 'nope']],
    ['unknown delete', ['delete', 'nope']], ['unknown pause', ['pause', 'nope']], ['delete -f unknown', ['delete', '-f', 'nope']],
    ['bad id', ['create', '-b', b.dir, 'a b']], ['create', ['create', '-b', b.dir, id]], ['duplicate', ['create', '-b', b.dir, id]],
    ['start', ['start', id]], ['start twice', ['start', id]], ['delete running', ['delete', id]],
    ['unknown signal', ['kill', id, 'NOPE']], ['resume running', ['resume', id]], ['kill', ['kill', id, 'KILL']],
  ];
  const words = (s: string) => runcWords(s).replace(/^(runc|skiff) (create|run) failed: /, '');
  for (const [name, args] of steps) {
    const [a, c] = both((rt) => rt.run(args));
    t.equal(c.code, a.code, `${name}: exit code ${a.code}`);
    if (a.code !== 0) t.equal(words(c.stderr), words(a.stderr), `${name}: same words`);
  }
  const end = Date.now() + 5000;
  while ((sk.state(id).status !== 'stopped' || rc.state(id).status !== 'stopped') && Date.now() < end);
  for (const [name, args] of [['kill stopped', ['kill', id, 'KILL']], ['start stopped', ['start', id]], ['delete', ['delete', id]]] as [string, string[]][]) {
    const [a, c] = both((rt) => rt.run(args));
    t.equal(c.code, a.code, `${name}: exit code ${a.code}`);
    if (a.code !== 0) t.equal(words(c.stderr), words(a.stderr), `${name}: same words`);
  }
});

t.test('the container\'s view: mounts, /dev, ids, capabilities, limits, cgroups', async (t) => {
  const script = [
    'awk \'{print $5, $9, $6}\' /proc/self/mountinfo | sed -E "s/,?(relatime|seclabel)//g" | sort',
    'ls -l /dev | awk \'{print $1, $3, $4, $5, $6, $NF}\' | sort',
    'grep -E "^(Cap|NoNewPrivs|Uid|Gid|Groups)" /proc/self/status', 'ulimit -a', 'umask', 'hostname', 'pwd', 'env | sort',
    'cat /proc/self/oom_score_adj', 'ls /sys/fs/cgroup | sort',
  ].join('; echo ----; ');
  const edit = (s: Spec) => {
    s.process!.user = { uid: 1000, gid: 1000, additionalGids: [5] };
    s.process!.rlimits!.push({ type: 'RLIMIT_NPROC', soft: 100, hard: 200 });
    s.process!.oomScoreAdj = 100;
    s.linux!.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o600, uid: 0, gid: 0 }];
    s.mounts!.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
  };
  const b = makeBundle({ args: ['sh', '-c', script], edit });
  const [a, c] = both((rt) => rt.run(['run', '-b', b.dir, uniqueId('view')]));
  t.equal(a.code, 0, a.stderr);
  t.equal(c.code, 0, c.stderr);
  const norm = (s: string) => s.replace(/HOSTNAME=\S+/, '').replace(/^(runc|skiff)$/m, 'HOST');
  const sections = (s: string) => norm(s).split('----\n');
  const names = ['mounts', '/dev', 'ids and caps', 'rlimits', 'umask', 'hostname', 'cwd', 'env', 'oom_score_adj', 'cgroup mount'];
  sections(c.stdout).forEach((sec, i) => t.equal(sec, sections(a.stdout)[i], names[i]));
});

t.test('cgroup placement and device rules on this host', async (t) => {
  const b = makeBundle({ args: ['sleep', '1000'], edit: (s) => {
    s.linux!.resources!.devices!.push({ allow: true, type: 'c', major: 10, minor: 229, access: 'rw' });
  } });
  const id = uniqueId('cgdiff');
  const [a, c] = both((rt) => {
    t.equal(rt.run(['run', '-d', '-b', b.dir, id]).code, 0);
    const pid = rt.state(id).pid as number;
    const cg = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    const devDir = cg.match(/:devices:(.*)/)![1];
    const devices = fs.readFileSync(path.join('/sys/fs/cgroup/devices', devDir, 'devices.list'), 'utf8').split('\n').sort().join('\n');
    rt.run(['delete', '-f', id]);
    return { cg, devices };
  });
  t.equal(c.cg, a.cg, '/proc/PID/cgroup');
  t.equal(c.devices, a.devices, 'devices.list');
});

t.test('a config without PATH: a bare command name is not found, as with runc', async (t) => {
  const b = makeBundle({ args: ['sleep', '0'], edit: (s) => { s.process!.env = ['TERM=xterm']; } });
  const [a, c] = both((rt) => rt.run(['run', '-b', b.dir, uniqueId('nopath')]));
  t.equal(c.code, a.code, `exit code ${a.code}`);
  t.match(c.stderr, /executable file not found in \$PATH/);
  const abs = makeBundle({ args: ['/bin/sleep', '0'], edit: (s) => { s.process!.env = []; } });
  const [a2, c2] = both((rt) => rt.run(['run', '-b', abs.dir, uniqueId('nopath')]));
  t.equal(c2.code, 0, c2.stderr);
  t.equal(a2.code, 0, 'an absolute path needs no PATH');
});
