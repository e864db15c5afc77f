#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Stable VM identity through a restart, under a real Prometheus. A QEMU guest (TCG,
# virtio-balloon) runs with -name guest=idtest -uuid U, inflates its balloon by 64 MiB, is
# killed and started again with the same name and UUID under a new pid. Proves:
#  - the series carry vm="idtest",uuid="U" and no pid; vmmem_vm_info carries pid and vmm;
#  - Prometheus (/api/v1/query over the whole run) holds ONE balloon series for the VM, in
#    which the restart is a counter reset (resets() >= 1), while vmmem_vm_info shows the two
#    processes (two pids: the restart did happen, under a new pid);
#  - the inflate before the restart equals the guest's /proc/vmstat balloon_inflate x 4096.
# Oracles: the pids QEMU ran under ($!), the UUID given on its command line, the guest's vmstat.
set -u
. "$(dirname "$0")/lib/exporter_rig.sh"
exporter_rig_init prometheus curl jq socat
balloon_initramfs
UUID=$(cat /proc/sys/kernel/random/uuid)
UUID_ARG=$(tr a-f A-F <<< "$UUID")	# QEMU takes either case; the label is lower case
boot() {
	vm_start g "$INITRD" 512 -device virtio-balloon-pci,id=bal0 -name guest=idtest,debug-threads=on -uuid "$UUID_ARG"
	vm_wait g READY 120 || fail "guest did not boot"
	vm_wait g VMSTAT 30 || fail "guest prints no VMSTAT line"
}

exporter_start
prom_start "$TMP/prom" $EPORT "$TMP/prometheus.log" || fail "prometheus did not become ready"
wait_for 30 prom_target_up || fail "prometheus target not up: ${PROM_TARGET:-?}"

LABELS="vm=\"idtest\",uuid=\"$UUID\""
info_has_pid() { metrics | grep -qF "vmmem_vm_info{$LABELS,pid=\"$1\",vmm=\"qemu-system-x86\"} 1"; }

boot
P1=${VM_PID[g]}
wait_for 60 info_has_pid $P1 || fail "no vmmem_vm_info{$LABELS,pid=\"$P1\",...}: $(metrics | grep vmmem_vm_info)"
metrics | grep -E "^vmmem_[a-z_]+\{[^}]*vm=\"idtest\"" | grep -v '^vmmem_vm_info' | grep -F 'pid=' &&
	fail "a series of the VM carries pid"
echo "first run: pid $P1; series labelled {$LABELS}, vmmem_vm_info{...,pid=\"$P1\",vmm=\"qemu-system-x86\"} 1"

# inflate 64 MiB; the exporter's count against the guest's own, from a quiet base (QEMU
# discards some RAM of its own while the guest boots: README, "Limitation")
quiet() { local a b; a=$(series vmmem_balloon_inflate_bytes_total); sleep 3; b=$(series vmmem_balloon_inflate_bytes_total)
	[ -n "$a" ] && [ "$a" = "$b" ]; }
wait_for 60 quiet || fail "QEMU's own discards did not stop: $(series vmmem_balloon_inflate_bytes_total)"
i0=$(vmstat | field balloon_inflate) b0=$(series vmmem_balloon_inflate_bytes_total)
r=$(qmp g '{"execute":"balloon","arguments":{"value":469762048}}')
echo "$r" | grep -q '"return"' || fail "QMP balloon: $r"
wait_stable balloon_inflate $((i0 + 16384)) || echo "note: inflate stopped at $(vmstat)"
inflate_settled 16384
promval() { promql "vmmem_balloon_inflate_bytes_total{$LABELS}" | jq -r '.[0].value[1] // empty'; }
wait_for 15 eval '[ "$(promval)" = "$B1" ]' || fail "prometheus has $(promval), exporter $B1"

# restart under a new pid: same name, same UUID
vm_stop g
boot
P2=${VM_PID[g]}
[ "$P2" != "$P1" ] || fail "the restarted QEMU got the same pid"
wait_for 60 info_has_pid $P2 || fail "no vmmem_vm_info with the new pid $P2: $(metrics | grep vmmem_vm_info)"
B2=$(series vmmem_balloon_inflate_bytes_total)
echo "second run: pid $P2; vmmem_balloon_inflate_bytes_total{$LABELS} restarted at $B2"
[ -n "$B2" ] && [ "$B2" -lt "$B1" ] || fail "the new process's counter ($B2) is not below the old one's ($B1)"
wait_for 15 eval '[ "$(promval)" = "$(series vmmem_balloon_inflate_bytes_total)" ]' ||
	fail "prometheus has $(promval), exporter $(series vmmem_balloon_inflate_bytes_total)"
sleep 2

# what Prometheus holds over the whole run
W=10m
n_series=$(promql "count(count_over_time(vmmem_balloon_inflate_bytes_total{vm=\"idtest\"}[$W]))" | jq -r '.[0].value[1] // 0')
n_info=$(promql "count(count_over_time(vmmem_vm_info{vm=\"idtest\"}[$W]))" | jq -r '.[0].value[1] // 0')
pids=$(promql "count_over_time(vmmem_vm_info{vm=\"idtest\"}[$W])" | jq -r '[.[].metric.pid] | sort | join(" ")')
resets=$(promql "resets(vmmem_balloon_inflate_bytes_total{$LABELS}[$W])" | jq -r '.[0].value[1] // "none"')
now=$(promql "vmmem_balloon_inflate_bytes_total{vm=\"idtest\"}" | jq -c '[.[].metric | del(.__name__, .instance, .job)]')
echo "prometheus over $W: balloon series for vm=idtest = $n_series (want 1), vmmem_vm_info series = $n_info (pids $pids; want $P1 and $P2), resets() = $resets"
echo "prometheus now: $now"
[ "$n_series" = 1 ] || fail "$n_series balloon series for one VM across its restart"
[ "$n_info" = 2 ] && [ "$pids" = "$(printf '%s\n' $P1 $P2 | sort | xargs)" ] || fail "vmmem_vm_info does not show both processes: $pids"
[ "$resets" != none ] && [ "$resets" -ge 1 ] || fail "the restart is not a counter reset in Prometheus: resets() = $resets"
[ "$now" = "[{\"uuid\":\"$UUID\",\"vm\":\"idtest\"}]" ] || fail "labels in Prometheus: $now"
echo "PASS"
