#!/usr/bin/env node
// Skiff against runc and crun in one run, on the same bundles and machine, as an engine drives
// a runtime. Every timed command is run by bench/timer.py (posix_spawn + wait4: wall time,
// CPU time, peak RSS of the command and of what it waited for):
//   run      `run ID` of /bin/true, BENCH_RUNS times in a row (none may fail); median
//   cycle    `create`, `start`, (wait for the exit, untimed) `delete`: the sum, median
//   state    `state ID` of a running container
//   exec     `exec ID /bin/true` in a running container: wall and CPU time
//   churn    100 containers by 20 parallel workers, each create/start/state/delete -f: total
//   rss      the largest median peak RSS of run, create, start, state, delete and exec, in a
//            pass of its own under /usr/bin/time (a process's ru_maxrss includes the image it
//            exec'd from: the stopwatch's ~10 MiB would hide runc's and crun's; time forks),
//            each binary dropped from the page cache first, two rounds of warm-up
//   512k     a container under a 512 KiB memory limit runs /bin/true and exits 0
//   ca       Skiff's run and state with NODE_EXTRA_CA_CERTS set to the system bundle and unset
// The runtimes take turns within every iteration, so the machine's load (other containers, a
// guest, test suites) falls on all of them alike. Prints medians, the ratios Skiff/runc and
// Skiff/crun (below 1 means Skiff is faster) against the goals, and the machine and its load.
//
// crun refuses this machine's hybrid cgroup layout, so its stopwatch runs inside `unshare -m`
// with /sys/fs/cgroup/unified unmounted (that setup is done once, outside the timed region).
//
// BENCH_ITER (30) iterations of cycle/state/exec, BENCH_RUNS (200) runs, BENCH_CHURN (3) churns,
// BENCH_ONLY=skiff,runc to measure fewer runtimes, BENCH_JSON=FILE to keep every median.
'use strict';
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const SKIFF = path.join(REPO, 'bin', 'skiff');
const ITER = Number(process.env.BENCH_ITER || 30);
const RUNS = Number(process.env.BENCH_RUNS || 200);
const CHURNS = Number(process.env.BENCH_CHURN || 3);
const CHURN_N = 100;
const CHURN_WORKERS = 20;
const WARMUP = 3;
const SYSTEM_CA = '/etc/ssl/certs/ca-certificates.crt';

// The environment every runtime gets: the caller's, as an engine passes it on.
const env = { ...process.env };
const envNoCa = { ...env };
delete envNoCa.NODE_EXTRA_CA_CERTS;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// A synchronous line protocol with a stopwatch over two fifos: no event loop in between.
// `prefix` runs the stopwatch under another command (crun's in its own mount namespace).
function startTimer(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-timer-'));
  const req = path.join(dir, 'req');
  const resp = path.join(dir, 'resp');
  execFileSync('mkfifo', [req, resp]);
  const argv = [...prefix, '/usr/bin/python3', path.join(__dirname, 'timer.py'), req, resp];
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
  const w = fs.openSync(req, 'w');
  const r = fs.openSync(resp, 'r');
  const buf = Buffer.alloc(1 << 16);
  let pending = '';
  const ask = (q) => {
    fs.writeSync(w, JSON.stringify(q) + '\n');
    while (!pending.includes('\n')) {
      const n = fs.readSync(r, buf, 0, buf.length, null);
      if (n === 0) throw new Error('bench/timer.py exited');
      pending += buf.toString('utf8', 0, n);
    }
    const i = pending.indexOf('\n');
    const line = pending.slice(0, i);
    pending = pending.slice(i + 1);
    return JSON.parse(line);
  };
  const stop = () => { fs.closeSync(w); fs.closeSync(r); child.unref(); fs.rmSync(dir, { recursive: true, force: true }); };
  return { ask, stop };
}

function writeBundle(rootfs, spec, args, edit) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-'));
  const s = JSON.parse(JSON.stringify(spec));
  s.process.terminal = false;
  s.process.args = args;
  s.root = { path: rootfs, readonly: true };
  s.ociVersion = '1.0.2-dev'; // crun 1.8 refuses newer versions; the content is 1.0-compatible
  if (edit) edit(s);
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(s));
  return dir;
}

