#!/bin/sh
# Runs the test files the host asked for (skiff.args on the kernel command line, base64) in a
# guest, one file at a time, and prints the summary and the SKIFF-VM-EXIT=N line the host
# reads from the console. Shared by guest-init.sh and guest-systemd.sh. GUEST_NAME names the
# guest in the summary.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root
REPO=$(cd "$(dirname "$0")/../.." && pwd)
args=$(sed -n 's/.*skiff\.args=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
cd "$REPO"
unset NODE_EXTRA_CA_CERTS
export SKIFF_IN_VM=1 SKIFF_TAP_TIMEOUT
grep=$(sed -n 's/.*skiff\.grep=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
[ -z "$grep" ] || export TAP_GREP="$grep"
# One file at a time, each with the whole (emulated) CPU: tap's per-file timeout then measures
# that file alone, and the summary line adds them up.
# shellcheck disable=SC2086
files=$(node -e '
  const fs = require("fs"), path = require("path");
  const filters = process.argv.slice(1), out = [];
  (function walk(d) { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith(".test.js") && (!filters.length || filters.some((f) => p.includes(f)))) out.push(p);
  } })(path.resolve("dist/test"));
  console.log(out.sort().join("\n"));' $args)
status=0; pass=0; fail=0; skip=0
for f in $files; do
  { node test/run-suite.js "$f"; echo $? > /tmp/suite.rc; } 2>&1 | tee /tmp/suite.out
  rc=$(cat /tmp/suite.rc)
  [ $rc -eq 0 ] || status=1
  set -- $(tail -1 /tmp/suite.out | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p')
  pass=$((pass + ${1:-0})); fail=$((fail + ${2:-1})); skip=$((skip + ${3:-0}))
done
[ -n "$files" ] || { echo "no test files match: $args"; status=1; }
echo "${GUEST_NAME:-v2 guest}: $pass passed, $fail failed, $skip skipped"
echo "SKIFF-VM-EXIT=$status"
