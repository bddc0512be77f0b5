#!/bin/sh
# skiffvm-tests.service of the systemd guest (guest-systemd.sh writes the unit): the checkout
# back at its own path if systemd's /run or /tmp hid it, the tests; systemd then powers off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
REPO=$SKIFF_REPO
# /tmp a tmpfs, as in the v2 guest: the tests' containerd and podman put overlayfs upper and
# work dirs there, which overlayfs refuses on the root's own overlay.
mount -t tmpfs -o mode=1777 tmpfs /tmp
case "$REPO" in /tmp/*|/run/*) mkdir -p "$REPO" && mount --bind /.skiff-repo "$REPO" ;; esac
hostname skiff-systemd
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then cg="v2, controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
else cg="v1 ($(ls /sys/fs/cgroup | tr '\n' ' '))"; fi
echo "guest: $(uname -r); PID 1: $(cat /proc/1/comm) $(systemctl --version | head -1); cgroup $cg"
echo "guest: cgroup arguments: $(tr " " "\n" < /proc/cmdline | grep -e cgroup | tr "\n" " ")"
echo "guest: booted in $(cut -d' ' -f1 /proc/uptime)s"
# Under TCG one Skiff command takes seconds: a file of them needs more than tap's 600 s.
SKIFF_TAP_TIMEOUT=1800 GUEST_NAME="systemd guest" sh "$REPO/test/vm/guest-tests.sh"
sync
# The unit's SuccessAction/FailureAction power off once this script ends.
