#!/bin/sh
# Stage two of the v2 guest (see run-v2.sh), run as pid 1 after switch_root into the overlay
# of the host's root: mount what a Debian system would, put cgroup2 at /sys/fs/cgroup with
# every controller delegated, run the tests, report the status on the console, power off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH HOME=/root
# The repository may live under /tmp or /run (CI clones anywhere): keep it reachable at the
# same path once those get their own tmpfs below.
REPO=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p /.skiff-repo && mount --bind "$REPO" /.skiff-repo
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
case "$REPO" in /tmp/*|/run/*) mkdir -p "$REPO" && mount --bind /.skiff-repo "$REPO" ;; esac
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
hostname skiff-v2
ip link set lo up 2>/dev/null
# Everything stays in the root cgroup, which may hold processes and still delegate: the
# containers' cgroups (relative to ours) then get every controller.
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
echo "guest: $(uname -r); cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"

args=$(sed -n 's/.*skiff\.args=\([^ ]*\).*/\1/p' /proc/cmdline | base64 -d)
cd "$REPO"
unset NODE_EXTRA_CA_CERTS
export SKIFF_IN_VM=1
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
echo "v2 guest: $pass passed, $fail failed, $skip skipped"
echo "SKIFF-VM-EXIT=$status"
sync
/bin/busybox poweroff -f || echo o > /proc/sysrq-trigger
