#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs each libFuzzer target (build/fuzz/fuzz_NAME, from tests/fuzz/fuzz_NAME.c) for SECONDS
# over its committed seed corpus (tests/fuzz/corpus/NAME, left untouched: new inputs go to
# build/fuzz/corpus/NAME). A crash, sanitizer report, leak or hang fails the run and leaves
# the input in build/fuzz/NAME-crash-* (reproduce: build/fuzz/fuzz_NAME FILE).
# Prints one line per target: inputs run, coverage, seconds (FUZZ_JOBS targets run at once).
# usage: tests/fuzz/run.sh SECONDS [NAME...]   (default: every target)
# FUZZ_SEED fixes libFuzzer's seed: make test sets it, so that a CI run explores the same
# mutations as the run before it (a finding there is a regression, not luck); make fuzz leaves
# it unset and explores afresh each time.
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
shift || true
if [ $# -gt 0 ]; then
	targets=("$@")
else
	targets=()
	for f in tests/fuzz/fuzz_*.c; do
		n=${f#tests/fuzz/fuzz_}
		targets+=("${n%.c}")
	done
fi
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# FUZZ_JOBS targets at a time (default: one per CPU). Each libFuzzer process is single-threaded
# and runs for SECONDS of wall time, so on an idle machine a target explores as much beside
# another as alone, and 8 targets take 4 x SECONDS on 2 CPUs instead of 8 x SECONDS.
jobs=${FUZZ_JOBS:-$(nproc)}
# fuzz_one NAME: one target; its result line (or failure) goes to build/fuzz/NAME.result
fuzz_one() {
	local t=$1 bin seeds work log start r took execs cov
	bin=build/fuzz/fuzz_$t
	seeds=tests/fuzz/corpus/$t
	work=build/fuzz/corpus/$t
	log=build/fuzz/$t.log
	exec > "build/fuzz/$t.result" 2>&1
	if [ ! -x "$bin" ]; then
		echo "fuzz: $bin not built (make $bin)"
		return 1
	fi
	if [ ! -d "$seeds" ] || [ -z "$(ls -A "$seeds")" ]; then
		echo "fuzz: $t has no seed corpus in $seeds"
		return 1
	fi
	mkdir -p "$work"
	start=$(date +%s)
	"$bin" ${FUZZ_SEED:+-seed="$FUZZ_SEED"} -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="build/fuzz/$t-" "$work" "$seeds" > "$log" 2>&1
	r=$?
	took=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ $r -ne 0 ]; then
		tail -n 40 "$log"
		echo "fuzz: $t FAILED after ${execs:-?} inputs (rc $r); input saved as build/fuzz/$t-*"
		return 1
	fi
	printf 'fuzz: %-14s %9s inputs in %3d s, %s, no crash, leak or hang\n' "$t" "${execs:-?}" "$took" \
		"${cov:-cov ?}"
}

mkdir -p build/fuzz
rc=0
pids=()
for t in "${targets[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
	fuzz_one "$t" &
	pids+=($!)
done
for i in "${!targets[@]}"; do
	wait "${pids[$i]}" || rc=1
	cat "build/fuzz/${targets[$i]}.result"
done
exit $rc
