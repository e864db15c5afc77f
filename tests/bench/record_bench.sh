#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Recording costs, measured in one run:
#  1. the writer and reader on a synthetic fault storm (tests/bench/record_bench.c), against the
#     same records written raw: events/s written, bytes/event after compression;
#  2. the BPF ring consumer live: a storm of balloon records (discard_loop: 1M madvise calls of
#     4 KiB as fast as one CPU goes) and TLB shootdown records (tlb_worker), once counted only
#     (snapshot) and once recorded (--events all): events/s consumed, the recorder's CPU per
#     event, the records lost, how much the recording slowed the storm, and the in-kernel cost
#     per event (bpf_stats) of the counting tlb_flush program against its *_rec twin, and of
#     the madvise hook with and without balloon records.
# Prints one "bench record:" line per part.
set -u
TOPDIR=${TOPDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
VMMEMTOP=${VMMEMTOP:-$TOPDIR/build/vmmemtop}
TOOLS=${TOOLS:-$TOPDIR/build/tools}
. "$TOPDIR/tests/host/lib.sh"
need_root
need_tracefs
make_tmp
ROUNDS=${BENCH_STORM_ROUNDS:-1000000}
old_stats=$(cat /proc/sys/kernel/bpf_stats_enabled)
at_exit "echo $old_stats > /proc/sys/kernel/bpf_stats_enabled"
echo 1 > /proc/sys/kernel/bpf_stats_enabled

user_inc=$(for d in "$TOPDIR"/user/*/; do printf -- "-I%s " "$d"; done)
# shellcheck disable=SC2086
cc -O2 -std=gnu11 -D_GNU_SOURCE $user_inc -I"$TOPDIR/kmod/uapi" "$TOPDIR/tests/bench/record_bench.c" \
	"$TOPDIR/user/record/record_writer.c" "$TOPDIR/user/facts/fileio.c" "$TOPDIR/user/source/record_reader.c" "$TOPDIR/user/model/counters.c" \
	"$TOPDIR/user/source/events.c" "$TOPDIR/user/facts/qmp.c" "$TOPDIR/user/facts/guest_ram.c" -o "$TMP/record_bench" -lz -ljansson -lm ||
	fail "cannot build record_bench"
"$TMP/record_bench" 2000000 "$TMP" || fail "record_bench failed"

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# storm MODE: MODE=count (snapshot) or record; sets SECS, and for record EVENTS LOST CPU_NS
storm() {
	local mode=$1 d w r t0 t1 c0 c1
	rm -f "$TMP/d.out"
	"$TOOLS/discard_loop" "$ROUNDS" 4 "$TMP/d.out" & d=$!
	"$TOOLS/tlb_worker" 2 & w=$!
	sleep 0.2
	if [ "$mode" = record ]; then
		"$VMMEMTOP" record --syscall-tracepoints --switch-tracepoints -o "$TMP/storm.rec" --events all --track $d --track $w 2> "$TMP/rec.err" & r=$!
	else
		"$VMMEMTOP" snapshot --syscall-tracepoints --switch-tracepoints --interval 120 --json --track $d --track $w > "$TMP/snap.json" 2> "$TMP/rec.err" & r=$!
	fi
	wait_vmmem_loaded || fail "vmmemtop did not load: $(cat "$TMP/rec.err")"
	sleep 1.2
	c0=$(ticks $r)
	t0=$(date +%s.%N)
	kill -USR1 $d $w
	while [ ! -s "$TMP/d.out" ]; do sleep 0.01; done
	t1=$(date +%s.%N)
	sleep 1.5		# the tlb worker's 2 s are over
	c1=$(ticks $r)
	bpftool prog show -j > "$TMP/progs.$mode.json"
	kill -INT $r; wait $r
	kill $d $w; wait $d $w 2>/dev/null
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	if [ "$mode" = record ]; then
		"$VMMEMTOP" report "$TMP/storm.rec" --json > "$TMP/rep.json" || fail "report of the storm failed"
		EVENTS=$(jq -r .events "$TMP/rep.json")
		LOST=$(jq -r .lost_events "$TMP/rep.json")
		CPU_NS=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$EVENTS" 'BEGIN { printf "%.0f", t / hz * 1e9 / n }')
		BYTES=$(stat -c %s "$TMP/storm.rec")
		BALLOON=$(jq -r --argjson p $d '.vms[] | select(.pid == $p) | .events.balloon' "$TMP/rep.json")
		WINDOW=$(jq -r .window.seconds "$TMP/rep.json")
	fi
}

# ns per run of the programs named by the jq regexp $2 in mode $1's listing
ns() { jq -r --arg n "$2" '[.[] | select(.name != null and (.name | test($n)) and .run_cnt > 0)] |
	if length == 0 then "-" else (map(.run_time_ns) | add) / (map(.run_cnt) | add) | . * 10 | round / 10 end' \
	"$TMP/progs.$1.json"; }
storm count; base=$SECS
storm record; rec=$SECS
printf '\n%-44s %10s\n' "storm: $ROUNDS madvise(4 KiB) + TLB shootdowns" "seconds"
printf '%-44s %10s\n' "counted only (vmmemtop snapshot)" "$base"
printf '%-44s %10s\n' "recorded (vmmemtop record --events all)" "$rec"
echo "recorded $EVENTS events ($BALLOON balloon) in a ${WINDOW} s window, $LOST lost; file $BYTES bytes"
tc=$(ns count '^tlb_flush_btf$') tr=$(ns record '^tlb_flush_rec_b') mc=$(ns count '^(madvise_exit_tp|madvise_fexit)$') mr=$(ns record '^(madvise_exit_tp|madvise_fexit)$')
printf '%-44s %10s %10s\n' "in-kernel ns per event (bpf_stats)" "counted" "recorded"
printf '%-44s %10s %10s\n' "tlb:tlb_flush (tlb_flush_btf / _rec twin)" "$tc" "$tr"
printf '%-44s %10s %10s\n' "madvise exit hook (balloon record)" "$mc" "$mr"
echo "bench record: a shootdown record costs $(awk -v a="$tr" -v b="$tc" 'BEGIN { printf "%.1f", a - b }') ns in the kernel (tlb_flush $tc -> $tr ns), a balloon record $(awk -v a="$mr" -v b="$mc" 'BEGIN { printf "%.1f", a - b }') ns"
echo "bench record: ring consumer $(awk -v n="$BALLOON" -v s="$rec" 'BEGIN { printf "%.0f", n / s }') balloon records/s during the storm, ${CPU_NS} ns of recorder CPU per event, ${LOST} lost; $(awk -v b="$BYTES" -v n="$EVENTS" 'BEGIN { printf "%.2f", b / n }') bytes/event; storm $(awk -v a="$rec" -v b="$base" 'BEGIN { printf "%.2f", a / b }')x as long as counted only"
