#!/usr/bin/env bash
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
# BENCH_LOCKED=1: the caller holds the lock already (flock would wait for itself)
if [ -n "${BENCH_LOCKED:-}" ]; then "${run[@]}"; else flock /tmp/vmmem-host.lock "${run[@]}"; fi
