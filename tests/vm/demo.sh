#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make demo: two small QEMU (TCG) guests booted from the same initramfs (QEMU marks guest RAM
# mergeable, so KSM finds identical pages), KSM turned on, a balloon change on one guest, and
# vmmemtop opened on them. Everything is undone on exit: the guests stop, KSM settings return.
set -u
TOPDIR=$(cd "$(dirname "$0")/../.." && pwd)
VMMEMTOP=$TOPDIR/build/vmmemtop
. "$TOPDIR/tests/host/lib.sh"
. "$TOPDIR/tests/vm/lib/initramfs.sh"
. "$TOPDIR/tests/vm/lib/qemu.sh"
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (BPF, KSM settings)" >&2; exit 1; }
kernel_fetch || { echo "demo: no guest kernel (make deps installs linux-image-amd64)" >&2; exit 1; }
at_exit vm_stop_all
K=/sys/kernel/mm/ksm
for f in run pages_to_scan sleep_millisecs; do at_exit "echo $(cat $K/$f) > $K/$f"; done

INITRD=$TOPDIR/build/vm/balloon.cpio.gz
build_initramfs "$INITRD" "$TOPDIR/tests/vm/guest/balloon-init.sh" "virtio_pci virtio_balloon" || exit 1
echo "demo: booting two guests (about 10 s under TCG)..."
vm_start web "$INITRD" 512 -smp 1 -name guest=web -device virtio-balloon-pci
vm_start db "$INITRD" 512 -smp 1 -name guest=db -device virtio-balloon-pci
vm_wait web READY 120 && vm_wait db READY 120 || exit 1
echo 1000 > $K/pages_to_scan; echo 20 > $K/sleep_millisecs; echo 1 > $K/run
echo "demo: KSM on; in 10 s the balloon takes 128 MiB from 'db', 15 s later gives it back"
( sleep 10; qmp db '{"execute":"balloon","arguments":{"value":402653184}}' >/dev/null
  sleep 15; qmp db '{"execute":"balloon","arguments":{"value":536870912}}' >/dev/null ) &
at_exit "kill $! 2>/dev/null"
if [ -t 0 ] && [ -t 1 ]; then
	"$VMMEMTOP" --syscall-tracepoints
else
	"$VMMEMTOP" --syscall-tracepoints -b -d 2 -n ${DEMO_ROUNDS:-15}
fi
