#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLB shootdowns sent by a VMM's threads. Oracle: tracefs tlb:tlb_flush with reason 4
# (TLB_REMOTE_SEND_IPI), recorded with the tgid, in a private trace instance.
# vmmemtop counts them with fentry on native_flush_tlb_multi where the kernel allows it; the
# tlb_flush tracepoint, which every context switch also runs, only with --switch-tracepoints.
# Where fentry is refused (this host), the default mode must leave the counter unavailable
# (null, never 0), attach nothing to sched_switch or tlb_flush (oracle: the kernel's own
# fdinfo of vmmemtop's links) and name the option; with it, the counts must equal tracefs.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for remote shootdowns"
[ -d $TRACEFS/events/tlb/tlb_flush ] || skip "kernel has no tlb:tlb_flush tracepoint"
make_tmp

T=$(trace_instance vmmem_tlb)
echo 65536 > "$T/buffer_size_kb"
echo 1 > "$T/options/record-tgid"
echo 'reason == 4' > "$T/events/tlb/tlb_flush/filter"
echo 1 > "$T/events/tlb/tlb_flush/enable"

# run_case NAME [OPTS]: a busy and an idle worker under `vmmemtop snapshot -v OPTS`; the
# tracepoints vmmemtop's links hold go to $TMP/NAME.tps
run_case() {
	local name=$1 f; shift
	echo > "$T/trace"
	# a worker works once, 2 s from its signal: new ones for each case
	"$TOOLS/tlb_worker" 2 & W=$!; at_exit "kill $W"
	"$TOOLS/tlb_worker" 2 idle & I=$!; at_exit "kill $I"
	sleep 0.3
	"$VMMEMTOP" snapshot -v --interval 5 --json --track $W --track $I "$@" > "$TMP/$name.json" 2> "$TMP/$name.err" &
	SNAP=$!
	# its own line once every program is attached (the link count can stall on a loaded host)
	for f in $(seq 1 300); do grep -q "vmmemtop: counting" "$TMP/$name.err" && break; sleep 0.1; done
	grep -q "vmmemtop: counting" "$TMP/$name.err" || fail "vmmemtop did not load its programs: $(cat "$TMP/$name.err")"
	for f in /proc/$SNAP/fdinfo/*; do awk '/^tp_name:/ { print $2 }' "$f" 2>/dev/null; done > "$TMP/$name.tps"
	echo 1 > "$T/tracing_on"
	kill -USR1 $W $I
	sleep 2.6		# the worker works 2 s, then sleeps
	echo 0 > "$T/tracing_on"
	wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/$name.err")"
	[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"
}

# trace lines look like: "tlb_worker-123 (  120) [001] ..." with record-tgid
count_tgid() { awk -v t="$1" '/tlb_flush:/ { if (match($0, /\( *[0-9]+\)/)) { g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } } END { print n + 0 }' "$T/trace"; }
check_counts() {
	local oracle_w oracle_i got_w got_i
	oracle_w=$(count_tgid $W) oracle_i=$(count_tgid $I)
	got_w=$(jq_vm "$TMP/$1.json" $W '.counters.tlb_shootdown_ipis')
	got_i=$(jq_vm "$TMP/$1.json" $I '.counters.tlb_shootdown_ipis')
	echo "$1: busy worker $W: vmmem tlb_shootdown_ipis=$got_w, tracefs reason 4 for tgid=$oracle_w"
	echo "$1: idle worker $I: vmmem tlb_shootdown_ipis=$got_i, tracefs=$oracle_i"
	echo "probe runs the kernel skipped during the window: $(jq -r .host.counters.missed_runs "$TMP/$1.json")"
	[ "$oracle_w" -gt 100 ] || fail "the workload sent too few shootdowns ($oracle_w) to prove anything"
	[ "$got_w" = "$oracle_w" ] && [ "$got_i" = "$oracle_i" ] && [ "$oracle_i" -eq 0 ] ||
		fail "TLB shootdown counts differ from the tracefs oracle"
}

run_case default
if grep -q "probe: fentry native_flush_tlb_multi() .*using it" "$TMP/default.err"; then
	check_counts default
	echo "PASS: tlb_shootdown_ipis (fentry native_flush_tlb_multi, default mode) equals tracefs for the busy and the idle worker"
	exit 0
fi
got=$(jq_vm "$TMP/default.json" $W '.counters.tlb_shootdown_ipis')
n=$(grep -cE "^(sched_switch|tlb_flush)$" "$TMP/default.tps")
echo "default mode, fentry refused here: tlb_shootdown_ipis=$got (expected null), $n links on sched_switch/tlb_flush (expected 0)"
[ "$got" = null ] || fail "tlb_shootdown_ipis is '$got' in the default mode, not null (unavailable)"
[ "$n" = 0 ] || fail "the default mode attached to the context-switch tracepoints: $(sort "$TMP/default.tps" | uniq -c | tr '\n' ' ')"
grep -q "notice: unavailable: .*tlb_shootdown_ipis.*--switch-tracepoints" "$TMP/default.err" ||
	fail "the notice does not name --switch-tracepoints: $(grep notice "$TMP/default.err")"
run_case opted --switch-tracepoints
grep -qx tlb_flush "$TMP/opted.tps" || fail "--switch-tracepoints attached nothing to tlb_flush: $(sort "$TMP/opted.tps" | uniq -c | tr "\n" " ")"
check_counts opted
echo "PASS: tlb_shootdown_ipis unavailable (null) by default without fentry, no context-switch hook; with --switch-tracepoints it equals tracefs for the busy and the idle worker"
