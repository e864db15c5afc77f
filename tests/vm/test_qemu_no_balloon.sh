#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# No phantom balloon: a real QEMU 7.2 guest (TCG) with a virtio-blk disk and no balloon
# device. Its thread pool starts I/O workers for a burst of guest reads and retires them 10 s
# after (util/thread-pool.c worker_thread); glibc then madvise(MADV_DONTNEED)s each dead
# worker's stack, and QEMU trims its malloc arenas. None of it is guest RAM: balloon bytes
# must stay 0 across the window, and vmm_own_discard_bytes must show the discards.
# Oracles: tracefs sched:sched_process_exit of the qemu tgid (the workers did exit), and
# tracefs sys_enter_madvise/sys_enter_fallocate of the tgid (the discard bytes QEMU issued).
set -u
. "$(dirname "$0")/lib/rig.sh"
need_tracefs

INITRD=$TOPDIR/build/vm/disk.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/disk-init.sh" "virtio_pci virtio_blk" ||
	fail "cannot build the initramfs"
truncate -s 64M "$TMP/disk.img"
vm_start g "$INITRD" 256 -drive file="$TMP/disk.img",if=virtio,format=raw -name guest=disktest
vm_wait g READY 90 || fail "guest did not boot"
QPID=${VM_PID[g]}

"$VMMEMTOP" snapshot --syscall-tracepoints -v --interval 120 --json --pid "$QPID" > "$TMP/snap.json" 2> "$TMP/err" &
SNAP=$!
at_exit "stop_pid $SNAP INT"
wait_guest_ram "$TMP/err" "$QPID" "QEMU RAM blocks" ||
	fail "vmmemtop did not learn the guest RAM of $QPID: $(grep -v probe: "$TMP/err")"
grep "guest RAM of pid $QPID" "$TMP/err" | tail -1

T=$(trace_instance vmmem_nob)
# 16 MiB per CPU: the madvise events are host-wide, and a test beside this one (test_balloon
# in the pool) discards 131072 pages meanwhile; a fresh-clone CI overran 4 MiB once
echo 16384 > "$T/buffer_size_kb"
echo 1 > "$T/options/record-tgid"
for e in sched/sched_process_exit syscalls/sys_enter_madvise syscalls/sys_enter_fallocate; do
	echo 1 > "$T/events/$e/enable"
done
echo 1 > "$T/tracing_on"
threads0=$(ls /proc/$QPID/task | wc -l)
printf GO | dd of="$TMP/disk.img" conv=notrunc status=none
vm_wait g IODONE 60 || fail "the guest did not finish its reads"
threads1=$(ls /proc/$QPID/task | wc -l)
sleep 12		# the pool's workers retire 10 s after their last request
for i in $(seq 1 50); do [ "$(ls /proc/$QPID/task | wc -l)" -le "$threads0" ] && break; sleep 0.2; done
threads2=$(ls /proc/$QPID/task | wc -l)
echo 0 > "$T/tracing_on"
kill -INT $SNAP
wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"

of_tgid() { awk -v t="$QPID" '{ if (!match($0, /\( *[0-9]+\)/)) next; g = substr($0, RSTART + 1, RLENGTH - 2);
			       gsub(/ /, "", g); if (g == t) print }' "$T/trace"; }
exits=$(of_tgid | grep -c sched_process_exit)
discard=0
while read -r call len op; do
	len=$((len)) op=$((op))
	if { [ $call = madvise ] && [[ " 4 8 9 24 " == *" $op "* ]]; } || { [ $call = fallocate ] && (( op & 2 )); }; then
		discard=$((discard + len))
	fi
done < <(of_tgid | sed -n 's/.*sys_madvise(start: [0-9a-fx]*, len_in: \([0-9a-fx]*\), behavior: \([0-9a-fx]*\)).*/madvise \1 \2/p;
			s/.*sys_fallocate(fd: [0-9a-fx]*, mode: \([0-9a-fx]*\), offset: [0-9a-fx]*, len: \([0-9a-fx]*\)).*/fallocate \2 \1/p')
got_i=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.balloon_inflate_bytes')
got_d=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.balloon_deflate_bytes')
got_o=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.vmm_own_discard_bytes')
echo "qemu threads: $threads0 before the reads, $threads1 after, $threads2 at the end; tracefs sched_process_exit of tgid $QPID: $exits"
echo "balloon: inflate oracle=0 vmmem=$got_i; deflate oracle=0 vmmem=$got_d"
echo "own discards: vmmem vmm_own_discard_bytes=$got_o over the snapshot; tracefs discard bytes of the tgid in the trace window=$discard"
[ "$exits" -ge 1 ] || fail "no QEMU thread exited in the window: nothing was proven"
[ "$got_i" = 0 ] && [ "$got_d" = 0 ] || fail "balloon bytes counted for a guest without a balloon"
[ "$discard" -gt 0 ] && [ "$got_o" -ge "$discard" ] || fail "QEMU's own discards (tracefs: $discard in a window inside the snapshot's) were not all counted"
echo "PASS: 0 balloon bytes while $exits QEMU threads exited; $got_o bytes of QEMU's own discards counted apart"
