#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The exporter under a real Prometheus while a real QEMU guest (TCG, virtio-balloon) runs,
# with the guest's balloon inflated to 256 MiB through QMP. Proves:
#  - vmmem_balloon_inflate_bytes_total{vm="exporttest"} in Prometheus' HTTP API equals what
#    the exporter serves once the balloon settled (the same number, scraped by Prometheus),
#    and its growth equals the guest's own /proc/vmstat balloon_inflate x 4096 (the oracle,
#    printed by the guest on its console; within 2 % as tests/vm/test_balloon.sh);
#  - the VM's series are labelled with its qemu -name (no pid: see test_identity.sh), and
#    vmmem_vm_info carries its pid and process name;
#  - guest side over QMP (the socket vmmemtop found on the qemu command line): guest stats
#    absent while the balloon's stats polling is off, present once it is on;
#    vmmem_balloon_actual_bytes equals QMP query-balloon's actual (268435456) and the
#    guest's 512 MiB minus its inflated pages; vmmem_guest_mem_total_bytes equals QMP's own
#    qom-get guest-stats stat-total-memory, and fell by the inflated bytes (the Linux driver
#    takes ballooned pages out of MemTotal); both reach Prometheus;
#  - promtool check metrics on the live /metrics with the VM;
#  - `snapshot --json --qmp PATH` maps a socket given by hand to the qemu listening on it.
# QEMU 7.2 serves one QMP client at a time, so the test talks to QEMU on a second -qmp
# socket of its own and leaves the first (which vmmemtop picks) to vmmemtop.
set -u
. "$(dirname "$0")/lib/exporter_rig.sh"
exporter_rig_init prometheus promtool curl jq socat
balloon_initramfs
TQMP=$VM_DIR/test.qmp
vm_start g "$INITRD" 512 -device virtio-balloon-pci,id=bal0 \
	-name guest=exporttest -qmp "unix:$TQMP,server=on,wait=off"
vm_wait g READY 90 || fail "guest did not boot"
vm_wait g VMSTAT 30 || fail "guest prints no VMSTAT line"
QPID=${VM_PID[g]}

# the test's own QMP connection (the second socket)
tqmp() { printf '{"execute":"qmp_capabilities"}\n%s\n' "$1" | socat -t 1 - "UNIX-CONNECT:$TQMP" |
	 grep -E '"(return|error)"' | tail -n 1; }

exporter_start
LABELS="vm=\"exporttest\""
has() { [ -n "$(series "$1")" ]; }
if ! wait_for 60 has vmmem_balloon_inflate_bytes_total; then
	kill -0 $EXP 2>/dev/null || fail "the exporter exited"
	fail "no vmmem_balloon_inflate_bytes_total{$LABELS} (the VM's labels: $(metrics | grep -o 'vmmem_vm_info{[^}]*pid="'$QPID'"[^}]*}' | head -1))"
fi
metrics | grep -qF "vmmem_vm_info{vm=\"exporttest\",pid=\"$QPID\",vmm=\"qemu-system-x86\"} 1" ||
	fail "no vmmem_vm_info with pid $QPID: $(metrics | grep vmmem_vm_info)"
echo "exporter labels the VM: $LABELS; vmmem_vm_info{...,pid=\"$QPID\",vmm=\"qemu-system-x86\"} 1"

# the QMP socket from the command line answers; with guest-stats polling off QEMU holds
# only what the driver sent once at load: not exported. The test turns polling on.
wait_for 30 eval '[ "$(series vmmem_qmp_up)" = 1 ]' || fail "vmmem_qmp_up is '$(series vmmem_qmp_up)'"
has vmmem_balloon_actual_bytes || fail "no vmmem_balloon_actual_bytes"
has vmmem_guest_mem_total_bytes && fail "guest stats exported while polling is off"
r=$(tqmp '{"execute":"qom-set","arguments":{"path":"/machine/peripheral/bal0","property":"guest-stats-polling-interval","value":1}}')
echo "$r" | grep -q '"return"' || fail "QMP qom-set guest-stats-polling-interval: $r"
wait_for 30 has vmmem_guest_mem_total_bytes ||
	fail "no vmmem_guest_mem_total_bytes; qmp_up=$(series vmmem_qmp_up) (QMP: $(tqmp '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/bal0","property":"guest-stats"}}'))"
total0=$(series vmmem_guest_mem_total_bytes)
echo "guest stats: absent while polling was off, present once the test turned it on"

prom_start "$TMP/prom" $EPORT "$TMP/prometheus.log" || fail "prometheus did not become ready"
wait_for 30 prom_target_up || fail "prometheus target not up: ${PROM_TARGET:-?}"

# the base: guest and exporter both quiet before the balloon moves
sleep 1.2
base=$(vmstat) b0=$(series vmmem_balloon_inflate_bytes_total)
i0=$(echo "$base" | field balloon_inflate)
r=$(tqmp '{"execute":"balloon","arguments":{"value":268435456}}')
echo "$r" | grep -q '"return"' || fail "QMP balloon: $r"
wait_stable balloon_inflate $((i0 + 65536)) || echo "note: inflate stopped at $(vmstat)"
actual=$(tqmp '{"execute":"query-balloon"}' | jq -r '.return.actual')
[ "$actual" = 268435456 ] || fail "the guest did not reach the balloon target: QMP actual $actual"

