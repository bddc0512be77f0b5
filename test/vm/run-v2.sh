#!/bin/bash
# Runs compiled tap tests inside a pure cgroup v2 Linux guest (QEMU, TCG unless real KVM
# works), so the v2 code paths run against a real kernel on a v1 host.
#
#   test/vm/run-v2.sh [test filters...]      e.g. test/vm/run-v2.sh cgroups-
#
# Builds what it needs into $SKIFF_VM_CACHE (default /var/cache/skiff-vm), see lib.sh: Debian's
# qemu-system-x86 and busybox-static (installed with apt if missing), the cloud kernel
# (apt-get download + dpkg-deb -x), and a busybox initramfs with the virtiofs and overlay
# modules. The guest sees the host's / read-only over virtiofs with a tmpfs overlay on top,
# switch_root's into it (not chroot: user namespaces fail in a chroot), and guest-init.sh, a
# shell as PID 1 (no systemd: run-systemd.sh boots that), mounts cgroup2 at
# /sys/fs/cgroup with every controller enabled (cgroup_no_v1=all), and runs
# `node test/run-suite.js FILTERS` from this repository. Exits with the tests' status.
set -euo pipefail
VM_NAME=run-v2
# shellcheck source=test/vm/lib.sh
. "$(dirname "$0")/lib.sh"
vm_boot "$REPO/test/vm/guest-init.sh" "$@"
