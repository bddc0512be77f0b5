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

GUEST_NAME="v2 guest" sh "$REPO/test/vm/guest-tests.sh"
sync
/bin/busybox poweroff -f || echo o > /proc/sysrq-trigger
