#!/usr/bin/env node
// Makes build/skiff, which bin/skiff (a symlink) is. With the optional dependency
// @oven/bun-linux-x64 installed: Skiff compiled by Bun into one executable (Bun's runtime, the
// bundle of dist/src with its bytecode precompiled), build/skiff-bun; it starts in ~12 ms where
// Node needs ~45 (and ~90 with NODE_EXTRA_CA_CERTS set): docs/design.md, "The interpreter".
// build/skiff is then native/launcher.c, which execs it with the JavaScriptCore options Skiff
// runs with (no C compiler: build/skiff is the Bun executable itself). Without Bun (another
// platform, --omit=optional): a launcher that runs bin/skiff-node under this Node.
// Run by `npm install`/`npm ci` and `npm test` (pretest) after tsc, so it bundles what dist/ holds.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const OUT = path.join(REPO, 'build', 'skiff');
const BUN_EXE = path.join(REPO, 'build', 'skiff-bun');
const LAUNCHER = path.join(REPO, 'native', 'launcher.c');
const ENTRY = path.join(__dirname, 'skiff-entry.js');

function findBun() {
  let dir;
  try {
    dir = path.dirname(require.resolve('@oven/bun-linux-x64/package.json', { paths: [REPO] }));
  } catch {
    return undefined;
  }
  const bun = path.join(dir, 'bin', 'bun');
  const r = spawnSync(bun, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? bun : undefined;
}

// rename(2) over the old file: a command running the previous build keeps its inode. The
// fresh file is then dropped from the page cache: every page of it is cached as written, and
// each page fault would map 64 KiB of them around it (fault-around), so a command's RSS would
// count ~5 MiB of the executable it never touched until memory pressure evicted them.
function dropFromPageCache(file) {
  spawnSync('sync', ['--data', file], { stdio: 'ignore' });
  spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0'], { stdio: 'ignore' });
}

function install(tmp, out = OUT) {
  fs.renameSync(tmp, out);
  dropFromPageCache(out);
}

// The launcher (native/launcher.c: no libc, x86-64), or undefined where it cannot be built.
function launcher(dir) {
  if (process.arch !== 'x64') return undefined;
  const out = path.join(dir, 'launcher');
  const r = spawnSync('cc', ['-Os', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-builtin',
    '-fno-asynchronous-unwind-tables', '-s', '-Wall', '-Wextra', '-Werror', '-o', out, LAUNCHER], { encoding: 'utf8' });
  if (r.status === 0) return out;
  console.warn(`build-bin: no launcher (cc: ${(r.stderr || r.error?.message || '').trim()}): build/skiff is the Bun executable itself`);
  return undefined;
}

function nodeLauncher() {
  const tmp = `${OUT}.${process.pid}`;
  // An absolute interpreter: engines run bin/skiff with a PATH of their own.
  fs.writeFileSync(tmp, `#!${process.execPath}\n'use strict';\nrequire('../bin/skiff-node');\n`, { mode: 0o755 });
  install(tmp);
  fs.rmSync(BUN_EXE, { force: true });
  console.log(`build-bin: ${OUT}: the Node launcher (bin/skiff-node on ${process.execPath})`);
}

function compile(bun, out, extra) {
  // The systemd driver's D-Bus worker thread is an entry point of its own (src/cgroups/systemd/bus.ts).
  const args = ['build', ENTRY, './dist/src/cgroups/systemd/bus-worker.js', '--compile', '--bytecode', '--format=cjs', '--target=bun', '--outfile', out,
    // An engine's working directory is not Skiff's configuration.
    '--no-compile-autoload-dotenv', '--no-compile-autoload-bunfig',
    // dbus-next's optional modules (an X11 session bus, fd passing): neither is installed, and the
    // system bus over a unix socket needs neither.
    '--external', 'x11', '--external', 'usocket',
    // A command is done before JIT-compiled code would pay for itself: stay in the interpreter
    // longer (fewer pages of the JIT touched, -0.5 MiB RSS), long-running supervisors still tier up.
    '--compile-jit-policy=1000',
    ...extra];
  const r = spawnSync(bun, args, { encoding: 'utf8', cwd: REPO });
  if (r.status !== 0) throw new Error(`bun build failed:\n${r.stdout}${r.stderr}`);
}

// Runs the first build on commands that need neither root nor a container, so the second
// lays out first the bytecode every command runs (arguments, errors, the state store): the
// pages a command touches are fewer (-1.5 MiB RSS).
function recordOrder(exe, dir) {
  const files = [];
  const root = path.join(dir, 'root');
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(bundle);
  const runs = [['--version'], ['spec', '-b', bundle], ['--root', root, 'state', 'x'], ['--root', root, 'delete', 'x'],
    ['--root', root, 'kill', 'x', 'KILL'], ['--root', root, 'start', 'x'], ['--root', root, 'exec', 'x', 'true']];
  runs.forEach((argv, i) => {
    const file = path.join(dir, `order-${i}`);
    spawnSync(exe, argv, { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', BUN_BYTECODE_ORDER_OUT: file } });
    if (fs.existsSync(file)) files.push(file);
  });
  return files;
}

function bunBinary(bun) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-build-bin-'));
  try {
    const first = path.join(dir, 'skiff');
    compile(bun, first, []);
    const order = recordOrder(first, dir);
    const tmp = `${OUT}.${process.pid}`;
    compile(bun, tmp, order.length ? [`--bytecode-order=${order.join(',')}`] : []);
    const launch = launcher(dir);
    // The launcher finds the Bun executable beside itself: try the pair where it will be.
    if (launch) {
      install(tmp, BUN_EXE);
      fs.copyFileSync(launch, tmp);
      fs.chmodSync(tmp, 0o755);
    } else {
      fs.rmSync(BUN_EXE, { force: true });
    }
    const v = spawnSync(tmp, ['--version'], { encoding: 'utf8' });
    if (v.status !== 0 || !v.stdout.startsWith('skiff version')) {
      fs.rmSync(tmp, { force: true });
      throw new Error(`the compiled skiff does not run: ${v.stdout}${v.stderr}${v.error ?? ''}`);
    }
    install(tmp);
    // The check above ran it: what it touched is cached again.
    if (launch) dropFromPageCache(BUN_EXE);
    const what = launch ? `the launcher of ${BUN_EXE}, ` : '';
    console.log(`build-bin: ${OUT}: ${what}compiled by bun ${spawnSync(bun, ['--version'], { encoding: 'utf8' }).stdout.trim()}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

fs.mkdirSync(path.dirname(OUT), { recursive: true });
if (!fs.existsSync(path.join(REPO, 'dist', 'src', 'cli', 'main.js'))) {
  console.error('build-bin: dist/src is missing: run tsc first');
  process.exit(1);
}
const bun = process.env.SKIFF_BUILD_NODE ? undefined : findBun();
if (bun) bunBinary(bun);
else nodeLauncher();
