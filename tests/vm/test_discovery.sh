#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# VMM discovery from /proc: a qemu started with -name guest=alpha -smp 2 -m 256 appears with
# that name, pid, vCPU count and memory; killed, it leaves; an ordinary process that discards
# memory with madvise is never counted. Oracle: what we started (pid, command line).
set -u
. "$(dirname "$0")/lib/rig.sh"

balloon_initramfs
vm_start a "$INITRD" 256 -smp 2 -name guest=alpha,debug-threads=on
QPID=${VM_PID[a]}
"$TOOLS/discard_loop" 50 64 "$TMP/discarded" & D=$!
at_exit "kill $D"
sleep 0.5
kill -USR1 $D

"$VMMEMTOP" snapshot --syscall-tracepoints --json --interval 1.5 > "$TMP/s1.json" 2> "$TMP/err" || fail "snapshot: $(cat "$TMP/err")"
got=$(jq -c --argjson p "$QPID" '.vms[] | select(.pid == $p) | {name, vcpus, mem_configured_kb, comm}' "$TMP/s1.json")
echo "qemu $QPID: $got"
[ "$(echo "$got" | jq -r .name)" = alpha ] || fail "name is not alpha"
[ "$(echo "$got" | jq -r .vcpus)" = 2 ] || fail "vcpus is not 2"
[ "$(echo "$got" | jq -r .mem_configured_kb)" = 262144 ] || fail "mem_configured_kb is not 262144"
jq -e --argjson p "$D" '[.vms[] | select(.pid == $p)] | length == 0' "$TMP/s1.json" >/dev/null ||
	fail "the non-VMM madvise process $D was counted as a VM"

vm_stop a
"$VMMEMTOP" snapshot --json --interval 1 > "$TMP/s2.json" 2> "$TMP/err" || fail "snapshot: $(cat "$TMP/err")"
jq -e --argjson p "$QPID" '[.vms[] | select(.pid == $p)] | length == 0' "$TMP/s2.json" >/dev/null ||
	fail "the killed qemu $QPID is still listed"
echo "PASS: alpha found with pid $QPID, 2 vCPUs, 256 MiB; gone after kill; the madvise process never counted"
