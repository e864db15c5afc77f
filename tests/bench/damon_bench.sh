#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# DAMON working-set cost per monitored VM, in Debian's 6.12 under TCG (this host's DAMON is
# someone else's and is never written): one process of 1 GiB touching 256 MiB, monitored by
# `vmmemtop working-set` (one kdamond: 200 ms samples, 1 s aggregations, 100-1000 regions).
# Printed: the kdamond's CPU and vmmemtop's own as shares of one (emulated) CPU, and as ratios
# to the monitored process's CPU in the same run. TCG runs kernel code many times slower than
# a real CPU, so the shares are upper bounds; the ratios carry over better.
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/../vm/lib/initramfs.sh"
. "$(dirname "$0")/../vm/lib/qemu.sh"
guest_use 6.12
need_vm_rig
make_tmp
at_exit vm_stop_all
INITRD=$TOPDIR/build/vm/damon-bench.cpio.gz
build_initramfs "$INITRD" "$TOPDIR/tests/vm/guest/damon-bench-init.sh" "" "$VMMEMTOP:/bin/vmmemtop" \
	"$TOOLS/ws_worker:/bin/ws_worker" || fail "cannot build the initramfs"
vm_start b "$INITRD" 1536 -smp 1
vm_wait b ALLDONE 600 || fail "the guest did not finish; console: $(tail -20 "${VM_LOG[b]}")"
tr -d '\r' < "${VM_LOG[b]}" > "$TMP/log"
grep ^BENCHERR "$TMP/log"
read -r wt ws < <(sed -n 's/^WORKER ticks=\([0-9]*\) seconds=\([0-9]*\).*/\1 \2/p' "$TMP/log")
last=$(sed -n 's/^BENCH //p' "$TMP/log" | tail -n 1)
[ -n "$last" ] && [ -n "$wt" ] || fail "no readings from the guest"
jq -r --argjson wt "$wt" '.monitored_s as $m | .cpu_seconds as $c | .vms[0] |
	"DAMON working set, 1 VM of 1 GiB (256 MiB hot), \($m) s monitored under TCG:",
	"  kdamond:  \(.kdamond_cpu_seconds) CPU s = \(.kdamond_cpu_seconds * 1000 / $m | round / 10) % of one CPU",
	"  vmmemtop: \($c) CPU s = \($c * 1000 / $m | round / 10) % of one CPU (sysfs reads, one per VM per interval)",
	"  baseline, the monitored process in the same run: \($wt / 100) CPU s",
	"  ratio kdamond / monitored process: \(.kdamond_cpu_seconds / ($wt / 100) * 1000 | round / 1000)x",
	"  working_set_bytes at the end: \(.working_set_bytes) (oracle 268435456)"' <<< "$last"
