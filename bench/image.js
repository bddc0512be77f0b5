#!/usr/bin/env node
// Image store figures, in one run on one machine, against the tools users would otherwise use:
//   unpack: OCI layout → runnable bundle     skiff `image import` + `image bundle` vs `umoci unpack`
//   pull:   loopback registry → local store  skiff `image pull` vs `skopeo copy docker:// oci:`
// Prints medians and ratios (other tool's time / skiff's: above 1 means skiff is faster).
// Both skiff pull modes are measured: --no-unpack (the same work as skopeo) and with unpacking
// (the same work as skopeo copy followed by umoci unpack).
// Needs root, the build (`npm run build:ts`) and `test/setup/install-packages.sh test`. Usage:
//   node bench/image.js [--runs N] [--files N]
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync, spawnSync } = require('child_process');

const REPO = path.resolve(__dirname, '..');
const build = require(path.join(REPO, 'dist/test/fixtures/image/build.js'));
const SKIFF = path.join(REPO, 'bin/skiff');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt('--runs', 5);
const FILES = opt('--files', 12000);

for (const tool of ['umoci', 'skopeo', 'docker-registry', 'tar']) {
  if (!build.has(tool)) {
    console.error(`bench/image: ${tool} is missing: run test/setup/install-packages.sh test`);
    process.exit(2);
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-image-bench-'));
const cleanup = [];
process.on('exit', () => {
  for (const f of cleanup.reverse()) try { f(); } catch { /* best effort */ }
  fs.rmSync(work, { recursive: true, force: true });
});

/** A tree of many files, of mixed sizes (mostly small, as in real images), deterministic. */
function makeTree(dir, n) {
  let seed = 42;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const text = Buffer.from('the quick brown fox jumps over the lazy dog 0123456789\n'.repeat(4096));
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, 'usr', 'share', `pkg${i % 150}`, `sub${i % 7}`);
    fs.mkdirSync(d, { recursive: true });
    const r = rnd();
    const size = r < 0.7 ? Math.floor(rnd() * 4096) : r < 0.98 ? Math.floor(rnd() * 32768) : Math.floor(rnd() * 1_000_000);
    const buf = Buffer.alloc(size);
    for (let o = 0; o < size; o += text.length) text.copy(buf, o, 0, Math.min(text.length, size - o));
    // some entropy so gzip has work to do
    for (let o = 0; o < size; o += 64) buf[o] = Math.floor(rnd() * 256);
    fs.writeFileSync(path.join(d, `f${i}.dat`), buf);
    if (i % 50 === 0) fs.symlinkSync(`f${i}.dat`, path.join(d, `l${i}`));
  }
}

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}
function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}
const settle = () => {
  // Flush dirty pages (and let discards of deleted trees go through) so no run pays for another's writes.
  spawnSync('sync');
  execFileSync('sleep', ['0.5']);
};

console.log(`bench/image: building the image (${FILES} generated files + busybox rootfs)…`);
const tree = path.join(work, 'tree');
makeTree(tree, FILES);
const layout = path.join(work, 'layout');
const baseTar = build.tarDir(build.busyboxRootfs());
const bigTar = build.tarDir(tree);
fs.rmSync(tree, { recursive: true, force: true });
const built = build.addImage(layout, { layers: [baseTar, bigTar], refName: 'latest', compression: 'gzip' });
const uncompressed = baseTar.length + bigTar.length;
const compressed = built.layers.reduce((s, d) => s + fs.statSync(path.join(layout, 'blobs/sha256', d.slice(7))).size, 0);
console.log(`image: 2 layers, ${(uncompressed / 1e6).toFixed(1)} MB uncompressed, ${(compressed / 1e6).toFixed(1)} MB gzip, ${FILES + 300} entries; ${RUNS} runs each\n`);

const results = {};
/** Runs each contender RUNS times, interleaved (a b c a b c …) so that disk and page-cache state falls on all alike. */
function benchGroup(cases) {
  const times = cases.map(() => []);
  const made = [];
  for (let i = 0; i < RUNS + 1; i++) {
    cases.forEach((c, j) => {
      const ctx = c.setup(i);
      settle();
      const ms = time(() => c.fn(ctx));
      made.push(() => c.teardown(ctx));
      if (i > 0) times[j].push(ms); // the first round warms the page cache for the inputs
    });
  }
  // Outputs are removed only now: on ext4, creating files right after deleting many costs extra
  // (the allocator skips recently deleted inodes), which would measure the disk, not the tools.
  for (const f of made) f();
  spawnSync('sync');
  execFileSync('sleep', ['2']);
  cases.forEach((c, j) => {
    results[c.name] = median(times[j]);
    console.log(`${c.name.padEnd(48)} median ${results[c.name].toFixed(0).padStart(6)} ms  (${times[j].map((x) => x.toFixed(0)).join(', ')})`);
  });
}

