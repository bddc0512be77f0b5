'use strict';
// What build/skiff runs: `bun build --compile` bundles this, and every module it reaches,
// into the executable (scripts/build-bin.js).
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then((code) => process.exit(code));
