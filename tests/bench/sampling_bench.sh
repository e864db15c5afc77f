#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the sampling-loop benchmark (tests/bench/sampling_bench.c, built by make bench) under
# the host lock: it starts hundreds of real VMM processes and up to 16 GiB of touched memory.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (BPF backend)"; exit 0; }
[ -w /dev/kvm ] || { echo "SKIP: no /dev/kvm (fake VMMs need KVM_CREATE_VM)"; exit 0; }
make -s build/bench/sampling_bench build/tools/fake_vmm
# 2 x 8 GiB only where it fits beside everything else (MemAvailable >= 20 GiB), else 1
avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
BIG_N=${BIG_N:-$([ "$avail_kb" -ge $((20 << 20)) ] && echo 2 || echo 1)}
ulimit -n 65536 2>/dev/null || true
export BIG_N
run=(build/bench/sampling_bench build/tools/fake_vmm "${SAMPLES:-10}")
# already under the lock (flock /tmp/vmmem-host.lock make bench, or BENCH_LOCKED=1)? Then
# flock here would wait for ourselves: the holder /proc/locks names is one of our ancestors
lock=/tmp/vmmem-host.lock
held_by_us() {
	local ino holder p=$$
	ino=$(stat -c %i "$lock" 2>/dev/null) || return 1
	holder=$(awk -v i=":$ino " 'index($0, i) && $0 !~ /->/ { print $5 }' /proc/locks | head -n 1)
	[ -n "$holder" ] || return 1
	while [ "$p" -gt 1 ]; do
		[ "$p" = "$holder" ] && return 0
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null) || return 1
	done
	return 1
}
if [ -n "${BENCH_LOCKED:-}" ] || held_by_us; then "${run[@]}"; else flock "$lock" "${run[@]}"; fi
