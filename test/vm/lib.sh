#!/bin/bash
# What the cgroup v2 guests share (sourced by run-v2.sh and run-systemd.sh): the host packages,
# the Debian cloud kernel, a busybox initramfs that mounts the host's / read-only over
# virtiofs with a tmpfs overlay on top and switch_root's into it, and the QEMU run whose
# console carries the tests' output and status back. The guest's stage 2 (the script the
# initramfs hands PID 1 to) is the caller's: guest-init.sh (a shell as init) or
# guest-systemd.sh (systemd as init).
#
#   vm_boot STAGE2 [test filters...]    exits with the tests' status
#
# Everything built is cached in $SKIFF_VM_CACHE (default /var/cache/skiff-vm).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${SKIFF_VM_CACHE:-/var/cache/skiff-vm}
MEM=${SKIFF_VM_MEM:-2048}
TIMEOUT=${SKIFF_VM_TIMEOUT:-1500}
mkdir -p "$CACHE"
log() { echo "${VM_NAME:-vm}: $*" >&2; }

# --- host packages (idempotent; the project's one list, group "vm")
sh "$REPO/test/setup/install-packages.sh" vm >&2
VIRTIOFSD=/usr/lib/qemu/virtiofsd
[ -x "$VIRTIOFSD" ] || VIRTIOFSD=$(command -v virtiofsd)

# --- kernel: the newest linux-image-6.1.0-*-cloud-amd64 apt knows about
if [ ! -f "$CACHE/kernel/ok" ]; then
  latest() { apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' | awk '{print $1}' | sort -V | tail -1; }
  pkg=$(latest)
  [ -n "$pkg" ] || { apt-get update -qq >&2; pkg=$(latest); }
  [ -n "$pkg" ] || { log "no linux-image-6.1.0-*-cloud-amd64 in apt"; exit 2; }
  log "fetching $pkg"
  rm -rf "$CACHE/kernel" && mkdir -p "$CACHE/kernel"
  (cd "$CACHE/kernel" && apt-get download "$pkg" >&2 && dpkg-deb -x ./*.deb root && rm -f ./*.deb)
  touch "$CACHE/kernel/ok"
fi
KROOT=$CACHE/kernel/root
VMLINUZ=$(ls "$KROOT"/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}

# --- initramfs: busybox, the modules for virtiofs and overlayfs (with their dependencies)
INITRD=$CACHE/initrd-$KVER.img
if [ ! -f "$INITRD" ] || [ "${BASH_SOURCE[0]}" -nt "$INITRD" ]; then
  log "building the initramfs for $KVER"
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  mkdir -p "$W"/{bin,dev,proc,sys,mnt,newroot,lib/modules}
  cp /bin/busybox "$W/bin/busybox"
  for a in sh mount umount mkdir insmod switch_root sleep cat echo poweroff; do ln -s busybox "$W/bin/$a"; done
  MODDIR=$KROOT/lib/modules/$KVER
  # A module's file, and its dependencies (the depends= of its .modinfo), depth first: the
  # deb has no modules.dep (depmod runs at install) and kmod may be missing here.
  declare -A seen=()
  order=()
  modtext() { case "$1" in *.xz) xz -dc "$1" ;; *.zst) zstd -qdc "$1" ;; *) cat "$1" ;; esac; }
  add() {
    local name=$1 file deps d
    file=$(find "$MODDIR/kernel" \( -name "$name.ko" -o -name "$name.ko.*" -o -name "${name//_/-}.ko" -o -name "${name//_/-}.ko.*" \) | head -1)
    [ -n "$file" ] || return 0 # built in
    [ -z "${seen[$file]:-}" ] || return 0
    seen[$file]=1
    deps=$(modtext "$file" | grep -a -o 'depends=[^[:cntrl:]]*' | head -1 | cut -d= -f2 | tr , ' ')
    for d in $deps; do add "$d"; done
    order+=("${file#"$MODDIR"/}")
  }
  for m in virtio_pci virtio_blk virtiofs fuse overlay; do add "$m"; done
  : > "$W/modules"
  for f in "${order[@]}"; do
    base=${f##*/}
    case "$base" in
      *.xz) xz -dc "$MODDIR/$f" > "$W/lib/modules/${base%.xz}"; base=${base%.xz} ;;
      *.zst) zstd -qdc "$MODDIR/$f" > "$W/lib/modules/${base%.zst}"; base=${base%.zst} ;;
      *) cp "$MODDIR/$f" "$W/lib/modules/$base" ;;
    esac
    echo "$base" >> "$W/modules"
  done
  cat > "$W/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