function bundles() {
  const rootfs = path.join(REPO, 'test', 'fixtures', 'rootfs');
  execFileSync(path.join(REPO, 'test', 'fixtures', 'make-rootfs.sh'), [rootfs]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-spec-'));
  execFileSync(SKIFF, ['spec', '-b', tmp], { env: envNoCa });
  const spec = JSON.parse(fs.readFileSync(path.join(tmp, 'config.json'), 'utf8'));
  fs.rmSync(tmp, { recursive: true, force: true });
  return {
    true: writeBundle(rootfs, spec, ['/bin/true']),
    sleep: writeBundle(rootfs, spec, ['/bin/sleep', '100000']),
    mem512k: writeBundle(rootfs, spec, ['/bin/true'], (s) => {
      s.linux.resources = { ...(s.linux.resources || {}), memory: { limit: 512 * 1024 } };
    }),
  };
}

function waitGone(pid) {
  // /bin/true exits at once; wait for it outside the timed region only if it has not.
  for (let i = 0; i < 100000; i++) {
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return;
    }
    if (/\) [ZX]/.test(stat)) return;
  }
}

// One runtime as the bench drives it: its binary, its own state root and its stopwatch.
function runtime(name, binary) {
  const prefix = name === 'crun' ? ['unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', 'umount /sys/fs/cgroup/unified && exec "$@"', 'sh'] : [];
  const timer = startTimer(prefix);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-root-'));
  const rt = (...args) => [binary, '--root', root, ...args];
  const t = (argv, e = env) => {
    const x = timer.ask({ argv, env: e });
    if (x.status !== 0) throw new Error(`${argv.join(' ')} exited ${x.status}`);
    return x;
  };
  const quiet = (...args) => timer.ask({ argv: rt(...args), env: envNoCa, capture: true });
  return { name, timer, root, rt, t, quiet, res: { rss: {} }, samples: {} };
}

