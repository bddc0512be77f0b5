'use strict';
// What build/skiff runs: `bun build --compile` bundles this, and every module it reaches,
// into the executable (scripts/build-bin.js).

// Node's fs.readdir* return names sorted (libuv's scandir sorts them by strcmp), Bun's in the
// directory's own order. Skiff is written and tested under Node, and output follows that order
// (`events --stats` lists hugetlb page sizes as read, as runc does sorted; the image store
// walks trees): keep Node's. UTF-16 order equals strcmp's on UTF-8 but for names that mix
// characters above U+E000 with ones outside the BMP.
const fs = require('fs');
const nameOf = (e) => (typeof e === 'string' || Buffer.isBuffer(e) ? e : e.name);
const byName = (a, b) => {
  const x = nameOf(a);
  const y = nameOf(b);
  if (typeof x === 'string' && typeof y === 'string') return x < y ? -1 : x > y ? 1 : 0;
  return Buffer.compare(Buffer.from(x), Buffer.from(y));
};
const readdirSync = fs.readdirSync;
fs.readdirSync = function (...args) {
  return readdirSync.apply(this, args).sort(byName);
};
const readdir = fs.readdir;
fs.readdir = function (...args) {
  const cb = args.pop();
  return readdir.call(this, ...args, (err, names) => cb(err, names && names.sort(byName)));
};
const readdirP = fs.promises.readdir;
fs.promises.readdir = async function (...args) {
  return (await readdirP.apply(this, args)).sort(byName);
};

require('../dist/src/cli/main.js').main(process.argv.slice(2)).then((code) => process.exit(code));
