#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Balloon, end to end, with a real QEMU guest and its virtio-balloon driver.
# Oracle: the guest's own /proc/vmstat balloon_inflate / balloon_deflate (pages of 4 KiB),
# printed by the guest on its console; QMP query-balloon for the target actually reached.
#
# What QEMU does (hw/virtio/virtio-balloon.c, QEMU 7.2): the guest puts page frame numbers
# on the inflate queue; virtio_balloon_handle_output() -> balloon_inflate_page() ->
# ram_block_discard_range() (softmmu/physmem.c), which for private anonymous RAM (the
# default -m) calls madvise(MADV_DONTNEED), for shared file or memfd RAM fallocate(
# FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), and for shared anonymous RAM madvise(
# MADV_REMOVE): vmmem counts all three as balloon_inflate_bytes. Deflate:
# balloon_deflate_page() -> qemu_madvise(QEMU_MADV_WILLNEED), counted as
# balloon_deflate_bytes. Free page reporting (virtio_balloon_handle_report) also discards
# through ram_block_discard_range(), so it counts as inflate: it is memory given back.
# During postcopy migration discards are skipped by QEMU, so nothing is counted.
# Only guest RAM counts (see README "Balloon: guest RAM only"): this QEMU runs without KVM, so
# vmmemtop learns its guest RAM from QMP `info ramblock` matched to its MADV_DONTFORK mappings.
# With BALLOON_MEMFD=1 (tests/vm/test_balloon_memfd.sh) guest RAM is a memfd backend
# (-object memory-backend-memfd, shared): QEMU discards with fallocate(PUNCH_HOLE) then
# madvise(MADV_DONTNEED), and the inflate must still equal the guest's count, once.
# A `vmmemtop record` runs beside the snapshot: the balloon records it streams must add up to
# the snapshot's balloon_*_bytes exactly (or differ by exactly the bytes of records it lost).
set -u
. "$(dirname "$0")/lib/rig.sh"
. "$(dirname "$0")/lib/balloon.sh"

balloon_initramfs
MEMARGS=() NAME=balloontest
if [ -n "${BALLOON_MEMFD:-}" ]; then
	MEMARGS=(-object memory-backend-memfd,id=m,size=512M -machine memory-backend=m) NAME=balloonmemfd
fi
vm_start g "$INITRD" 512 "${MEMARGS[@]}" -device virtio-balloon-pci,id=bal0 -name guest=$NAME
vm_wait g READY 90 || fail "guest did not boot"
vm_wait g VMSTAT 30 || fail "guest prints no VMSTAT line"
QPID=${VM_PID[g]}


"$VMMEMTOP" snapshot -v --syscall-tracepoints --interval 60 --json --pid "$QPID" > "$TMP/snap.json" 2> "$TMP/err" &
SNAP=$!
at_exit "stop_pid $SNAP INT"
wait_vmmem_loaded || fail "vmmemtop did not load: $(cat "$TMP/err")"
"$VMMEMTOP" record -v --syscall-tracepoints -o "$TMP/balloon.rec" 2> "$TMP/rec.err" &	# default events: balloon among them
REC=$!
at_exit "stop_pid $REC INT"
for i in $(seq 1 100); do grep -q "recording to" "$TMP/rec.err" && break; sleep 0.1; done
grep -q "recording to" "$TMP/rec.err" || fail "vmmemtop record did not start: $(cat "$TMP/rec.err")"
for f in err rec.err; do
	wait_guest_ram "$TMP/$f" "$QPID" "QEMU RAM blocks" ||
		fail "vmmemtop did not learn the guest RAM of $QPID: $(grep "guest RAM" "$TMP/$f")"
	grep "guest RAM of pid $QPID" "$TMP/$f" | tail -1
done
sleep 0.6	# a fresh VMSTAT line after guest RAM was known
base=$(vmstat)
i0=$(echo "$base" | field balloon_inflate) d0=$(echo "$base" | field balloon_deflate)
start=$(date +%s.%N)

