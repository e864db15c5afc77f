#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages vmmem needs. Idempotent; silent when all are present.
#   tests/deps.sh run    what building and running vmmemtop needs (make run): toolchain, libraries
#   tests/deps.sh test   that plus what the tests, benchmarks and demo need (make test/bench/demo)
#   ... --list           print the set instead of installing it
# Add a package to RUN only if the binary cannot be built or started without it; everything
# a test, rig or benchmark uses goes to TEST (a production host must not get a kernel image).
set -euo pipefail

RUN=(
	make gcc clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config   # build
	libjansson-dev libncurses-dev libmicrohttpd-dev                           # user/ libraries
	libgnutls28-dev libyaml-dev libcrypt-dev                                  # exporter: TLS, web config, bcrypt
	libvirt-dev                                                               # libvirt domains' names and balloon stats
)
TEST=(
	libcmocka-dev libclang-rt-14-dev                                          # unit tests, sanitizers, fuzzing
	linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static      # VM rigs (6.1 kernel)
	dwarves                                                                   # pahole: module BTF of vmmem.ko for 6.12 (tests/vm/lib/kernels.sh)
	jq socat tmux procps kmod cpio gzip curl iproute2 xz-utils zstd            # test harness
	prometheus bpftrace python3-prometheus-client openssl                     # exporter tests, benchmark
	dkms man-db systemd python3                                               # install test
	libvirt-daemon-system libvirt-clients                                     # libvirt test (a real libvirtd)
)

case "${1:-test}" in
run)  pkgs=("${RUN[@]}") ;;
test) pkgs=("${RUN[@]}" "${TEST[@]}") ;;
*)    echo "usage: tests/deps.sh [run|test] [--list]" >&2; exit 2 ;;
esac
[ "${2:-}" = --list ] && { printf '%s\n' "${pkgs[@]}"; exit 0; }	# the set, for tests/host/test_install.sh

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
