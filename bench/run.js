#!/usr/bin/env node
// Skiff against runc and crun in one run, on the same bundle and machine:
//   run      `RUNTIME run ID` of /bin/true (create + start + wait + delete)
//   cycle    `create`, `start`, wait for exit, `delete`, as an engine drives it
// Prints medians and the ratios Skiff/runc and Skiff/crun (below 1 means Skiff is faster).
//
// crun refuses this machine's hybrid cgroup layout, so its timings run in a child process of
// this script inside `unshare -m` with /sys/fs/cgroup/unified unmounted (that setup is done
// once, outside the timed region).
'use strict';
const { spawnSync, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const ITER = Number(process.env.BENCH_ITER || 30);
const WARMUP = 3;

const env = { ...process.env };
delete env.NODE_EXTRA_CA_CERTS; // Node reads that CA file at every start; Skiff needs none.

function bundle() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-'));
  const rootfs = path.join(REPO, 'test', 'fixtures', 'rootfs');
  execFileSync(path.join(REPO, 'test', 'fixtures', 'make-rootfs.sh'), [rootfs]);
  const spec = JSON.parse(execFileSync(path.join(REPO, 'bin', 'skiff'), ['spec', '-b', dir], { env }) && fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  spec.root = { path: rootfs, readonly: true };
  spec.ociVersion = '1.0.2-dev'; // crun 1.8 refuses newer versions; the content is 1.0-compatible
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
  return dir;
}

function timeOnce(argv) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
  return ms;
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

function measure(binary, dir) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-root-'));
  const rt = (args) => [binary, '--root', root, ...args];
  const runs = [];
  const cycles = [];
  for (let i = 0; i < ITER + WARMUP; i++) {
    const id = `bench-${process.pid}-${i}`;
    const run = timeOnce(rt(['run', '-b', dir, id]));
    const c = timeOnce(rt(['create', '-b', dir, `${id}c`])) + timeOnce(rt(['start', `${id}c`]));
    const st = JSON.parse(execFileSync(binary, ['--root', root, 'state', `${id}c`], { env }));
    // /bin/true exits at once; wait for it outside the timed region only if it has not.
    while (fs.existsSync(`/proc/${st.pid}`) && !/\) Z/.test(fs.readFileSync(`/proc/${st.pid}/stat`, 'utf8'))) ;
    const cycle = c + timeOnce(rt(['delete', `${id}c`]));
    if (i >= WARMUP) { runs.push(run); cycles.push(cycle); }
  }
  fs.rmSync(root, { recursive: true, force: true });
  return { run: median(runs), cycle: median(cycles) };
}

if (process.argv[2] === '--inner') {
  // In our own mount namespace: hide the hybrid cgroup2 mount that crun refuses.
  execFileSync('umount', ['/sys/fs/cgroup/unified']);
  process.stdout.write(JSON.stringify(measure(process.argv[3], process.argv[4])));
  process.exit(0);
}

const dir = bundle();
const results = {};
results.skiff = measure(path.join(REPO, 'bin', 'skiff'), dir);
results.runc = measure('runc', dir);
const crunOut = spawnSync('unshare', ['-m', process.execPath, __filename, '--inner', 'crun', dir], { env, encoding: 'utf8' });
if (crunOut.status === 0) results.crun = JSON.parse(crunOut.stdout);
else console.error('crun: skipped:', crunOut.stderr.trim().split('\n').pop());

const fmt = (x) => x.toFixed(1).padStart(7);
console.log(`median of ${ITER} runs (ms), ${os.cpus().length} cpus, ${os.release()}`);
console.log('runtime        run   create+start+delete');
for (const [name, r] of Object.entries(results)) console.log(`${name.padEnd(8)} ${fmt(r.run)} ${fmt(r.cycle)}`);
for (const other of ['runc', 'crun']) {
  if (!results[other]) continue;
  console.log(`skiff/${other}  ${(results.skiff.run / results[other].run).toFixed(2).padStart(6)} ${(results.skiff.cycle / results[other].cycle).toFixed(2).padStart(8)}`);
}
fs.rmSync(dir, { recursive: true, force: true });
