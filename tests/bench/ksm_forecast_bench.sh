#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# KSM forecast cost: MiB/s and CPU seconds per GiB read, unlimited and at the default rate,
# over two workers of 256 MiB each; baseline in the same run: cksum over the same number of
# bytes from a tmpfs file (a plain read + checksum of the data, no page tables, no sorting).
. "$(dirname "$0")/../host/lib.sh"
need_root
make_tmp
# ZERO SHARED DUP RANDOM UNTOUCHED pages: 64 Ki pages = 256 MiB each
"$TOOLS/ksm_content" 7 8192 24576 8192 24576 0 > "$TMP/a.pid" & at_exit "kill $!"
"$TOOLS/ksm_content" 7 8192 24576 8192 24576 0 > "$TMP/b.pid" & at_exit "kill $!"
for i in $(seq 1 200); do [ -s "$TMP/a.pid" ] && [ -s "$TMP/b.pid" ] && break; sleep 0.1; done
A=$(cat "$TMP/a.pid") B=$(cat "$TMP/b.pid")
run() {
	"$VMMEMTOP" ksm-forecast --pid $A --pid $B --rate "$1" --json --no-save > "$TMP/f.json" 2> "$TMP/err" ||
		fail "ksm-forecast failed: $(cat "$TMP/err")"
	jq -r '.host | "\(.scanned_bytes) \(.seconds) \(.cpu_seconds) \(.memory_bytes)"' "$TMP/f.json"
}
read -r bytes secs cpu mem <<< "$(run 0)"
read -r bytes_d secs_d cpu_d mem_d <<< "$(run 100)"
head -c "$bytes" /dev/urandom > /dev/shm/vmmem-bench.$$ && at_exit "rm -f /dev/shm/vmmem-bench.$$"
t0=$(date +%s.%N)
cksum /dev/shm/vmmem-bench.$$ > /dev/null
t1=$(date +%s.%N)
awk -v b="$bytes" -v s="$secs" -v c="$cpu" -v m="$mem" -v sd="$secs_d" -v cd="$cpu_d" -v ck="$(echo "$t1 - $t0" | bc)" 'BEGIN {
	g = b / 2^30; mib = b / 2^20
	printf "\nKSM forecast over %.0f MiB (2 workers)\n", mib
	printf "  unlimited:        %7.0f MiB/s  %6.2f CPU s/GiB  keys %.1f MiB (%.1f bytes/page)\n", mib / s, c / g, m / 2^20, m / (b / 4096)
	printf "  default 100 MiB/s:%7.0f MiB/s  %6.2f CPU s/GiB  CPU share %.1f %% of one CPU\n", mib / sd, cd / g, 100 * cd / sd
	printf "  baseline cksum of the same bytes from tmpfs: %.0f MiB/s; forecast/cksum %.2fx\n", mib / ck, (mib / s) / (mib / ck)
}'