r=$(qmp g '{"execute":"balloon","arguments":{"value":268435456}}')
echo "$r" | grep -q '"return"' || fail "QMP balloon: $r"
wait_stable balloon_inflate $((i0 + 65536)) || echo "note: inflate stopped at $(vmstat)"
q=$(qmp g '{"execute":"query-balloon"}')
actual=$(echo "$q" | jq -r '.return.actual')
echo "QMP query-balloon actual after inflate: $actual (target 268435456)"
[ "$actual" = 268435456 ] || fail "the guest did not reach the balloon target: $q"

r=$(qmp g '{"execute":"balloon","arguments":{"value":536870912}}')
echo "$r" | grep -q '"return"' || fail "QMP balloon: $r"
wait_stable balloon_deflate $((d0 + 65536)) || echo "note: deflate stopped at $(vmstat)"
sleep 0.6
end=$(vmstat)
i1=$(echo "$end" | field balloon_inflate) d1=$(echo "$end" | field balloon_deflate)
echo "balloon cycle took $(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { printf \"%.1f\", b - a }") s under TCG"
kill -INT $SNAP		# end the interval now: the snapshot still prints
wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
kill -INT $REC
wait $REC || fail "vmmemtop record failed: $(cat "$TMP/rec.err")"
grep recorded "$TMP/rec.err"

inflate_oracle=$(( (i1 - i0) * 4096 )) deflate_oracle=$(( (d1 - d0) * 4096 ))
got_i=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.balloon_inflate_bytes')
got_d=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.balloon_deflate_bytes')
echo "inflate: vmmem balloon_inflate_bytes=$got_i, guest vmstat balloon_inflate delta x 4096=$inflate_oracle"
echo "deflate: vmmem balloon_deflate_bytes=$got_d, guest vmstat balloon_deflate delta x 4096=$deflate_oracle"
echo "QEMU's own discards meanwhile: vmm_own_discard_bytes=$(jq_vm "$TMP/snap.json" "$QPID" '.counters.vmm_own_discard_bytes')"
echo "probe runs the kernel skipped during the window: $(jq -r .host.counters.missed_runs "$TMP/snap.json")"
[ -n "$got_i" ] && [ "$got_i" != null ] || fail "the qemu process $QPID is not in the snapshot"
[ "$inflate_oracle" -ge $((65536 * 4096)) ] || fail "the guest inflated only $((i1 - i0)) pages"
[ "$got_i" = "$inflate_oracle" ] || fail "inflate bytes differ from the guest's count"
[ "$got_d" = "$deflate_oracle" ] || fail "deflate bytes differ from the guest's count"

# the recording: balloon records (+ lost bytes) = the snapshot's counters, and = its own
"$VMMEMTOP" report "$TMP/balloon.rec" > "$TMP/report.txt" 2>&1 || fail "report failed: $(tail -3 "$TMP/report.txt")"
"$VMMEMTOP" report "$TMP/balloon.rec" --json > "$TMP/report.json" || fail "report --json failed"
rv() { jq -r --argjson p "$QPID" ".vms[] | select(.pid == \$p) | $1" "$TMP/report.json"; }
for dir in inflate deflate; do
	rec=$(rv ".balloon_bytes.$dir") lost=$(rv ".lost.balloon_${dir}_bytes") inc=$(rv ".counters.balloon_${dir}_bytes")
	snap=$(jq_vm "$TMP/snap.json" "$QPID" ".counters.balloon_${dir}_bytes")
	echo "$dir: recorded balloon bytes=$rec + lost=$lost; recording's counter=$inc; snapshot=$snap"
	[ -n "$rec" ] && [ "$rec" != null ] || fail "the qemu process $QPID is not in the recording"
	[ $((rec + lost)) = "$snap" ] || fail "recorded $dir bytes differ from the snapshot's counter"
	[ $((rec + lost)) = "$inc" ] || fail "recorded $dir bytes differ from the recording's own counter"
done
echo "balloon records: $(rv .events.balloon), lost: $(jq -r .lost_events "$TMP/report.json"), complete: $(jq -r .complete "$TMP/report.json")"
[ "$(jq -r .complete "$TMP/report.json")" = true ] || fail "the recording is not complete"
name=$(jq_vm "$TMP/snap.json" "$QPID" '.name')
[ "$name" = $NAME ] || fail "VM name '$name', expected $NAME"
echo "PASS: host-side balloon bytes equal the guest's own counts exactly; recorded balloon bytes equal the counters"
