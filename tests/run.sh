#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every end-to-end test (tests/host/test_*.sh, then tests/vm/test_*.sh) and prints one
# closing line "N passed, N failed, N skipped". A test script exits 0 (pass), 77 (skip, after
# printing "SKIP: reason") or anything else (fail). In CI (CI=true) a skip counts as a failure:
# this machine has everything every rig needs. TESTS="substr ..." runs only the tests whose
# path contains one of the substrings.
#
# Two at a time where that cannot disturb an oracle (this machine has 2 CPUs): every QEMU TCG
# rig keeps one host CPU busy with its guest (QEMU -accel tcg,thread=single: one thread for
# all vCPUs), and counts only inside that guest or by its QEMU's pid, so two rigs side by side
# take half the wall time and see what they see alone. Light host tests whose oracles are
# per-process counts join them. The tests not in POOL below run alone, one after another,
# first: whatever needs the host to itself (host KSM, THP, swap, timing bounds such as the
# exporter flood's p99 or the bcrypt timing, the soak's RSS and fd baselines). A new test runs
# alone until it is added here.
# Each test that runs beside another writes its output to a log, printed whole when it ends,
# with PASS/FAIL, its wall seconds and its CPU seconds (its own and every process it waited
# for: the QEMU guests of a rig). TEST_JOBS=1 runs everything one at a time, streaming.
set -u
cd "$(dirname "$0")/.."
export VMMEMTOP="$PWD/build/vmmemtop" TOOLS="$PWD/build/tools" TOPDIR="$PWD"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null

# The tests that may run beside one other, with their wall seconds on a quiet machine (the CI
# run of 2026-11-29): the pool starts the longest first, so the two slots end close together.
declare -A POOL=(
	# QEMU TCG rigs (one host CPU each)
	[tests/vm/test_nested_kvm.sh]=330 [tests/vm/test_kmod_stress.sh]=265
	[tests/vm/test_ipi_nested.sh]=265 [tests/vm/test_record_nested.sh]=245
	[tests/vm/test_ksm_evict_nested.sh]=750 [tests/vm/test_working_set.sh]=90
	[tests/vm/test_identity.sh]=40 [tests/vm/test_export_prometheus.sh]=35
	[tests/vm/test_tui_rates.sh]=28 [tests/vm/test_libvirt.sh]=27
	[tests/vm/test_qemu_no_balloon.sh]=26 [tests/vm/test_balloon_memfd.sh]=25
	[tests/vm/test_balloon.sh]=24 [tests/vm/test_ksm_forecast.sh]=24
	[tests/vm/test_kmod_ioctl.sh]=13 [tests/vm/test_discovery.sh]=7
	# host tests counting per process (tracefs by tgid, their own workloads, files) and long
	# enough to matter; the few-second ones run alone (two of them wait 10-20 s for vmmemtop's
	# BPF load, which a loaded machine once stretched past that)
	[tests/host/test_record_sigkill.sh]=83 [tests/host/test_install.sh]=34
	[tests/host/test_export.sh]=31 [tests/host/test_pid_reuse.sh]=23
	[tests/host/test_balloon_guest_ram.sh]=16 [tests/host/test_cli.sh]=12
)
jobs_max=${TEST_JOBS:-2}
pass=0 fail=0 skip=0 failed=()
only=${TESTS:-}
logdir=$(mktemp -d /tmp/vmmem-run.XXXXXX)
declare -A running=()	# pid of a test running beside another -> its path
t0=$(date +%s)
cpu_total=0

# run_test T META: run T (output to stdout), then write "rc wall_s cpu_s" to META. The CPU
# is this subshell's children's (times: the test and every process it reaped, its guests too).
run_test() {
	local start rc
	start=$(date +%s)
	bash "$1" < /dev/null
	rc=$?
	times > "$2.times"
	awk -v rc=$rc -v wall=$(( $(date +%s) - start )) 'NR == 2 {
		for (i = 1; i <= 2; i++) { split($i, a, "m"); s += a[1] * 60 + a[2] }
		printf "%d %d %.0f\n", rc, wall, s }' "$2.times" > "$2"
}

# verdict T META: count T's result and print its closing line
verdict() {
	local t=$1 rc secs cpu
	read -r rc secs cpu < "$2" 2>/dev/null || { rc=1 secs=? cpu=?; }
	cpu_total=$(( cpu_total + ${cpu/\?/0} ))
	case $rc in
	0) pass=$((pass + 1)); echo "--- PASS $t (${secs}s, CPU ${cpu}s)" ;;
	77) if [ "${CI:-}" = true ]; then
		fail=$((fail + 1)); failed+=("$t(skipped in CI)"); echo "--- FAIL $t: skipped, but CI must run it (${secs}s, CPU ${cpu}s)"
	    else
		skip=$((skip + 1)); echo "--- SKIP $t (${secs}s, CPU ${cpu}s)"
	    fi ;;
	*) fail=$((fail + 1)); failed+=("$t"); echo "--- FAIL $t rc=$rc (${secs}s, CPU ${cpu}s)" ;;
	esac
}

# reap: wait for one test of the pool to end, then print its output whole and its verdict
reap() {
	local pid t
	wait -n -p pid "${!running[@]}"
	t=${running[$pid]}
	unset "running[$pid]"
	echo "=== $t"
	cat "$logdir/$pid.log"
	verdict "$t" "$logdir/$pid.meta"
}

# Interrupted: stop the tests running beside each other (each is its own process group, QEMU
# included) and let their exit traps clean up
stop_pool() {
	local pid
	for pid in "${!running[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
	wait
	rm -rf "$logdir"
	exit 130
}
trap stop_pool INT TERM

alone=() pool=()
for t in tests/host/test_*.sh tests/vm/test_*.sh; do
	[ -e "$t" ] || continue
	if [ -n "$only" ]; then
		m=0
		for o in $only; do [[ "$t" == *"$o"* ]] && m=1; done
		[ $m = 1 ] || continue
	fi
	if [ "$jobs_max" -gt 1 ] && [ -n "${POOL[$t]:-}" ]; then pool+=("$t"); else alone+=("$t"); fi
done
# one test alone streams its output as it goes
[ ${#pool[@]} = 1 ] && { alone+=("${pool[@]}"); pool=(); }

for t in "${alone[@]}"; do
	echo "=== $t"
	( run_test "$t" "$logdir/alone.meta" )
	verdict "$t" "$logdir/alone.meta"
done

# the pool, longest first
mapfile -t pool < <(for t in "${pool[@]}"; do echo "${POOL[$t]} $t"; done | sort -k1,1nr -k2 | cut -d' ' -f2)
for t in "${pool[@]}"; do
	while [ ${#running[@]} -ge "$jobs_max" ]; do reap; done
	beside=${running[*]:-nothing}
	set -m	# its own process group: stop_pool can end it with everything it started
	( set +m; run_test "$t" "$logdir/$BASHPID.meta" > "$logdir/$BASHPID.log" 2>&1 ) &
	set +m
	running[$!]=$t
	echo "... $t started beside $beside"
done
while [ ${#running[@]} -gt 0 ]; do reap; done

rm -rf "$logdir"
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "tests took $(( $(date +%s) - t0 )) s of wall time, ${cpu_total} s of CPU"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
