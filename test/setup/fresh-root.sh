#!/bin/bash
# Runs the README's two commands on a fresh Debian 12 root, from a clean clone: the only proof
# that the install steps are complete (packages installed by hand on this machine hide gaps).
#
#   test/setup/fresh-root.sh [quickstart|ci|both] [DIR]
#
# The root is made once with Debian's mmdebstrap (the required packages, build tools and git,
# as a new machine has)
# and kept pristine in DIR (default /var/tmp/skiff-fresh); each run copies it, puts this
# machine's Node and CA certificates in (a new machine of this kind has both), clones HEAD
# into it and runs the command(s) in a mount namespace of its own where / is a mount point,
# with /proc, /sys (cgroups), /dev, /run and /tmp as a booted machine has them. FRESH_KEEP=1
# keeps the copy for a look afterwards.
set -euo pipefail
what=${1:-both}
base=${2:-/var/tmp/skiff-fresh}
repo=$(cd "$(dirname "$0")/../.." && pwd)

if [ -z "${FRESH_ROOT_NS:-}" ]; then
  command -v mmdebstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null; }
  if [ ! -f "$base/pristine/.complete" ] || [ ! -x "$base/pristine/usr/bin/mount" ]; then
    rm -rf "$base/pristine"
    mkdir -p "$base"
    mmdebstrap --variant=required --include=build-essential,python3,git,ca-certificates bookworm "$base/pristine" >&2
    touch "$base/pristine/.complete"
  fi
  root=$base/run-$$
  rm -rf "$root"
  cp -a "$base/pristine" "$root"
  # This machine's Node (with npm and its headers) and CA certificates.
  cp "$(command -v node)" "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules" "$root/usr/include"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/../../npm" "$root/usr/lib/node_modules/"
  [ -d /usr/include/node ] && cp -a /usr/include/node "$root/usr/include/"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  [ -f "$HOME/.npmrc" ] && cp "$HOME/.npmrc" "$root/root/.npmrc"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/" 2>/dev/null || true
  chroot "$root" update-ca-certificates >/dev/null 2>&1 || true
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  git clone -q "$repo" "$root/root/skiff"
  echo "fresh-root: $root" >&2
  status=0
  # The script itself goes along into the new root: it is run from there.
  cp "$0" "$root/fresh-root.sh"
  FRESH_ROOT_NS=1 unshare -m --propagation private "$root/fresh-root.sh" "$what" "$root" || status=$?
  # The mounts went with the namespace; the copy goes too unless asked to keep it.
  [ -n "${FRESH_KEEP:-}" ] || rm -rf "$root"
  exit $status
fi

root=$base
# pivot_root, not chroot: the new root is the mount namespace's root, as on a booted machine
# (a chroot leaves the host's mounts around it, and the kernel judges a container's new proc
# mount by those).
mount --bind "$root" "$root"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mkdir -p "$root/.oldroot"
cd "$root"
pivot_root . .oldroot
cd /
mount -t proc proc /proc  # umount reads /proc/self/mountinfo
umount -l /.oldroot
rmdir /.oldroot
inside() {
  /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TERM=dumb CI=true ${NODE_EXTRA_CA_CERTS:+NODE_EXTRA_CA_CERTS=$NODE_EXTRA_CA_CERTS} bash -c "cd /root/skiff && $1"
}
status=0
case $what in
  quickstart) inside 'bash test/quickstart.sh' || status=$? ;;
  ci) inside 'bash .ci/run' || status=$? ;;
  both) inside 'bash test/quickstart.sh' || status=$?; inside 'bash .ci/run' || status=$? ;;
  *) echo "usage: fresh-root.sh [quickstart|ci|both] [DIR]" >&2; exit 2 ;;
esac
echo "fresh-root: $what exited $status" >&2
exit $status