function measure(rts, b) {
  const add = (r, k, x) => (r.samples[k] ??= []).push(x);
  const each = (fn) => { for (const r of rts) fn(r); };

  // run, BENCH_RUNS in a row: every one must succeed
  each((r) => { r.res.runFailed = 0; });
  for (let i = 0; i < RUNS + WARMUP; i++) {
    each((r) => {
      const x = r.timer.ask({ argv: r.rt('run', '-b', b.true, `r${i}`), env });
      if (x.status !== 0) {
        r.res.runFailed++;
        r.quiet('delete', '-f', `r${i}`);
      } else if (i >= WARMUP) add(r, 'run', x);
    });
  }

  // create + start + delete, each command on its own as well
  for (let i = 0; i < ITER + WARMUP; i++) {
    each((r) => {
      const id = `c${i}`;
      const c = r.t(r.rt('create', '-b', b.true, id));
      const s = r.t(r.rt('start', id));
      waitGone(JSON.parse(r.quiet('state', id).stdout).pid);
      const d = r.t(r.rt('delete', id));
      if (i >= WARMUP) { add(r, 'create', c); add(r, 'start', s); add(r, 'delete', d); add(r, 'cycle', { ms: c.ms + s.ms + d.ms, rss: 0 }); }
    });
  }

  // state and exec in a running container
  each((r) => r.t(r.rt('run', '-d', '-b', b.sleep, 'sleeper')));
  for (let i = 0; i < ITER + WARMUP; i++) {
    each((r) => {
      const s = r.t(r.rt('state', 'sleeper'));
      const e = r.t(r.rt('exec', 'sleeper', '/bin/true'));
      if (i >= WARMUP) { add(r, 'state', s); add(r, 'exec', e); }
    });
  }

  // Skiff with and without the CA file that Node reads at every start (the others read none)
  for (const r of rts.filter((x) => x.name === 'skiff')) {
    for (let i = 0; i < ITER + WARMUP; i++) {
      for (const [name, e] of [['ca', { ...env, NODE_EXTRA_CA_CERTS: SYSTEM_CA }], ['noca', envNoCa]]) {
        const x = r.t(r.rt('run', '-b', b.true, `${name}${i}`), e);
        const s = r.t(r.rt('state', 'sleeper'), e);
        if (i >= WARMUP) { add(r, `run_${name}`, x); add(r, `state_${name}`, s); }
      }
    }
  }
  each((r) => r.t(r.rt('delete', '-f', 'sleeper')));

  // churn: 100 containers, 20 workers at once
  for (let k = 0; k < CHURNS; k++) {
    each((r) => {
      const jobs = [];
      for (let i = 0; i < CHURN_N; i++) {
        const id = `churn${k}-${i}`;
        jobs.push([r.rt('create', '-b', b.true, id), r.rt('start', id), r.rt('state', id), r.rt('delete', '-f', id)]);
      }
      const x = r.timer.ask({ churn: jobs, workers: CHURN_WORKERS, env });
      if (x.failed) throw new Error(`${r.name}: churn: ${x.failed} containers failed`);
      add(r, 'churn', x);
    });
  }

  // peak RSS, untimed: each command forked by a small process (time), not by the stopwatch
  const rssFile = path.join(os.tmpdir(), `skiff-bench-rss-${process.pid}`);
  let warm = false;
  const peak = (r, k, argv) => {
    const x = r.timer.ask({ argv: ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...argv], env });
    if (x.status !== 0) throw new Error(`${argv.join(' ')} exited ${x.status}`);
    if (warm) (r.rssSamples[k] ??= []).push(Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').pop()));
  };
  // Each binary starts out of the page cache: a file cached whole (just built or copied) gets
  // 64 KiB mapped around every page fault (fault-around), ~5 MiB of RSS it never touched.
  each((r) => {
    r.rssSamples = {};
    const file = r.name === 'skiff' ? fs.realpathSync(SKIFF) : execFileSync('sh', ['-c', `command -v ${r.name}`], { encoding: 'utf8' }).trim();
    // Skiff's launcher runs the Bun executable beside it (scripts/build-bin.js): that one too.
    const bunExe = path.join(path.dirname(file), 'skiff-bun');
    for (const f of [file, ...(r.name === 'skiff' && fs.existsSync(bunExe) ? [bunExe] : [])]) {
      // read-only: a created container's init still runs the file (no write open: ETXTBSY)
      execFileSync('sync', ['--data', f], { stdio: 'ignore' });
      execFileSync('dd', [`if=${f}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
    }
  });
  for (let i = 0; i < Math.min(ITER, 10) + 2; i++) {
    warm = i >= 2;
    each((r) => {
      const id = `m${i}`;
      peak(r, 'run', r.rt('run', '-b', b.true, `${id}r`));
      peak(r, 'create', r.rt('create', '-b', b.sleep, id));
      peak(r, 'start', r.rt('start', id));
      peak(r, 'state', r.rt('state', id));
      peak(r, 'exec', r.rt('exec', id, '/bin/true'));
      peak(r, 'delete', r.rt('delete', '-f', id));
    });
  }
  fs.rmSync(rssFile, { force: true });

  // a 512 KiB memory limit
  each((r) => {
    const m = r.timer.ask({ argv: r.rt('run', '-b', b.mem512k, 'mem512k'), env });
    r.res.mem512k = m.status === 0;
    if (!r.res.mem512k) r.quiet('delete', '-f', 'mem512k');
  });

  each((r) => {
    for (const [k, xs] of Object.entries(r.samples)) {
      r.res[k] = median(xs.map((x) => x.ms));
    }
    for (const [k, xs] of Object.entries(r.rssSamples)) r.res.rss[k] = median(xs);
    r.res.execCpu = median(r.samples.exec.map((x) => x.cpu));
    r.res.peakRss = Math.max(...['run', 'create', 'start', 'delete', 'state', 'exec'].map((k) => r.res.rss[k]));
  });
}

function version(cmd) {
  try {
    return execFileSync(cmd, ['--version'], { env: envNoCa, encoding: 'utf8' }).split('\n')[0].replace(/^.*version /, '');
  } catch {
    return '?';
  }
}

function interpreter() {
  const text = fs.readFileSync(SKIFF, 'latin1');
  return text.startsWith('#!') ? text.split('\n')[0].slice(2) : 'a native executable';
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');
function machine() {
  const cpu = os.cpus()[0]?.model ?? '?';
  const cg = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'cgroup v2' : fs.existsSync('/sys/fs/cgroup/unified') ? 'cgroup v1 hybrid' : 'cgroup v1';
  return `${os.cpus().length} x ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, ${cg}; load ${load()}; ` +
    `NODE_EXTRA_CA_CERTS ${env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset'}; bin/skiff: ${interpreter()}; ` +
    `runc ${version('runc')}, crun ${version('crun')}`;
}

const only = (process.env.BENCH_ONLY || 'skiff,runc,crun').split(',');
const before = machine();
const b = bundles();
const t0 = Date.now();
const rts = only.map((n) => runtime(n, n === 'skiff' ? SKIFF : n));
try {
  measure(rts, b);
} finally {
  for (const r of rts) { r.timer.stop(); fs.rmSync(r.root, { recursive: true, force: true }); }
  for (const d of Object.values(b)) fs.rmSync(d, { recursive: true, force: true });
}
const results = Object.fromEntries(rts.map((r) => [r.name, r.res]));

const ROWS = [
  // key, label, unit, goal (Skiff/runc at most)
  ['run', 'run /bin/true', 'ms', 1.3],
  ['cycle', 'create+start+delete', 'ms', 2.0],
  ['create', '  create', 'ms'],
  ['start', '  start', 'ms'],
  ['delete', '  delete', 'ms'],
  ['state', 'state', 'ms', 3.0],
  ['exec', 'exec /bin/true', 'ms', 1.5],
  ['execCpu', 'exec CPU (user+sys)', 'ms', 1.5],
  ['churn', `churn ${CHURN_N} x ${CHURN_WORKERS} workers`, 'ms', 1.5],
  ['peakRss', 'peak RSS of a command', 'MiB'],
];
const names = Object.keys(results);
const cell = (x, w = 9) => String(x).padStart(w);
const num = (k, v) => (k === 'peakRss' ? (v / 1024).toFixed(1) : v >= 1000 ? v.toFixed(0) : v.toFixed(1));
const s = results.skiff;
console.log(`machine: ${before}`);
console.log(`medians of ${ITER} iterations (cycle, state, exec), ${RUNS} runs, ${CHURNS} churns; took ${((Date.now() - t0) / 1000).toFixed(0)} s; load after ${load()}`);
const ratioCols = ['runc', 'crun'].filter((o) => results[o] && s);
console.log(`${'median'.padEnd(30)}${names.map((n) => cell(n)).join('')}${ratioCols.map((o) => cell(`/${o}`)).join('')}${cell('goal', 12)}`);
for (const [k, label, unit, goal] of ROWS) {
  const vals = names.map((n) => cell(num(k, results[n][k])));
  const ratios = ratioCols.map((o) => cell((s[k] / results[o][k]).toFixed(2)));
  let g = '';
  if (k === 'peakRss' && s) g = `${s[k] <= 32 * 1024 ? 'ok' : 'MISS'} <=32`;
  else if (goal && results.runc && s) g = `${s[k] / results.runc[k] <= goal ? 'ok' : 'MISS'} <=${goal}x`;
  console.log(`${`${label} (${unit})`.padEnd(30)}${vals.join('')}${ratios.join('')}${cell(g, 12)}`);
}
console.log(`${`${RUNS} runs in a row: failed`.padEnd(30)}${names.map((n) => cell(results[n].runFailed)).join('')}`);
console.log(`${'512 KiB memory limit'.padEnd(30)}${names.map((n) => cell(results[n].mem512k ? 'starts' : 'FAILS')).join('')}`);
console.log('RSS (MiB) run / create / start / state / delete / exec');
for (const n of names) console.log(`  ${n.padEnd(6)} ${['run', 'create', 'start', 'state', 'delete', 'exec'].map((k) => (results[n].rss[k] / 1024).toFixed(1)).join(' / ')}`);
if (s && s.run_ca !== undefined) {
  console.log(`skiff, NODE_EXTRA_CA_CERTS=${SYSTEM_CA}: run ${num('run', s.run_ca)} ms, state ${num('state', s.state_ca)} ms; unset: run ${num('run', s.run_noca)} ms, state ${num('state', s.state_noca)} ms`);
}
if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine: before, results }, null, 2));
