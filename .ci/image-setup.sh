#!/bin/sh
# Installs what the image-store tests and bench need (idempotent): skopeo and umoci build and
# push test images, docker-registry serves them on loopback, runc runs the bundles we produce,
# busybox-static feeds make-rootfs.sh, zstd makes zstd layers, attr (getfattr) checks xattrs.
set -eu
pkgs="skopeo umoci docker-registry runc openssl busybox-static zstd attr tar"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# docker-registry's package starts a system service on port 5000; the tests start their own.
if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry >/dev/null 2>&1 || true; fi