# The repository's stage 2 comes on the kernel command line: this initramfs is cached per
# kernel and shared by every checkout on the machine, so it must name none of them.
for a in $(cat /proc/cmdline); do case $a in skiff.stage2=*) stage2=${a#skiff.stage2=} ;; esac; done
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules); do insmod /lib/modules/$m 2>/dev/null; done
mkdir -p /mnt/lower /mnt/rw
mount -t virtiofs -o ro hostroot /mnt/lower || { echo "SKIFF-VM: virtiofs mount failed"; poweroff -f; }
mount -t tmpfs -o mode=755 tmpfs /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot ||
  { echo "SKIFF-VM: overlay mount failed"; poweroff -f; }
umount /proc /sys
mount --move /dev /newroot/dev
exec switch_root /newroot /bin/sh "$stage2"
EOF
  chmod +x "$W/init"
  (cd "$W" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$W"
  trap - EXIT
fi

# --- the run: the stage 2 and the arguments travel to the guest on the kernel command line
# VM_CGROUP: the cgroup layout's kernel arguments, pure v2 unless the caller says otherwise.
vm_boot() {
  local stage2=$1
  shift
  RUN=$(mktemp -d)
  trap 'kill $VPID 2>/dev/null || true; rm -rf "$RUN"' EXIT
  SOCK=$RUN/vfs.sock
  "$VIRTIOFSD" --socket-path="$SOCK" -o source=/ -o cache=always -o no_posix_lock -o sandbox=chroot >"$RUN/virtiofsd.log" 2>&1 &
  VPID=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
  [ -S "$SOCK" ] || { log "virtiofsd did not start"; cat "$RUN/virtiofsd.log" >&2; exit 2; }

  # A small empty disk, so the guest has a block device for the blkio/io.max throttle tests.
  truncate -s 16M "$RUN/disk.img"
  ACCEL=tcg,thread=single
  if [ "${SKIFF_VM_KVM:-0}" = 1 ] && [ -w /dev/kvm ]; then ACCEL=kvm; fi
  ARGS=$(printf '%s' "$*" | base64 -w0)
  # SKIFF_VM_GREP: only the subtests whose names match (tap's TAP_GREP, one pattern a level).
  GREP=$(printf '%s' "${SKIFF_VM_GREP:-}" | base64 -w0)
  log "booting $KVER ($ACCEL); tests: ${*:-all}"
  set +e
  timeout "$TIMEOUT" qemu-system-x86_64 \
    -M pc -accel "$ACCEL" -cpu max -smp 2 -m "$MEM" -bios /usr/share/qemu/qboot.rom \
    -object memory-backend-memfd,id=mem,size="${MEM}M",share=on -numa node,memdev=mem \
    -chardev socket,id=vfs,path="$SOCK" -device vhost-user-fs-pci,chardev=vfs,tag=hostroot \
    -drive file="$RUN/disk.img",format=raw,if=virtio,cache=unsafe \
    -kernel "$VMLINUZ" -initrd "$INITRD" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 ${VM_CGROUP:-cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1} skiff.stage2=$stage2 skiff.args=$ARGS skiff.grep=$GREP ${VM_APPEND:-}" \
    -nographic -nic none -no-reboot -serial mon:stdio </dev/null | tee "$RUN/console.log" | grep --line-buffered -v '^SKIFF-VM-EXIT='
  qs=${PIPESTATUS[0]}
  set -e
  status=$(grep -a -o 'SKIFF-VM-EXIT=[0-9]*' "$RUN/console.log" | tail -1 | cut -d= -f2)
  if [ -z "$status" ]; then
    log "the guest ended without a test status (qemu exit $qs)"
    sed 's/^/virtiofsd: /' "$RUN/virtiofsd.log" >&2
    exit 2
  fi
  exit "$status"
}
