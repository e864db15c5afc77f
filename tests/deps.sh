#!/usr/bin/env bash
# Installs the Debian packages vmmem's build and tests need. Idempotent; silent when all are present.
set -euo pipefail
pkgs=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config   # build
	libjansson-dev libncurses-dev libmicrohttpd-dev                           # user/ libraries
	libcmocka-dev libclang-rt-14-dev                                          # unit tests, sanitizers, fuzzing
	linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static      # VM rigs (6.1 kernel)
	dwarves                                                                   # pahole: module BTF of vmmem.ko for 6.12 (tests/vm/lib/kernels.sh)
	jq socat tmux procps kmod cpio gzip curl iproute2 xz-utils zstd            # test harness
	prometheus bpftrace                                                       # exporter test, benchmark
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
