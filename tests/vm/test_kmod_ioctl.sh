#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every /dev/vmmem ioctl, and read(), called with bad sizes, directions, flags, reserved
# bits, counts, bad pointers and unknown numbers (tests/tools/vmmem_ioctl_check) in a QEMU
# guest of Debian's kernel ($GUEST_VER, default 6.1) with vmmem.ko built against that
# kernel's headers. Oracle: the errno each call must return, from the uapi's kernel-doc
# (kmod/uapi/vmmem.h); and the guest's kernel log, which must stay silent (no WARN, BUG,
# oops, usercopy complaint, nor any line from vmmem). ~20 s.
set -u
. "$(dirname "$0")/lib/rig.sh"
start=$(date +%s)

guest_kmod
INITRD=$TOPDIR/build/vm/ioctl-$GUEST_VER.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/ioctl-init.sh" "" \
	"$TOOLS/vmmem_ioctl_check:/bin/vmmem_ioctl_check" "$GUEST_KO:/vmmem.ko" ||
	fail "cannot build the initramfs"
vm_start io "$INITRD" 512
vm_wait io ALLDONE 240 || fail "the guest did not finish; console: $(tail -30 "${VM_LOG[io]}")"
log=$TMP/console
tr -d '\r' < "${VM_LOG[io]}" > "$log"
grep -E "^(KERNEL|INSMOD|IOCTL|CHECK|RMMOD|DMESG)" "$log"
ok=1
grep -q "^INSMOD rc=0" "$log" || { echo "insmod vmmem.ko failed"; ok=0; }
grep -q "^RMMOD rc=0" "$log" || { echo "rmmod vmmem failed"; ok=0; }
summary=$(grep "^IOCTL_SUMMARY" "$log")
cases=$(sed -n 's/.*cases=\([0-9]*\).*/\1/p' <<< "$summary")
nbad=$(sed -n 's/.*bad=\([0-9]*\).*/\1/p' <<< "$summary")
[ -n "$cases" ] && [ "$cases" -ge 40 ] || { echo "the checker did not run its cases: $summary"; ok=0; }
[ "${nbad:-1}" = 0 ] && grep -q "^CHECK rc=0" "$log" || { echo "calls disagree with the documented ABI:"; grep "BAD$" "$log"; ok=0; }
grep -q "^DMESG_BAD=0$" "$log" || { echo "the guest kernel logged something while the calls ran"; ok=0; }
echo "ioctl rig on $(grep -o 'KERNEL=[^ ]*' "$log") took $(( $(date +%s) - start )) s"
[ $ok = 1 ] || fail "see above"
echo "PASS: $cases calls on /dev/vmmem returned what kmod/uapi/vmmem.h documents; kernel log clean"
