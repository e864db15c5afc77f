#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# make bench: vmmem's costs measured in one run, printed as ratios against baselines measured
# in the same run (no absolute goals are asserted: machines differ).
#  1. per-event in-kernel cost (bpf_stats run_time_ns / run_cnt) of vmmem's hot programs,
#     beside an empty program on the same hook and bpftrace's `@[pid] = count()`, all
#     attached at once to the same workload;
#  2. the exporter's scrape latency at 1000 VMs (tests/bench/export_bench.sh);
#  3. benchmarks other parts add as tests/bench/*_bench.sh.
set -u
cd "$(dirname "$0")/../.."
TOPDIR=$PWD VMMEMTOP=$PWD/build/vmmemtop TOOLS=$PWD/build/tools
export TOPDIR VMMEMTOP TOOLS
. tests/host/lib.sh
need_root
need_tracefs
make_tmp

clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Ibuild -c tests/bench/empty.bpf.c -o "$TMP/empty.bpf.o" ||
	fail "cannot build the empty baseline program"
cc -O2 -Wall -Wextra tests/bench/empty_loader.c -o "$TMP/empty_loader" -lbpf || fail "cannot build the loader"

old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
at_exit "echo $old_stats > /proc/sys/kernel/bpf_stats_enabled"
echo 1 > /proc/sys/kernel/bpf_stats_enabled

"$TOOLS/tlb_worker" 4 & W=$!; at_exit "kill $W"
"$TOOLS/discard_loop" 200000 4 "$TMP/discarded" & D=$!; at_exit "kill $D"
"$VMMEMTOP" snapshot --syscall-tracepoints --switch-tracepoints --interval 12 --json --track $W --track $D > "$TMP/snap.json" 2> "$TMP/err" &
S=$!; at_exit "kill $S"
wait_vmmem_loaded || fail "vmmemtop did not load: $(cat "$TMP/err")"
"$TMP/empty_loader" "$TMP/empty.bpf.o" > "$TMP/empty.out" & E=$!; at_exit "kill $E"
BT=
if command -v bpftrace >/dev/null; then
	bpftrace -e 'tracepoint:tlb:tlb_flush { @t[pid] = count(); } tracepoint:syscalls:sys_exit_madvise { @m[pid] = count(); } tracepoint:sched:sched_switch { @s[pid] = count(); }' \
		> "$TMP/bt.out" 2>&1 & BT=$!; at_exit "kill $BT"
fi
for i in $(seq 1 100); do grep -q ready "$TMP/empty.out" 2>/dev/null && break; sleep 0.1; done
sleep 3		# bpftrace compiles for a while
kill -USR1 $W $D
sleep 4.5

bpftool prog show -j > "$TMP/progs.json"
kill $S 2>/dev/null
# ns per event of the program named $1 (a jq regexp on name)
ns() { jq -r --arg n "$1" '[.[] | select(.name != null and (.name | test($n)) and .run_cnt > 0)] |
	if length == 0 then "-" else (map(.run_time_ns) | add) / (map(.run_cnt) | add) | . * 10 | round / 10 end' "$TMP/progs.json"; }
cnt() { jq -r --arg n "$1" '[.[] | select(.name != null and (.name | test($n)))] | map(.run_cnt) | add // 0' "$TMP/progs.json"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

printf '\n%-34s %10s %12s %10s %12s\n' "hook (workload)" "vmmem ns" "empty ns" "bpftrace ns" "events"
for row in "tlb:tlb_flush (tlb_worker, tracked)|^tlb_flush_btf\$|^empty_tlb_btf\$|tlb_flush" \
	   "sys_exit_madvise (discard_loop)|^madvise_exit_tp\$|^empty_madvise_tp\$|sys_exit_madv" \
	   "sched_switch (host-wide, no vCPU)|^vcpu_switch_btf\$|^empty_sched_btf\$|sched_switch"; do
	IFS='|' read -r label mine empty bt <<< "$row"
	m=$(ns "$mine") e=$(ns "$empty") b=$(ns "^(tracepoint_|tp_)?.*${bt}.*" )
	# bpftrace names its programs after the probe; exclude ours and the baseline
	b=$(jq -r --arg n "$bt" '[.[] | select(.name != null and (.name | test($n)) and (.name | test("^(tlb_flush_btf|tlb_flush_tp|madvise_exit_tp|vcpu_switch_btf|empty_)") | not) and .run_cnt > 0)] |
		if length == 0 then "-" else (map(.run_time_ns) | add) / (map(.run_cnt) | add) | . * 10 | round / 10 end' "$TMP/progs.json")
	printf '%-34s %10s %12s %10s %12s\n' "$label" "$m" "$e" "$b" "$(cnt "$mine")"
	printf '%-34s %10s %12s %10s\n' "  ratio vmmem/empty, vmmem/bpftrace" "" "$(ratio "$m" "$e")x" "$(ratio "$m" "$b")x"
done
echo "(bpf_stats adds ~20 ns of clock reads to every figure; goals: <= 1.3x empty, <= 0.4x bpftrace)"

for b in ${BENCH_ONLY_BPF:+/nonexistent}tests/bench/*_bench.sh; do
	[ -e "$b" ] || continue
	echo; echo "== $b"; bash "$b"
done
