# SPDX-License-Identifier: MIT
# Sourced first by every tests/vm rig: the host test helpers, the initramfs and QEMU libraries,
# then SKIP (exit 77) unless root, QEMU and the guest kernel are here, a $TMP removed at exit,
# and every VM the rig started stopped at exit.
#   balloon_initramfs      INITRD := the balloon guest (guest/balloon-init.sh, virtio balloon)
_rig_lib=$(dirname "${BASH_SOURCE[0]}")
. "$_rig_lib/../../host/lib.sh"
. "$_rig_lib/initramfs.sh"
. "$_rig_lib/qemu.sh"
need_vm_rig
make_tmp
at_exit vm_stop_all

balloon_initramfs() {
	INITRD=$TOPDIR/build/vm/balloon.cpio.gz
	build_initramfs "$INITRD" "$TOPDIR/tests/vm/guest/balloon-init.sh" "virtio_pci virtio_balloon" ||
		fail "cannot build the initramfs"
}
