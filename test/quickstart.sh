#!/usr/bin/env bash
# Quick start: on a fresh Debian 12 machine, as root, install what Skiff needs, build it, make a
# busybox bundle and run a real container in it.
set -euo pipefail
cd "$(dirname "$0")/.."
# The same package list CI reads (test/setup/debian-packages.txt), group "build".
sh test/setup/install-packages.sh build
[ -f build/Release/skiff.node ] && [ -f dist/src/cli/main.js ] && [ -x build/skiff ] || npm ci --no-audit --no-fund
bundle=${SKIFF_DEMO_BUNDLE:-/tmp/skiff-demo}
mkdir -p "$bundle"
test/fixtures/make-rootfs.sh "$bundle/rootfs"
rm -f "$bundle/config.json"
bin/skiff spec -b "$bundle"
# Non-interactive: no terminal, and a command that shows it is isolated.
node -e '
const f = process.argv[1], c = JSON.parse(require("fs").readFileSync(f, "utf8"));
c.process.terminal = false;
c.process.args = ["sh", "-c", "echo hello from $(hostname): pid $$, uid $(id -u); ls /"];
require("fs").writeFileSync(f, JSON.stringify(c, null, "\t"));' "$bundle/config.json"
exec bin/skiff run -b "$bundle" "demo-$$"
