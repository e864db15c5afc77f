#!/usr/bin/env bash
# Builds and runs the sampling-loop benchmark (tests/bench/sampling_bench.c) under the host
# lock: it starts hundreds of real VMM processes and up to 16 GiB of touched memory.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (BPF backend)"; exit 0; }
[ -w /dev/kvm ] || { echo "SKIP: no /dev/kvm (fake VMMs need KVM_CREATE_VM)"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
objs=$(ls build/user/*.o | grep -v '/main\.o$')
cc -O2 -std=gnu11 -D_GNU_SOURCE -Iuser -Ikmod/uapi -Ibuild tests/bench/sampling_bench.c $objs \
	-o "$out/sb" -lbpf -lelf -lz -ljansson -lncursesw -lmicrohttpd -lm -lpthread
# 2 x 8 GiB only where it fits beside everything else (MemAvailable >= 20 GiB), else 1
avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
BIG_N=${BIG_N:-$([ "$avail_kb" -ge $((20 << 20)) ] && echo 2 || echo 1)}
ulimit -n 65536 2>/dev/null || true
BIG_N=$BIG_N flock /tmp/vmmem-host.lock "$out/sb" build/tools/fake_vmm "${SAMPLES:-10}"
