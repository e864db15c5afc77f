#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs every end-to-end test (tests/host/test_*.sh, then tests/vm/test_*.sh) and prints one
# closing line "N passed, N failed, N skipped". A test script exits 0 (pass), 77 (skip, after
# printing "SKIP: reason") or anything else (fail). In CI (CI=true) a skip counts as a failure:
# this machine has everything every rig needs.
set -u
cd "$(dirname "$0")/.."
export VMMEMTOP="$PWD/build/vmmemtop" TOOLS="$PWD/build/tools" TOPDIR="$PWD"
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
pass=0 fail=0 skip=0 failed=()
only=${TESTS:-}
for t in tests/host/test_*.sh tests/vm/test_*.sh; do
	[ -e "$t" ] || continue
	[ -n "$only" ] && [[ "$t" != *$only* ]] && continue
	start=$(date +%s)
	echo "=== $t"
	bash "$t"
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0) pass=$((pass + 1)); echo "--- PASS $t (${secs}s)" ;;
	77) if [ "${CI:-}" = true ]; then
		fail=$((fail + 1)); failed+=("$t(skipped in CI)"); echo "--- FAIL $t: skipped, but CI must run it (${secs}s)"
	    else
		skip=$((skip + 1)); echo "--- SKIP $t (${secs}s)"
	    fi ;;
	*) fail=$((fail + 1)); failed+=("$t"); echo "--- FAIL $t rc=$rc (${secs}s)" ;;
	esac
done
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
