#!/bin/bash
# Runs compiled tap tests inside a guest that boots systemd as its init on pure cgroup v2
# (Debian's systemd and dbus from the host's root, shared read-only as run-v2.sh does; see
# lib.sh), for what needs a real systemd: the --systemd-cgroup driver.
#
#   test/vm/run-systemd.sh [test filters...]   e.g. test/vm/run-systemd.sh cgroups-systemd
#
# SKIFF_VM_CGROUP=hybrid boots systemd on cgroup v1 with its own cgroup2 at
# /sys/fs/cgroup/unified (systemd.unified_cgroup_hierarchy=0: what Debian's systemd 252 makes
# of it, and this machine's layout), =legacy on v1 alone; the default is v2.
#
# guest-systemd.sh writes the guest's units into the overlay and execs systemd;
# skiffvm-tests.service (guest-systemd-run.sh) runs the tests once D-Bus is up and powers off.
# Exits with the tests' status.
set -euo pipefail
VM_NAME=run-systemd
# The whole guest run, boot included (lib.sh's default is 1500 s).
export SKIFF_VM_TIMEOUT=${SKIFF_VM_TIMEOUT:-3600}
# shellcheck source=test/vm/lib.sh
. "$(dirname "$0")/lib.sh"
VM_APPEND="systemd.show_status=false rd.systemd.show_status=false"
case ${SKIFF_VM_CGROUP:-v2} in
  v2) ;;
  hybrid) VM_CGROUP="systemd.unified_cgroup_hierarchy=0" ;;
  legacy) VM_CGROUP="systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
  *) log "SKIFF_VM_CGROUP: v2, hybrid or legacy, not '$SKIFF_VM_CGROUP'"; exit 2 ;;
esac
vm_boot "$REPO/test/vm/guest-systemd.sh" "$@"
