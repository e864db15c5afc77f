#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Balloon bytes are guest RAM only. A minimal VMM (tests/tools/mini_vmm: KVM_CREATE_VM and
# KVM_SET_USER_MEMORY_REGION of 64 MiB) gives back 8 MiB of its guest RAM, asks 4 MiB back,
# retires a thread (glibc madvises its stack away) and trims its heap (malloc_trim), once
# with private anonymous guest RAM (MADV_DONTNEED) and once with memfd guest RAM (PUNCH_HOLE
# then MADV_DONTNEED, as QEMU 7.2's ram_block_discard_range() does: counted once).
# Oracles: what the VMM did to its guest RAM (its own record), and tracefs
# syscalls:sys_enter_madvise/sys_enter_fallocate of its tgid: every discard byte
# (MADV_DONTNEED/FREE/REMOVE/DONTNEED_LOCKED lengths, PUNCH_HOLE lengths) minus the bytes of
# its guest-RAM discard calls = vmm_own_discard_bytes.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ -c /dev/kvm ] || skip "no /dev/kvm (KVM_CREATE_VM is needed for a real VMM)"
[ -d $TRACEFS/events/syscalls/sys_enter_madvise ] || skip "kernel has no syscall tracepoints (the oracle)"
make_tmp


T=$(trace_instance vmmem_guest_ram)
echo 8192 > "$T/buffer_size_kb"
echo 1 > "$T/options/record-tgid"
echo 1 > "$T/events/syscalls/sys_enter_madvise/enable"
echo 1 > "$T/events/syscalls/sys_enter_fallocate/enable"

ok=1
for kind in anon memfd; do
	rm -f "$TMP/out" "$TMP/log"
	"$TOOLS/mini_vmm" 64 $([ $kind = memfd ] && echo memfd) "$TMP/out" > "$TMP/log" 2>&1 & MV=$!
	at_exit "kill $MV"
	for i in $(seq 50); do grep -q READY "$TMP/log" && break; sleep 0.1; done
	grep -q READY "$TMP/log" || fail "mini_vmm did not start: $(cat "$TMP/log")"
	"$VMMEMTOP" snapshot --syscall-tracepoints -v --interval 5 --json > "$TMP/snap.json" 2> "$TMP/err" & SNAP=$!
	at_exit "kill $SNAP"
	for i in $(seq 100); do grep -q "guest RAM of pid $MV: KVM memslots" "$TMP/err" && break; sleep 0.1; done
	grep "guest RAM of pid $MV" "$TMP/err" || fail "vmmemtop did not learn the guest RAM of $MV: $(grep -v probe: "$TMP/err")"
	echo > "$T/trace"
	echo 1 > "$T/tracing_on"
	kill -USR1 $MV
	for i in $(seq 50); do grep -q DONE "$TMP/log" && break; sleep 0.1; done
	grep -q DONE "$TMP/log" || fail "mini_vmm did not finish: $(cat "$TMP/log")"
	echo 0 > "$T/tracing_on"
	wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
	[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"
	# "mini_vmm-123 (  123) [001] ..... sys_madvise(start: 7f.., len_in: 800000, behavior: 4)"
	# the tgid's calls as "madvise LEN BEHAVIOR" / "fallocate LEN MODE" (tracefs prints 0x-hex,
	# or decimal below 10: kernel/trace/trace_syscalls.c print_syscall_enter)
	total=0 ncalls=0
	while read -r call len op; do
		len=$((len)) op=$((op))
		if { [ $call = madvise ] && [[ " 4 8 9 24 " == *" $op "* ]]; } ||
		   { [ $call = fallocate ] && (( op & 2 )); }; then
			total=$((total + len)) ncalls=$((ncalls + 1))
		fi
	done < <(awk -v t="$MV" '{ if (!match($0, /\( *[0-9]+\)/)) next; g = substr($0, RSTART + 1, RLENGTH - 2);
				   gsub(/ /, "", g); if (g == t) print }' "$T/trace" |
		 sed -n 's/.*sys_madvise(start: [0-9a-fx]*, len_in: \([0-9a-fx]*\), behavior: \([0-9a-fx]*\)).*/madvise \1 \2/p;
			 s/.*sys_fallocate(fd: [0-9a-fx]*, mode: \([0-9a-fx]*\), offset: [0-9a-fx]*, len: \([0-9a-fx]*\)).*/fallocate \2 \1/p')
	eval "$(tr ' ' '\n' < "$TMP/out" | sed 's/^/o_/')"
	own_oracle=$((total - o_calls))
	got_i=$(jq_vm "$TMP/snap.json" $MV '.counters.balloon_inflate_bytes')
	got_d=$(jq_vm "$TMP/snap.json" $MV '.counters.balloon_deflate_bytes')
	got_o=$(jq_vm "$TMP/snap.json" $MV '.counters.vmm_own_discard_bytes')
	echo "$kind guest RAM: inflate oracle=$o_inflate vmmem=$got_i; deflate oracle=$o_deflate vmmem=$got_d"
	echo "$kind own: oracle (tracefs: $ncalls discard calls, $total bytes, minus $o_calls of guest RAM)=$own_oracle vmmem=$got_o"
	[ "$got_i" = "$o_inflate" ] && [ "$got_d" = "$o_deflate" ] || { echo "FAIL: $kind balloon bytes differ"; ok=0; }
	[ "$got_o" = "$own_oracle" ] || { echo "FAIL: $kind vmm_own_discard_bytes differs"; ok=0; }
	[ "$own_oracle" -gt 0 ] || { echo "FAIL: $kind: the VMM discarded nothing of its own (thread, malloc_trim)"; ok=0; }
	kill $MV; wait $MV 2>/dev/null
done
[ $ok = 1 ] || fail "balloon split differs from its oracles"
echo "PASS: balloon bytes are exactly the guest RAM discards; the VMM's own discards are counted apart"
