#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLB shootdowns sent by a VMM's threads. Oracle: tracefs tlb:tlb_flush with reason 4
# (TLB_REMOTE_SEND_IPI), recorded with the tgid, in a private trace instance.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for remote shootdowns"
[ -d $TRACEFS/events/tlb/tlb_flush ] || skip "kernel has no tlb:tlb_flush tracepoint"
make_tmp

"$TOOLS/tlb_worker" 2 & W=$!; at_exit "kill $W"
"$TOOLS/tlb_worker" 2 idle & I=$!; at_exit "kill $I"
sleep 0.3

T=$(trace_instance vmmem_tlb)
echo 65536 > "$T/buffer_size_kb"
echo 1 > "$T/options/record-tgid"
echo 'reason == 4' > "$T/events/tlb/tlb_flush/filter"
echo 1 > "$T/events/tlb/tlb_flush/enable"

"$VMMEMTOP" snapshot --interval 5 --json --track $W --track $I > "$TMP/snap.json" 2> "$TMP/err" &
SNAP=$!
at_exit "kill $SNAP"
wait_vmmem_loaded || fail "vmmemtop did not load its programs: $(cat "$TMP/err")"
echo 1 > "$T/tracing_on"
kill -USR1 $W $I
sleep 2.6		# the worker works 2 s, then sleeps
echo 0 > "$T/tracing_on"
wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"

# trace lines look like: "tlb_worker-123 (  120) [001] ..." with record-tgid
count_tgid() { awk -v t="$1" '/tlb_flush:/ { if (match($0, /\( *[0-9]+\)/)) { g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } } END { print n + 0 }' "$T/trace"; }
oracle_w=$(count_tgid $W)
oracle_i=$(count_tgid $I)
got_w=$(jq_vm "$TMP/snap.json" $W '.counters.tlb_shootdown_ipis')
got_i=$(jq_vm "$TMP/snap.json" $I '.counters.tlb_shootdown_ipis')
echo "busy worker $W: vmmem tlb_shootdown_ipis=$got_w, tracefs reason 4 for tgid=$oracle_w"
echo "idle worker $I: vmmem tlb_shootdown_ipis=$got_i, tracefs=$oracle_i"
echo "probe runs the kernel skipped during the window: $(jq -r .host.counters.missed_runs "$TMP/snap.json")"
[ "$oracle_w" -gt 100 ] || fail "the workload sent too few shootdowns ($oracle_w) to prove anything"
[ "$got_w" = "$oracle_w" ] && [ "$got_i" = "$oracle_i" ] && [ "$oracle_i" -eq 0 ] ||
	fail "TLB shootdown counts differ from the tracefs oracle"
echo "PASS: tlb_shootdown_ipis equals tracefs for the busy and the idle worker"
