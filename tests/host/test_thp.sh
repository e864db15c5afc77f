#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# THP collapses in a VMM's memory (thp_collapses). The workload collapses N 2 MiB ranges with
# MADV_COLLAPSE, the synchronous form of what khugepaged does, through the same
# collapse_huge_page() (mm/khugepaged.c). Oracles: tracefs huge_memory:mm_collapse_huge_page
# with status "succeeded" for the tgid, the workload's own count of successful calls, and
# the huge pages its /proc/PID/smaps_rollup shows afterwards.
# Then AnonHugePages itself: smaps_rollup walks page tables, so vmmemtop reads it for at most
# one VM per sample and each VM at most once a minute; the figure must still come, equal to
# the oracle's, with its age (JSON anon_huge_age_s) growing while it is not re-read.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ -d $TRACEFS/events/huge_memory/mm_collapse_huge_page ] || skip "kernel has no huge_memory:mm_collapse_huge_page"
THP=/sys/kernel/mm/transparent_hugepage/enabled
[ -e $THP ] || skip "kernel has no transparent huge pages"
make_tmp
# "madvise": faults stay 4 KiB and khugepaged (whose collapses tracefs would record under its
# own pid) leaves the workload alone
old_thp=$(sed 's/.*\[\(.*\)\].*/\1/' $THP)
at_exit "echo $old_thp > $THP"
echo madvise > $THP
N=8

"$TOOLS/thp_collapse" $N > "$TMP/w.out" & W=$!; at_exit "kill $W"
T=$(trace_instance vmmem_thp)
echo 1 > "$T/options/record-tgid"
echo 1 > "$T/events/huge_memory/mm_collapse_huge_page/enable"

"$VMMEMTOP" snapshot --interval 4 --json --track $W > "$TMP/snap.json" 2> "$TMP/err" &
SNAP=$!
at_exit "kill $SNAP"
wait_vmmem_loaded || fail "vmmemtop did not load its programs: $(cat "$TMP/err")"
sleep 1.2		# tracked by the first discovery pass
echo 1 > "$T/tracing_on"
kill -USR1 $W
for _ in $(seq 1 50); do grep -q collapsed "$TMP/w.out" && break; sleep 0.1; done
echo 0 > "$T/tracing_on"
wait $SNAP || fail "vmmemtop snapshot failed: $(cat "$TMP/err")"
[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"

oracle=$(awk -v t=$W '/mm_collapse_huge_page:/ && /status=succeeded/ { if (match($0, /\( *[0-9]+\)/)) {
	g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } } END { print n + 0 }' "$T/trace")
own=$(awk '/collapsed/ { print $2 }' "$TMP/w.out")
huge_kb=$(awk '/^AnonHugePages:/ { print $2 }' /proc/$W/smaps_rollup)
got=$(jq_vm "$TMP/snap.json" $W '.counters.thp_collapses')
echo "thp_collapse $W: vmmem thp_collapses=$got, tracefs succeeded=$oracle, its own count=$own, AnonHugePages=${huge_kb} kB"
[ "$oracle" -eq $N ] && [ "$own" -eq $N ] || fail "the workload did not collapse $N ranges (tracefs $oracle, own $own)"
[ "$huge_kb" -ge $((N * 2048)) ] || fail "smaps_rollup shows $huge_kb kB of huge pages, expected $((N * 2048))"
[ "$got" = "$oracle" ] || fail "thp_collapses $got != tracefs $oracle"
echo "PASS: thp_collapses equals tracefs, the workload's count and smaps_rollup"

"$VMMEMTOP" export --json --interval 0.5 --track $W > "$TMP/exp.json" 2> "$TMP/err2" & E=$!
at_exit "kill $E"
# one walk per sample, oldest first: every other VMM on the host may come before ours
lastw() { tail -n 1 "$TMP/exp.json" | jq -r --argjson p $W ".vms[] | select(.pid == \$p) | $1" 2>/dev/null; }
for _ in $(seq 1 240); do
	[ -n "$(lastw .anon_huge_kb)" ] && [ "$(lastw .anon_huge_kb)" != null ] && break
	sleep 0.25
done
kb1=$(lastw .anon_huge_kb) age1=$(lastw .anon_huge_age_s)
sleep 2.5
kb2=$(lastw .anon_huge_kb) age2=$(lastw .anon_huge_age_s)
oracle_kb=$(awk '/^AnonHugePages:/ { print $2 }' /proc/$W/smaps_rollup)
echo "AnonHugePages of $W: smaps_rollup $oracle_kb kB = vmmem $kb1 kB (age ${age1} s), 2.5 s later vmmem $kb2 kB (age ${age2} s)"
[ "$kb1" = "$oracle_kb" ] || fail "anon_huge_kb $kb1 != smaps_rollup $oracle_kb: $(tail -c 300 "$TMP/err2")"
[ "$kb2" = "$oracle_kb" ] || fail "anon_huge_kb went from $kb1 to $kb2"
[ "$age1" -ge 0 ] && [ "$age1" -le 2 ] || fail "a fresh figure is $age1 s old"
[ "$age2" -ge $((age1 + 2)) ] || fail "age $age1 -> $age2 s: not read once a minute, or its age not shown"
# RSS now comes from the kernel's counters (status), every sample: the process is idle, so
# status, smaps_rollup's page-table walk and vmmem must agree
rss=$(lastw .rss_kb) st_rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$W/status)
sm_rss=$(awk '/^Rss:/ { print $2 }' /proc/$W/smaps_rollup)
echo "RSS of $W: status VmRSS $st_rss kB, smaps_rollup Rss $sm_rss kB, vmmem $rss kB"
[ "$rss" = "$st_rss" ] || fail "rss_kb $rss != status VmRSS $st_rss"
[ $((sm_rss - st_rss)) -le 1024 ] && [ $((st_rss - sm_rss)) -le 1024 ] || fail "status and smaps_rollup disagree by more than 1 MiB"
echo "PASS: AnonHugePages equals smaps_rollup, read once and shown with its age; RSS equals status"