// ---- unpack ----
let k = 0;
const shared = path.join(work, 'shared-store');
run(SKIFF, ['image', 'import', layout, '--name', 'bench', '--image-root', shared]);
const fresh = () => path.join(work, `run-${k++}`);
const rm = (d) => fs.rmSync(d, { recursive: true, force: true });
const skiff = (...a) => run(SKIFF, ['image', ...a]);
benchGroup([
  { name: 'umoci unpack (layout → bundle)', setup: fresh, fn: (b) => run('umoci', ['unpack', '--image', `${layout}:latest`, b]), teardown: rm },
  {
    name: 'skiff import + bundle (overlay)', setup: fresh,
    fn: (d) => {
      skiff('import', layout, '--name', 'bench', '--image-root', path.join(d, 'store'));
      skiff('bundle', 'bench', path.join(d, 'bundle'), '--image-root', path.join(d, 'store'));
    },
    teardown: (d) => { skiff('unbundle', path.join(d, 'bundle'), '--image-root', path.join(d, 'store')); rm(d); },
  },
  { name: 'skiff bundle --copy (flatten from the store)', setup: fresh, fn: (b) => skiff('bundle', 'bench', b, '--copy', '--image-root', shared), teardown: (b) => skiff('unbundle', b, '--image-root', shared) },
  { name: 'skiff bundle (overlay, layers already in store)', setup: fresh, fn: (b) => skiff('bundle', 'bench', b, '--image-root', shared), teardown: (b) => skiff('unbundle', b, '--image-root', shared) },
]);

// ---- pull ----
console.log('\nstarting docker-registry on 127.0.0.1 and pushing the image with skopeo…');
const regDir = path.join(work, 'registry');
const port = Number(execFileSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(REPO, 'dist/test/fixtures/image/build.js'))}).freePort().then((p) => console.log(p))`]).toString());
fs.mkdirSync(path.join(regDir, 'data'), { recursive: true });
fs.writeFileSync(path.join(regDir, 'config.yml'), `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
const reg = require('child_process').spawn('docker-registry', ['serve', path.join(regDir, 'config.yml')], { stdio: 'ignore' });
reg.unref();
cleanup.push(() => reg.kill('SIGTERM'));
const host = `127.0.0.1:${port}`;
for (let i = 0; i < 100; i++) {
  if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) break;
  execFileSync('sleep', ['0.1']);
}
run('skopeo', ['copy', '-q', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${host}/bench:latest`]);

benchGroup([
  { name: 'skopeo copy docker:// → oci: (fetch+verify)', setup: fresh, fn: (d) => run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${host}/bench:latest`, `oci:${d}:latest`]), teardown: rm },
  { name: 'skiff pull --no-unpack (fetch+verify)', setup: fresh, fn: (d) => skiff('pull', `${host}/bench:latest`, '--insecure', '-q', '--no-unpack', '--image-root', d), teardown: rm },
  {
    name: 'skopeo copy + umoci unpack (fetch+verify+unpack)', setup: fresh,
    fn: (d) => {
      fs.mkdirSync(d);
      run('skopeo', ['copy', '-q', '--src-tls-verify=false', `docker://${host}/bench:latest`, `oci:${d}/oci:latest`]);
      run('umoci', ['unpack', '--image', `${d}/oci:latest`, `${d}/bundle`]);
    },
    teardown: rm,
  },
  { name: 'skiff pull (fetch+verify+unpack)', setup: fresh, fn: (d) => skiff('pull', `${host}/bench:latest`, '--insecure', '-q', '--image-root', d), teardown: rm },
]);

const R = (a, b) => (results[a] / results[b]).toFixed(2);
const ms = (a) => `${results[a].toFixed(0)} ms`;
const mbs = (a) => `${(uncompressed / 1e6 / (results[a] / 1000)).toFixed(0)} MB/s`;
const U = 'umoci unpack (layout → bundle)';
const SI = 'skiff import + bundle (overlay)';
const SC = 'skiff bundle --copy (flatten from the store)';
const SO = 'skiff bundle (overlay, layers already in store)';
const P1 = 'skopeo copy docker:// → oci: (fetch+verify)';
const P2 = 'skiff pull --no-unpack (fetch+verify)';
const P3 = 'skopeo copy + umoci unpack (fetch+verify+unpack)';
const P4 = 'skiff pull (fetch+verify+unpack)';
console.log('\nsummary (ratio = other tool\'s time / skiff\'s; above 1 means skiff is faster)');
console.log(`  unpack layout → bundle:  umoci ${ms(U)} (${mbs(U)})  skiff import+bundle ${ms(SI)} (${mbs(SI)})  ratio ${R(U, SI)}`);
console.log(`  flattened rootfs:        umoci ${ms(U)}  skiff bundle --copy ${ms(SC)} (${mbs(SC)})  ratio ${R(U, SC)}`);
console.log(`  bundle of a stored image: skiff (overlay) ${ms(SO)}  ratio vs umoci unpack ${R(U, SO)}`);
console.log(`  pull, fetch+verify:      skopeo ${ms(P1)}  skiff --no-unpack ${ms(P2)}  ratio ${R(P1, P2)}`);
console.log(`  pull, fetch+unpack:      skopeo+umoci ${ms(P3)}  skiff pull ${ms(P4)}  ratio ${R(P3, P4)}`);
process.exit(0);
