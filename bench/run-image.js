#!/usr/bin/env node
// `skiff run --image` of an image already in the store against `podman run --rm` of the same
// image (loaded into a private Podman store, vfs, Debian's runc, no network): one command from
// an image name to the process's exit, bundle made and removed included. Runs interleaved,
// after one warm-up round; prints medians and the ratio (podman's time / skiff's: above 1 means
// skiff is faster). Needs root, the build (`npm run build:ts`) and
// `test/setup/install-packages.sh test`. Usage: node bench/run-image.js [--runs N]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const REPO = path.resolve(__dirname, '..');
const SKIFF = path.join(REPO, 'bin/skiff');
const harness = require(path.join(REPO, 'dist/test/lib/harness.js'));
const i = process.argv.indexOf('--runs');
const RUNS = i >= 0 ? Number(process.argv[i + 1]) : 10;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-run-image-bench-'));
const store = path.join(work, 'store');
const conf = path.join(work, 'containers.conf');
fs.writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n');
const env = { ...harness.testEnv(), CONTAINERS_CONF: conf };
const podmanArgs = ['--root', `${work}/podman-root`, '--runroot', `${work}/podman-run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--runtime', '/usr/sbin/runc'];
const run = (cmd, argv) => {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')}: ${r.stderr}`);
};
process.on('exit', () => {
  spawnSync('podman', [...podmanArgs, 'system', 'reset', '-f'], { env });
  spawnSync('sh', ['-c', `grep ${work} /proc/mounts | cut -d" " -f2 | sort -r | xargs -r -n1 umount -l`]);
  fs.rmSync(work, { recursive: true, force: true });
});

const { tar } = harness.ociImage(work, 'bench', ['--config.cmd', 'true']);
run(SKIFF, ['image', 'import', tar, '--name', 'localhost/bench:1', '--image-root', store]);
run(SKIFF, ['image', 'save', 'localhost/bench:1', '-o', path.join(work, 'bench.tar'), '--image-root', store]);
run('podman', [...podmanArgs, 'load', '-i', path.join(work, 'bench.tar')]);

const cases = [
  { name: 'podman run --rm (runc)', fn: () => run('podman', [...podmanArgs, 'run', '--rm', '--net', 'none', 'localhost/bench:1']) },
  { name: 'skiff run --image', fn: (n) => run(SKIFF, ['--root', `${work}/skiff-root`, 'run', '--image', 'localhost/bench:1', '--image-root', store, `bench-${n}`]) },
];
const times = cases.map(() => []);
for (let r = 0; r <= RUNS; r++) {
  cases.forEach((c, j) => {
    const t0 = process.hrtime.bigint();
    c.fn(r);
    if (r > 0) times[j].push(Number(process.hrtime.bigint() - t0) / 1e6);
  });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = times.map(median);
cases.forEach((c, j) => console.log(`${c.name.padEnd(28)} median ${m[j].toFixed(0).padStart(5)} ms  (${times[j].map((x) => x.toFixed(0)).join(', ')})`));
console.log(`ratio (podman / skiff): ${(m[0] / m[1]).toFixed(2)}`);
