#!/bin/sh
# Installs the Debian packages of the named groups (build, test, vm) that are missing, from
# test/setup/debian-packages.txt. Idempotent; asks apt only when something is missing.
#   install-packages.sh GROUP...
set -eu
[ $# -gt 0 ] || { echo "usage: install-packages.sh GROUP..." >&2; exit 2; }
list="$(dirname "$0")/debian-packages.txt"
missing=""
for group in "$@"; do
  for pkg in $(awk -v g="$group" '!/^#/ && NF > 1 { for (i = 2; i <= NF; i++) if ($i == g) print $1 }' "$list"); do
    case " $missing " in *" $pkg "*) continue ;; esac
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $pkg"
  done
done
[ -n "$missing" ] || exit 0
export DEBIAN_FRONTEND=noninteractive
recommends=""
[ "$*" = vm ] && recommends="--no-install-recommends"
echo "install-packages: installing$missing" >&2
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $recommends $missing >/dev/null
# Packages that start system services: the tests start their own, privately.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now docker.socket docker containerd docker-registry >/dev/null 2>&1 || true
fi
pkill -x dockerd 2>/dev/null || true
pkill -x containerd 2>/dev/null || true
pkill -x docker-registry 2>/dev/null || true
exit 0
