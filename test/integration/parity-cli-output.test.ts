// What a user or a client parses from the runtime's own output, side by side with runc 1.1.5:
// --debug lines (stderr, or --log FILE in text and json), -v and -h shapes, checkpoint and
// restore validating their flags before saying CRIU is not supported.
import t from 'tap';
import * as fs from 'fs';
import * as path from 'path';
import { makeBundle, runc, skiff, tmpDir, uniqueId, Runtime, skiffIsNodeLauncher, runcWords } from '../lib/harness';

const sk = skiff();
const rc = runc();
t.teardown(() => { sk.cleanup(); rc.cleanup(); });
const both = [rc, sk];

const words = runcWords;
const LOGRUS_TEXT = /^time="[^"]+" level=(debug|info|warning|error) msg=".*"( \w+=\S+)*$/;

function start(rt: Runtime, args: string[] = []): string {
  const id = uniqueId(`parity-out-${rt.name}`);
  const r = rt.run([...args, 'run', '-d', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]);
  if (r.code !== 0) throw new Error(`${rt.name} run -d: ${r.stderr}`);
  if (args.length) t.comment(`${rt.name} --debug run: ${r.stderr.split('\n').length} lines`);
  return id;
}

t.test('--debug: level=debug lines on stderr for run and exec, logrus text, stdout untouched', async (t) => {
  for (const rt of both) {
    const id = uniqueId(`parity-out-${rt.name}`);
    const run = rt.run(['--debug', 'run', '-d', '-b', makeBundle({ args: ['sleep', '1000'] }).dir, id]);
    t.equal(run.code, 0, `${rt.name}: run`);
    const exec = rt.run(['--debug', 'exec', id, 'echo', 'hi']);
    t.equal(exec.code, 0, `${rt.name}: exec`);
    t.equal(exec.stdout, 'hi\n', `${rt.name}: the process's output alone on stdout`);
    for (const [what, r] of [['run', run], ['exec', exec]] as const) {
      const lines = r.stderr.split('\n').filter(Boolean);
      t.ok(lines.filter((l) => l.includes('level=debug')).length >= 3, `${rt.name} ${what}: debug lines`);
      t.same(lines.filter((l) => !LOGRUS_TEXT.test(l)), [], `${rt.name} ${what}: each a logrus text line`);
    }
    t.match(exec.stderr, /level=debug msg="process exited" .*pid=\d+ status=0/, `${rt.name}: the exit, with pid and status fields`);
    const quiet = rt.run(['exec', id, 'true']);
    t.equal(quiet.stderr, '', `${rt.name}: nothing without --debug`);
    rt.run(['delete', '-f', id]);
  }
});

