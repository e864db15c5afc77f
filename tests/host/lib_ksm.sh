# SPDX-License-Identifier: MIT
# KSM helpers for the forecast tests (sourced after lib.sh). The caller holds
# /tmp/vmmem-host.lock; ksm_save_settings restores the settings at exit.
K=/sys/kernel/mm/ksm

ksm_save_settings() {
	local f
	for f in run pages_to_scan sleep_millisecs use_zero_pages; do
		at_exit "echo $(cat $K/$f) > $K/$f"
	done
}

ksm_merging() { # sum of ksm_merging_pages + ksm_zero_pages of the given pids
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^ksm_(merging|zero)_pages/ { t += $2 } END { print t + 0 }' /proc/$p/ksm_stat 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo $t
}

# ksm_saved: what KSM saves now, in pages (use_zero_pages=1 adds the zero pages it mapped)
ksm_saved() { echo $(( $(cat $K/pages_sharing) + $(cat $K/ksm_zero_pages 2>/dev/null || echo 0) )); }

# ksm_converge TIMEOUT_S [PID...]: ksmd on (fast) until, over 3 successive full scans, the
# PIDs' merged pages (ksm_merging_pages + ksm_zero_pages) are non-zero and no longer change,
# and the host's saved pages move by < 0.5 % (other processes' memory keeps changing a
# little); at least 6 full scans. Leaves ksmd running. Prints the scans it took.
ksm_converge() {
	local timeout=$1; shift
	local end=$(( $(date +%s) + timeout )) scans n=0 same=0 m lm=-1 s hist=()
	echo 4000 > $K/pages_to_scan
	echo 10 > $K/sleep_millisecs
	echo 1 > $K/run
	scans=$(cat $K/full_scans)
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.2
		[ "$(cat $K/full_scans)" -gt "$scans" ] || continue
		scans=$(cat $K/full_scans)
		n=$((n + 1))
		m=$(ksm_merging "$@")
		s=$(ksm_saved)
		hist+=("$s")
		if [ "$m" -eq "$lm" ]; then same=$((same + 1)); else same=0; fi
		lm=$m
		if [ $same -ge 3 ] && [ $n -ge 6 ] && { [ $# = 0 ] || [ "$m" -gt 0 ]; } &&
		   awk -v a="${hist[-4]}" -v b="$s" 'BEGIN { d = b - a; if (d < 0) d = -d; exit !(d <= 50 || d <= 0.005 * b) }'; then
			echo "$n"
			return 0
		fi
	done
	echo "ksm_converge: not stable within $timeout s (merging $m, saved $s)" >&2
	return 1
}

# within ORACLE FORECAST: |forecast - oracle| <= 10 % of oracle
within() {
	awk -v o="$1" -v f="$2" 'BEGIN { d = f - o; if (d < 0) d = -d; exit !(o > 0 && d <= 0.10 * o) }'
}
pct() { awk -v o="$1" -v f="$2" 'BEGIN { printf "%+.2f %%", o ? (f - o) * 100 / o : 0 }'; }
