#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the cmocka unit-test binaries (built with ASan/UBSan) given as arguments.
set -u
rc=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1
for t in "$@"; do
	"$t" || { echo "unit test failed: $t" >&2; rc=1; }
done
exit $rc
