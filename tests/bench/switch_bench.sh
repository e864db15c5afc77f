#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Context-switch cost of vmmemtop's default-mode hooks, and which program costs what.
#
# A pipe round trip between two processes is two context switches between two address spaces:
# each runs sched_switch (vcpu_switch_btf) and switch_mm's tlb:tlb_flush (tlb_flush_btf,
# reason TLB_FLUSH_ON_TASK_SWITCH). tests/tools/getppid_loop times round trips one by one
# (median of 2000 per block) in two placements: both processes on CPU 1 ("same CPU"), and the
# child on CPU 0 ("cross CPU": each round trip is two remote wake-ups, and each CPU switches
# to its idle task and back). vmmemtop loads its programs and exits, once in its default mode
# and once with --switch-tracepoints; tests/tools/bpf_hold keeps them and attaches a subset
# per block:
#   A  none;  D  the default mode's hooks;  H  all hooks with --switch-tracepoints;
#   S  only its sched_switch programs;  T  only its tlb_flush programs (both from H);
#   E  empty tp_btf programs on sched_switch and tlb_flush
#      (tests/bench/empty_switch.bpf.c: the floor any program on these hooks costs).
# Each of D, H, S, T, E is compared with A in adjacent pairs of blocks, the order alternating;
# the figure is the median of the pairs' ratios with its 95 % interval (as the syscall bench).
# Then kernel.bpf_stats_enabled beside the same-CPU loop: each program's runs/s and ns/run,
# vmmemtop's and the empty ones (attached apart: two programs on one tracepoint lose its
# static_call fast path). Holds /tmp/vmmem-host.lock. SWITCH_BENCH_PAIRS (default 30) sets
# the run's length (2-4 min here).
set -u
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/ab_blocks.sh"
ab_begin
PAIRS=${SWITCH_BENCH_PAIRS:-30}
OUT=$TMP/blocks

clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$TOPDIR/build" -c "$TOPDIR/tests/bench/empty_switch.bpf.c" \
	-o "$TMP/empty.bpf.o" || fail "cannot build the empty baseline programs"
cc -O2 -Wall -Wextra "$TOPDIR/tests/bench/empty_loader.c" -o "$TMP/empty_loader" -lbpf || fail "cannot build the loader"

# vmmemtop's programs, taken over by bpf_hold (tests/bench/bpf_hooks.sh reads its links).
# Twice: its default mode (set "dflt") and with --switch-tracepoints (set "all"), which
# attaches sched_switch and tlb:tlb_flush where fentry is refused
. "$(dirname "$0")/bpf_hooks.sh"
hooks=() names=() tps=() sets=() held=
for set in dflt all; do
	opt=; [ $set = all ] && opt=--switch-tracepoints
	# shellcheck disable=SC2086
	taskset -c 0 "$VMMEMTOP" -b $opt > /dev/null 2> "$TMP/err" & P=$!
	wait_vmmem_loaded $P || fail "vmmemtop did not load: $(cat "$TMP/err")"
	sleep 1		# (the link count can stall while it attaches on a loaded host)
	bpftool link show -j > "$TMP/links.json"
	for h in $(bpf_hooks $P "$TRACEFS") ; do
		prog=${h#*:} prog=${prog%%:*}
		hooks+=("$h") sets+=($set)
		names+=("$(bpftool prog show id "$prog" -j | jq -r .name)")
		case $h in
		tp:*)	tps+=("${h##*/}") ;;
		*)	tps+=("$(jq -r --argjson p "$prog" '[.[] | select(.prog_id == $p) | .tp_name // empty][0] // "-"' "$TMP/links.json")") ;;
		esac
	done
	held=$held" $P"
