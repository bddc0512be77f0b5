#!/bin/sh
# Stage two of the systemd guest (see run-systemd.sh), run by the initramfs as PID 1 after
# switch_root into the tmpfs overlay of the host's root: it writes the guest's own units into
# the overlay's /etc (the host's files are never touched) and hands PID 1 to systemd, which
# mounts /proc, /sys, cgroup2 (pure v2: cgroup_no_v1=all) and /run itself, starts D-Bus,
# and then skiffvm-tests.service: the tests, their status on the console, power off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
REPO=$(cd "$(dirname "$0")/../.." && pwd)
# /run gets a tmpfs from systemd (and CI may clone under it): keep the checkout reachable.
mkdir -p /.skiff-repo && mount --bind "$REPO" /.skiff-repo
U=/etc/systemd/system
mkdir -p "$U"
cat > "$U/skiffvm.target" <<UNIT
[Unit]
Description=Skiff systemd guest: the tests, then power off
Requires=skiffvm-tests.service
After=skiffvm-tests.service
AllowIsolate=yes
UNIT
cat > "$U/skiffvm-tests.service" <<UNIT
[Unit]
Description=Skiff tests in the systemd guest
Requires=dbus.socket sysinit.target
After=dbus.socket sysinit.target
# systemd powers off when the tests end, whichever way (no tool needed in a broken guest).
SuccessAction=poweroff-force
FailureAction=poweroff-force
[Service]
Type=oneshot
TimeoutStartSec=infinity
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
Environment=SKIFF_REPO=$REPO
ExecStart=/bin/sh /.skiff-repo/test/vm/guest-systemd-run.sh
UNIT
# Boot to the tests, not to the host's multi-user.target (postgresql, podman, timers...);
# the host's sysinit extras have nothing to do here. systemd-tmpfiles-setup walks the host's
# trees (container storage among them) and exhausts virtiofsd's fds (one per inode the guest
# caches: "Error 24" in every program after it); /run is fresh and what dbus needs of it
# systemd makes for its socket.
ln -sf skiffvm.target "$U/default.target"
for u in apparmor.service systemd-pstore.service systemd-timesyncd.service systemd-firstboot.service \
  getty@tty1.service serial-getty@ttyS0.service e2scrub_reap.service \
  systemd-tmpfiles-setup.service systemd-tmpfiles-clean.timer systemd-update-utmp.service \
  podman.service podman.socket podman-restart.service podman-auto-update.service; do
  ln -sf /dev/null "$U/$u"
done
# The host's root may be a container's (Docker's /.dockerenv): systemd would take the guest for
# one, and a container's systemd reads its own argv, not the kernel command line
# (systemd.unified_cgroup_hierarchy= among them). The guest is a machine: hide the marker in
# the overlay.
rm -f /.dockerenv /run/.containerenv
exec /lib/systemd/systemd
