#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# KSM attribution, real ksmd on the host kernel.
# Oracles: /proc/PID/ksm_stat ksm_merging_pages (per process), and a tracefs count of
# ksm:ksm_stop_scan (host-wide scan batches) over the same window.
# Two workers with 1000 identical (across processes) + 200 unique pages, one with 1000 unique.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ -d /sys/kernel/mm/ksm ] || skip "kernel has no KSM (/sys/kernel/mm/ksm missing)"
[ -d $TRACEFS/events/ksm ] || skip "kernel has no ksm tracepoints (added in 6.4)"
make_tmp

K=/sys/kernel/mm/ksm
for f in run pages_to_scan sleep_millisecs; do
	at_exit "echo $(cat $K/$f) > $K/$f"
done
echo 0 > $K/run

"$TOOLS/ksm_worker" 1000 200 > "$TMP/a.pid" & at_exit "kill $!"
"$TOOLS/ksm_worker" 1000 200 > "$TMP/b.pid" & at_exit "kill $!"
"$TOOLS/ksm_worker" 0 1000 > "$TMP/u.pid" & at_exit "kill $!"
sleep 0.5
A=$(cat "$TMP/a.pid") B=$(cat "$TMP/b.pid") U=$(cat "$TMP/u.pid")
[ -n "$A" ] && [ -n "$B" ] && [ -n "$U" ] || fail "workers did not start"
merging() { awk '/^ksm_merging_pages/ { print $2 }' /proc/$1/ksm_stat; }
declare -A base
for p in $A $B $U; do base[$p]=$(merging $p); done

"$VMMEMTOP" snapshot -v --interval 12 --json --track $A --track $B --track $U > "$TMP/snap.json" 2> "$TMP/err" &
SNAP=$!
at_exit "kill $SNAP"
# its own "counting" line: another vmmemtop's programs already loaded must not start the work early
for i in $(seq 1 300); do grep -q "^vmmemtop: counting" "$TMP/err" && break; sleep 0.1; done
grep -q "^vmmemtop: counting" "$TMP/err" || fail "vmmemtop did not start counting: $(grep -v '^vmmemtop: probe' "$TMP/err")"

T=$(trace_instance vmmem_ksm)
echo 'ksm:ksm_stop_scan' > "$T/set_event"
echo 1 > "$T/tracing_on"

echo 2000 > $K/pages_to_scan
echo 10 > $K/sleep_millisecs
echo 1 > $K/run
for i in $(seq 1 80); do
	[ "$(merging $A)" -ge $((base[$A] + 1000)) ] && [ "$(merging $B)" -ge $((base[$B] + 1000)) ] && break
	sleep 0.1
done
echo 0 > $K/run		# ksmd finishes its batch under the mutex, then scans no more
sleep 0.3
echo 0 > "$T/tracing_on"
oracle_scans=$(grep -c 'ksm_stop_scan:' "$T/trace")
[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"
declare -A delta
for p in $A $B $U; do delta[$p]=$(( $(merging $p) - base[$p] )); done

wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
ok=1
for p in $A $B $U; do
	got=$(jq_vm "$TMP/snap.json" $p '.counters.ksm_merged_pages')
	echo "pid $p: vmmem ksm_merged_pages=$got, /proc/$p/ksm_stat ksm_merging_pages delta=${delta[$p]}"
	[ "$got" = "${delta[$p]}" ] || ok=0
done
[ "${delta[$A]}" -eq 1000 ] || { echo "oracle: worker A merged ${delta[$A]} pages, expected 1000"; ok=0; }
[ "${delta[$U]}" -eq 0 ] || { echo "oracle: unique-only worker merged ${delta[$U]}"; ok=0; }
scans=$(jq -r '.host.counters.ksm_scans' "$TMP/snap.json")
echo "host: vmmem ksm scans=$scans, tracefs ksm:ksm_stop_scan=$oracle_scans"
[ "$scans" = "$oracle_scans" ] && [ "$oracle_scans" -gt 0 ] || ok=0
scan_ns=$(jq -r '.host.histograms.ksm_scan_ns.sum_ns' "$TMP/snap.json")	# the scans' wall time
hist_count=$(jq -r '.host.histograms.ksm_scan_ns.count' "$TMP/snap.json")
echo "host: ksm scan_ns=$scan_ns, ksm_scan_ns histogram count=$hist_count"
echo "probe runs the kernel skipped during the window: $(jq -r .host.counters.missed_runs "$TMP/snap.json")"
# a full scan that was paused by run=0 before this window has no start here: no duration
[ "$hist_count" -le "$scans" ] && [ "$hist_count" -ge $((scans - 1)) ] && [ "$scan_ns" -gt 0 ] || ok=0
[ $ok = 1 ] || fail "KSM counts differ from the oracle"
echo "PASS: per-VM KSM merges and ksmd scans equal their oracles"
