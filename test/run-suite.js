#!/usr/bin/env node
// Runs the tap suite over the compiled tests and ends with one plain line,
// "N passed, N failed, N skipped", that CI reads.
'use strict';
const { spawn } = require('child_process');
const path = require('path');
const fs = require('fs');

const root = path.resolve(__dirname, '..');
const compiled = path.join(root, 'dist', 'test');
if (!fs.existsSync(compiled)) {
  console.error('test: dist/test is missing: run `npm run build` first');
  process.exit(2);
}
const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.test.js') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})(compiled);
files.sort();
// A filter that matches nothing must not fall through to tap's own default (every file).
if (filters.length && files.length === 0) {
  console.error(`test: no compiled test file matches ${filters.join(' ')} (is it in dist/test? npm test compiles first)`);
  process.exit(2);
}

// The integration tests start real containers: without root they cannot run at all, so they
// are left out with the reason said, and the unit tests still run.
if (process.getuid && process.getuid() !== 0) {
  const integration = files.filter((f) => f.includes(`${path.sep}integration${path.sep}`));
  if (integration.length) {
    console.error(`test: skipping ${integration.length} integration test files: they start real containers and need root`);
    files.splice(0, files.length, ...files.filter((f) => !integration.includes(f)));
  }
}

const tap = path.join(root, 'node_modules', '.bin', 'tap');
// SKIFF_TAP_TIMEOUT: seconds per file (the systemd guest under TCG needs more than 600).
const child = spawn(tap, ['--disable-coverage', '--reporter=tap', `--timeout=${process.env.SKIFF_TAP_TIMEOUT || 600}`, '--jobs=2', ...files], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let tail = '';
child.stdout.on('data', (d) => {
  process.stdout.write(d);
  tail = (tail + d.toString()).slice(-4096);
});
child.on('close', (code) => {
  const m = tail.match(/# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?(?:, skip: (\d+))?/);
  const total = m ? +m[1] : 0;
  const pass = m && m[2] ? +m[2] : 0;
  const fail = m && m[3] ? +m[3] : total - pass - (m && m[4] ? +m[4] : 0);
  const skip = m && m[4] ? +m[4] : 0;
  console.log(`${pass} passed, ${fail} failed, ${skip} skipped`);
  process.exit(code === 0 && total > 0 ? 0 : 1);
});