done
"$TMP/empty_loader" --ids "$TMP/empty.bpf.o" > "$TMP/empty.out" 2>&1 & E=$!
at_exit "kill $E"
for _ in $(seq 1 100); do grep -q ready "$TMP/empty.out" && break; sleep 0.1; done
read -r _ empties < "$TMP/empty.out" || fail "empty_loader: $(cat "$TMP/empty.out")"
for e in $empties; do hooks+=("raw:${e#*:}") names+=("${e%%:*}") tps+=(-) sets+=(empty); done
mkfifo "$TMP/hold.in" "$TMP/hold.out"
"$TOOLS/bpf_hold" "${hooks[@]}" < "$TMP/hold.in" > "$TMP/hold.out" 2> "$TMP/hold.err" & HOLD=$!
exec 7> "$TMP/hold.in" 8< "$TMP/hold.out"
at_exit "exec 7>&-"
# shellcheck disable=SC2086
kill -INT $held; wait $held 2>/dev/null

# the subsets, as bpf_hold's hook numbers (from 1)
dflt='' all='' sched='' tlb='' empty=''
for i in "${!names[@]}"; do
	n=$((i + 1))
	case ${sets[$i]} in
	empty) empty="$empty $n"; continue ;;
	dflt) dflt="$dflt $n"; continue ;;
	esac
	all="$all $n"
	case ${tps[$i]} in
	sched_switch) sched="$sched $n" ;;
	tlb_flush) tlb="$tlb $n" ;;
	esac
done
list() { for n in $1; do printf ' %s' "${names[$((n - 1))]}"; done; }
echo "default mode, $(echo $dflt | wc -w) hooks:$(list "$dflt")"
echo "with --switch-tracepoints, $(echo $all | wc -w) hooks; on sched_switch:$(list "$sched"), on tlb_flush:$(list "$tlb")"
[ -n "$sched" ] || echo "note: none of vmmemtop's programs is on sched_switch (S = A)"
[ -n "$tlb" ] || echo "note: none of vmmemtop's programs is on tlb_flush (T = A)"
# hold SUBSET: exactly those hooks attached ("" = none)
hold() { if [ -n "$1" ]; then ab_hold "attach $1" "$(echo $1 | wc -w)"; else ab_hold detach 0; fi; }
# the timing loop on CPU 1; block and loop_stop as ab_blocks.sh's
pin_loop="taskset -c 1"
block() { ab_block "$@"; }
loop_start() { ab_loop_start "$@"; }
loop_stop() { ab_loop_stop; }

for placement in same cross; do
	if [ $placement = same ]; then loop_start switch 1 2000; else loop_start switch@0 1 1000; fi
	phase=$placement
	for pair in $(seq 1 "$PAIRS"); do
		for st in D H S T E; do
			case $st in D) set -- "$dflt" ;; H) set -- "$all" ;; S) set -- "$sched" ;; T) set -- "$tlb" ;; E) set -- "$empty" ;; esac
			if [ $((pair % 2)) = 1 ]; then hold ""; block A$st; hold "$1"; block $st
			else hold "$1"; block $st; hold ""; block A$st; fi
		done
	done
	loop_stop
done

# which program costs what: bpf_stats beside the same-CPU loop, vmmemtop's then the empty ones
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
at_exit "echo $old_stats > /proc/sys/kernel/bpf_stats_enabled"
echo 1 > /proc/sys/kernel/bpf_stats_enabled
loop_start switch 1 2000
phase=stats
for set in dflt all empty; do
	hold "${!set}"
	bpftool prog show -j > "$TMP/$set.0.json"; t0=$(date +%s%N)
	for _ in $(seq 1 15); do block X; done
	bpftool prog show -j > "$TMP/$set.1.json"; t1=$(date +%s%N)
	echo $((t1 - t0)) > "$TMP/$set.span"
done
echo "$old_stats" > /proc/sys/kernel/bpf_stats_enabled
hold ""
loop_stop
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

ids=$(for h in "${hooks[@]}"; do h=${h#*:}; echo "${h%%:*}"; done | tr '\n' ' ')
python3 "$(dirname "$0")/switch_stats.py" "$OUT" "$TMP" "$ids"
