#!/usr/bin/env bash
# Runs the recording-reader fuzzer (build/fuzz/fuzz_record) for SECONDS over the committed seed
# corpus (tests/fuzz/corpus, left untouched: new inputs go to build/fuzz/corpus). A crash,
# sanitizer report, leak or hang fails the run and leaves the input in build/fuzz/.
# usage: tests/fuzz/run.sh SECONDS
set -u
cd "$(dirname "$0")/../.."
secs=${1:-60}
bin=build/fuzz/fuzz_record
work=build/fuzz/corpus
mkdir -p "$work"
[ -x "$bin" ] || { echo "fuzz: $bin not built (make $bin)" >&2; exit 1; }
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
log=build/fuzz/last.log
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	-artifact_prefix=build/fuzz/ "$work" tests/fuzz/corpus > "$log" 2>&1
rc=$?
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
if [ $rc -ne 0 ]; then
	tail -n 40 "$log"
	echo "fuzz: the reader failed after ${execs:-?} inputs (rc $rc); input saved under build/fuzz/" >&2
	exit 1
fi
echo "fuzz: ${execs:-?} inputs in ${secs} s, ${cov:-cov ?}, no crash, leak or hang ($(ls "$work" | wc -l) inputs in build/fuzz/corpus)"