# the exporter settled after the guest's last page, and agrees with the guest
inflate_settled 65536

# Prometheus stored the same number the exporter serves
prom_value() { promql "vmmem_balloon_inflate_bytes_total{vm=\"exporttest\"}" | jq -r '.[0].value[1] // empty'; }
prom_labels() { promql "vmmem_vm_info{vm=\"exporttest\"}" | jq -r '.[0].metric | "\(.vm) \(.pid) \(.vmm)"'; }
wait_for 15 eval '[ "$(prom_value)" = "$B1" ]' ||
	fail "prometheus vmmem_balloon_inflate_bytes_total{vm=\"exporttest\"}=$(prom_value), exporter $B1"
[ "$(prom_labels)" = "exporttest $QPID qemu-system-x86" ] || fail "prometheus labels: $(prom_labels)"
echo "prometheus: vmmem_balloon_inflate_bytes_total{vm=\"exporttest\"} = $(prom_value) = exporter $B1 (vmmem_vm_info pid $QPID)"

# guest side over QMP: balloon size, and the guest's own stats, against QMP and the guest
wait_for 15 eval '[ "$(series vmmem_balloon_actual_bytes)" = "$actual" ]' ||
	fail "vmmem_balloon_actual_bytes=$(series vmmem_balloon_actual_bytes), QMP query-balloon actual=$actual"
guest_actual=$(( 536870912 - i1 * 4096 ))
echo "balloon actual: exporter $(series vmmem_balloon_actual_bytes), QMP query-balloon $actual, guest 512 MiB - $i1 pages = $guest_actual"
[ "$guest_actual" = "$actual" ] || fail "QMP actual $actual but the guest ballooned $i1 pages"
qstats() { tqmp '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/bal0","property":"guest-stats"}}'; }
total_matches() {
	QTOTAL=$(qstats | jq -r '.return.stats."stat-total-memory"')
	T1=$(series vmmem_guest_mem_total_bytes)
	[ -n "$T1" ] && [ "$T1" = "$QTOTAL" ] && [ "$T1" != "$total0" ]
}
wait_for 20 total_matches || fail "vmmem_guest_mem_total_bytes=$T1, QMP stat-total-memory=$QTOTAL (before inflating: $total0)"
echo "guest MemTotal: exporter $T1 = QMP stat-total-memory $QTOTAL; before inflating $total0 (-$((total0 - T1)))"
[ $((total0 - T1)) = $(( (i1 - i0) * 4096 )) ] ||
	fail "guest MemTotal fell by $((total0 - T1)) bytes, the guest inflated $(( (i1 - i0) * 4096 ))"
for f in vmmem_guest_mem_free_bytes vmmem_guest_mem_available_bytes vmmem_guest_stats_last_update_timestamp_seconds; do
	has $f || fail "no $f"
done
[ "$(series vmmem_guest_mem_free_bytes)" -le "$T1" ] || fail "guest free $(series vmmem_guest_mem_free_bytes) > total $T1"
wait_for 15 eval '[ "$(promql "vmmem_balloon_actual_bytes{vm=\"exporttest\"}" | jq -r ".[0].value[1] // empty")" = "$actual" ]' ||
	fail "prometheus vmmem_balloon_actual_bytes: $(promql 'vmmem_balloon_actual_bytes')"
echo "prometheus: vmmem_balloon_actual_bytes{vm=\"exporttest\"} = $actual"

metrics > "$TMP/metrics.txt"
promtool check metrics < "$TMP/metrics.txt" > "$TMP/promtool.log" 2>&1 || fail "promtool check metrics: $(cat "$TMP/promtool.log")"
echo "promtool check metrics: ok with the guest's QMP families"
prom_stop
kill $EXP; wait $EXP 2>/dev/null

# a socket given by hand (the test's own), mapped to the qemu that listens on it
"$VMMEMTOP" snapshot --syscall-tracepoints --interval 2 --json --pid "$QPID" --qmp "$TQMP" > "$TMP/snap.json" 2> "$TMP/snap.log" ||
	fail "vmmemtop snapshot --qmp failed: $(cat "$TMP/snap.log")"
sock=$(jq_vm "$TMP/snap.json" "$QPID" '.qmp.socket')
up=$(jq_vm "$TMP/snap.json" "$QPID" '.qmp.up')
sact=$(jq_vm "$TMP/snap.json" "$QPID" '.qmp.balloon_actual_bytes')
echo "snapshot --qmp $TQMP: .qmp.socket $sock, up $up, balloon_actual_bytes $sact (QMP $actual)"
[ "$sock" = "$TQMP" ] && [ "$up" = true ] && [ "$sact" = "$actual" ] ||
	fail "snapshot's qmp: $(jq_vm "$TMP/snap.json" "$QPID" '.qmp' | tr -d '\n ')"
echo "PASS"