t.test('--debug --log FILE: the lines go to the file (text or json), not stderr; --log makes the file', async (t) => {
  const dir = tmpDir('parity-out');
  for (const rt of both) {
    const id = start(rt);
    const text = path.join(dir, `${rt.name}.log`);
    const r = rt.run(['--debug', '--log', text, 'exec', id, 'true']);
    t.equal(r.code, 0);
    t.notMatch(r.stderr, /level=debug/, `${rt.name}: none on stderr`);
    const lines = fs.readFileSync(text, 'utf8').split('\n').filter(Boolean);
    t.ok(lines.length >= 3 && lines.every((l) => LOGRUS_TEXT.test(l)), `${rt.name}: logrus text lines in the file`);
    const json = path.join(dir, `${rt.name}.json`);
    t.equal(rt.run(['--debug', '--log', json, '--log-format', 'json', 'exec', id, 'true']).code, 0);
    const objs = fs.readFileSync(json, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    t.ok(objs.length >= 3 && objs.every((o) => o.level === 'debug' && typeof o.msg === 'string' && typeof o.time === 'string'), `${rt.name}: json lines`);
    t.ok(objs.some((o) => o.msg === 'process exited' && typeof o.pid === 'number' && o.status === 0), `${rt.name}: the exit with its fields`);
    const made = path.join(dir, `${rt.name}-list.log`);
    t.equal(rt.run(['--log', made, 'list']).code, 0);
    t.ok(fs.existsSync(made), `${rt.name}: --log creates the file at start-up`);
    rt.run(['delete', '-f', id]);
  }
});

t.test('-v: "<name> version X.Y.Z", then commit, spec and the library lines', async (t) => {
  const [a, b] = both.map((rt) => rt.run(['-v']));
  const keys = (s: string) => s.split('\n').slice(1).filter(Boolean).map((l) => l.split(':')[0]);
  t.match(a.stdout, /^runc version \d+\.\d+\.\d+/);
  t.match(b.stdout, /^skiff version \d+\.\d+\.\d+\n/);
  t.same(keys(a.stdout), ['commit', 'spec', 'go', 'libseccomp'], 'runc\'s lines');
  // The JS runtime where runc has go: bun for the compiled bin/skiff, node for its fallback.
  const runtime = skiffIsNodeLauncher() ? 'node' : 'bun';
  t.same(keys(b.stdout), ['commit', 'spec', runtime, 'libseccomp'], 'skiff\'s: the JS runtime where runc has go');
  t.match(b.stdout, /\ncommit: [0-9a-f]{7,}(-dirty)?\n|\ncommit: v\d/, 'a real commit (git describe at build time)');
  t.match(b.stdout, /\nlibseccomp: \d+\.\d+\.\d+\n/, 'the libseccomp the addon runs with');
  t.equal(b.stdout.match(/libseccomp: (.*)/)![1], a.stdout.match(/libseccomp: (.*)/)![1], 'the same libseccomp as Debian\'s runc');
  t.equal(sk.run(['--version']).stdout, b.stdout);
});

t.test('-h: line 2 in runc\'s shape, a VERSION section, checkpoint and restore listed', async (t) => {
  const [a, b] = both.map((rt) => rt.run(['-h']).stdout.split('\n'));
  t.equal(a[1], '   runc - Open Container Initiative runtime');
  t.equal(b[1], '   skiff - Open Container Initiative runtime');
  for (const [name, lines] of [['runc', a], ['skiff', b]] as const) {
    t.ok(lines.includes('VERSION:') && lines.includes('COMMANDS:') && lines.includes('GLOBAL OPTIONS:'), `${name}: the sections`);
    t.ok(lines.some((l) => /^   checkpoint /.test(l)) && lines.some((l) => /^   restore /.test(l)), `${name}: checkpoint and restore`);
  }
  t.match(sk.run(['checkpoint', '-h']).stdout, /^NAME:\n   skiff checkpoint - checkpoint a running container/);
});

t.test('checkpoint and restore: runc\'s flag checks and words, then "CRIU is not supported"', async (t) => {
  const cwd = tmpDir('parity-out');
  fs.mkdirSync(path.join(cwd, 'checkpoint'));
  fs.writeFileSync(path.join(cwd, 'checkpoint', 'afile'), '');
  const ids = new Map(both.map((rt) => [rt, start(rt)]));
  const cases: [string, string[]][] = [
    ['absolute --parent-path', ['--parent-path', '/abs']],
    ['missing --parent-path', ['--parent-path', 'missing']],
    ['--parent-path not a directory', ['--parent-path', 'afile']],
    ['bad --page-server', ['--page-server', 'nocolon']],
    ['bad --page-server port', ['--page-server', 'host:port']],
    ['bad --manage-cgroups-mode', ['--manage-cgroups-mode', 'bogus']],
    ['bad --empty-ns', ['--empty-ns', 'bogus']],
  ];
  for (const [name, flags] of cases) {
    const [a, b] = both.map((rt) => rt.run(['checkpoint', ...flags, ids.get(rt)!], { cwd }));
    t.equal(b.code, 1, `${name}: exit 1`);
    t.equal(b.code, a.code, `${name}: runc's exit code`);
    t.equal(words(b.stderr), words(a.stderr), `${name}: ${words(a.stderr)}`);
  }
  const none = both.map((rt) => rt.run(['checkpoint', 'parity-out-nonexistent'], { cwd }));
  t.equal(words(none[1].stderr), words(none[0].stderr), 'no such container: runc\'s words');
  const created = new Map(both.map((rt) => {
    const id = uniqueId(`parity-out-${rt.name}`);
    rt.run(['create', '-b', makeBundle({ args: ['true'] }).dir, id]);
    return [rt, id];
  }));
  const [ca, cb] = both.map((rt) => rt.run(['checkpoint', created.get(rt)!], { cwd }));
  t.equal(words(cb.stderr), words(ca.stderr), `created: ${words(ca.stderr)}`);

  const good = sk.run(['checkpoint', '--leave-running', '--manage-cgroups-mode', 'soft', ids.get(sk)!], { cwd });
  t.equal(good.code, 1, 'valid flags: still refused');
  t.match(words(good.stderr), /^checkpoint: CRIU is not supported by skiff/);
  t.equal(sk.state(ids.get(sk)!).status, 'running', 'the container is left as it was');

  const bundle = makeBundle({ args: ['true'] }).dir;
  const noConfig = both.map((rt) => rt.run(['restore', uniqueId('parity-out-r')], { cwd }));
  t.match(words(noConfig[0].stderr), /JSON specification file config.json not found/);
  t.match(words(noConfig[1].stderr), /JSON specification file config.json not found/, 'restore reads the bundle first, as runc');
  const mode = both.map((rt) => rt.run(['restore', '-b', bundle, '--manage-cgroups-mode', 'bogus', uniqueId('parity-out-r')], { cwd }));
  t.equal(mode[1].code, 1);
  t.match(words(mode[1].stderr), 'Invalid manage cgroups mode');
  const r = sk.run(['restore', '-b', bundle, uniqueId('parity-out-r')], { cwd });
  t.equal(r.code, 1);
  t.match(words(r.stderr), /^restore: CRIU is not supported by skiff/);
  t.notMatch(sk.run(['checkpoint', 'x']).stderr, /No help topic/);
  for (const [rt, id] of [...ids, ...created]) rt.run(['delete', '-f', id]);
});
