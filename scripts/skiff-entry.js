'use strict';
// What build/skiff-bun runs: `bun build --compile` bundles this, and every module it reaches,
// into the executable (scripts/build-bin.js). native/launcher.c, which execs it, lists in
// SKIFF_LAUNCHER_SET the JavaScriptCore options it set: they are for this process only.
for (const name of (process.env.SKIFF_LAUNCHER_SET ?? '').split(',').filter(Boolean)) delete process.env[name];
delete process.env.SKIFF_LAUNCHER_SET;
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then((code) => process.exit(code));
