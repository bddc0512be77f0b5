#!/usr/bin/env node
// Writes dist/buildinfo.json at build time: the commit `skiff --version` prints, as runc's
// Makefile takes it (git describe --dirty --long --always), or the package version where the
// tree is not a git checkout (a tarball install).
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
let commit;
try {
  commit = execFileSync('git', ['-C', root, 'describe', '--dirty', '--long', '--always'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
} catch {
  commit = `v${require(path.join(root, 'package.json')).version}`;
}
fs.mkdirSync(path.join(root, 'dist'), { recursive: true });
fs.writeFileSync(path.join(root, 'dist', 'buildinfo.json'), JSON.stringify({ commit }) + '\n');
