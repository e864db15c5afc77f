#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real libvirtd running a TCG domain with a virtio balloon (stats period 1 s), and no QMP
# socket of vmmemtop's own: libvirt keeps QEMU's monitor. Proves:
#  - the domain's libvirt name and UUID reach vmmem_vm_info (and the series' vm/uuid labels),
#    with libvirt_domain and the machine name of libvirt's cgroup;
#  - `virsh setmem` changes the host-side inflate bytes by the guest's own vmstat
#    balloon_inflate x 4096 (oracle: the guest's console);
#  - the libvirt-side gauges equal `virsh dommemstat`: vmmem_balloon_actual_bytes = actual x
#    1024, vmmem_guest_mem_total_bytes = available x 1024 (oracle: virsh, a separate client).
# Starts virtlogd and libvirtd itself when none runs (this machine has no systemd), and stops
# only what it started.
set -u
. "$(dirname "$0")/lib/rig.sh"
. "$TOPDIR/tests/host/prometheus.sh"
for bin in libvirtd virtlogd virsh curl jq; do
	command -v $bin >/dev/null || skip "$bin not installed (tests/deps.sh installs libvirt-daemon-system)"
done
fail() {
	echo "FAIL: $*"
	for f in "$TMP"/*.log "${CONSOLE:-/dev/null}"; do [ -s "$f" ] && { echo "--- $f"; tail -8 "$f"; }; done
	exit 1
}
V="virsh -q -c qemu:///system"

if ! $V version > /dev/null 2>&1; then
	if ! pgrep -x virtlogd > /dev/null; then
		virtlogd -d || fail "cannot start virtlogd"
		at_exit "kill \$(cat /run/virtlogd.pid)"
	fi
	libvirtd -d -p "$TMP/libvirtd.pid" || fail "cannot start libvirtd"
	at_exit "kill \$(cat '$TMP/libvirtd.pid')"
	wait_for 30 $V version > /dev/null 2>&1 || fail "libvirtd does not answer"
	echo "started libvirtd $(libvirtd --version | awk '{ print $NF }') (pid $(cat "$TMP/libvirtd.pid"))"
fi

# QEMU runs as libvirt's user: a world-readable directory for the kernel's initramfs and console
D=$(mktemp -d /tmp/vmmem-libvirt.XXXXXX); chmod 755 "$D"
at_exit "rm -rf '$D'"
balloon_initramfs
cp "$INITRD" "$D/initrd.gz"; chmod 644 "$D/initrd.gz"
NAME=vmmem-lv-$$
UUID=$(cat /proc/sys/kernel/random/uuid)
CONSOLE=$D/console.log
cat > "$D/dom.xml" <<XML
<domain type='qemu'>
  <name>$NAME</name>
  <uuid>$UUID</uuid>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>512</currentMemory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$(guest_kernel)</kernel>
    <initrd>$D/initrd.gz</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet</cmdline>
  </os>
  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>
  <on_reboot>destroy</on_reboot>
  <devices>
    <emulator>$(command -v qemu-system-x86_64)</emulator>
    <serial type='file'><source path='$CONSOLE'/><target port='0'/></serial>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>
XML
$V create "$D/dom.xml" > "$TMP/create.log" 2>&1 || fail "virsh create: $(cat "$TMP/create.log")"
at_exit "$V destroy $NAME > /dev/null 2>&1"
P=$(cat /run/libvirt/qemu/$NAME.pid 2>/dev/null)
[ -n "$P" ] && kill -0 "$P" || fail "no QEMU pid for $NAME"
vmstat() { grep VMSTAT "$CONSOLE" 2>/dev/null | tail -n 1; }
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p"; }
wait_for 120 grep -q VMSTAT "$CONSOLE" || fail "the guest did not boot"
echo "domain $NAME (UUID $UUID) runs as QEMU pid $P; no -qmp of vmmemtop's on its command line: $(tr '\0' ' ' < /proc/$P/cmdline | grep -o -- '-qmp [^ ]*' || echo none)"

EPORT=$(free_port)
"$VMMEMTOP" export --syscall-tracepoints --listen 127.0.0.1:$EPORT --interval 1 > "$TMP/exporter.log" 2>&1 &
EXP=$!
at_exit "stop_pid $EXP"
metrics() { curl -sf "http://127.0.0.1:$EPORT/metrics"; }
LABELS="vm=\"$NAME\",uuid=\"$UUID\""
series() { metrics | grep -F "$1{$LABELS} " | awk '{ print $NF }'; }
info() { metrics | grep -F "vmmem_vm_info{$LABELS," ; }
wait_for 30 eval '[ -n "$(info)" ]' || fail "no vmmem_vm_info{$LABELS,...}: $(metrics | grep vmmem_vm_info)"
echo "exporter: $(info)"
info | grep -qF "pid=\"$P\"" || fail "vmmem_vm_info has another pid than $P"
info | grep -qF "libvirt_domain=\"$NAME\"" || fail "vmmem_vm_info lacks libvirt_domain=\"$NAME\""
info | grep -qE 'machine="qemu-[0-9]+-'"$NAME"'"' || fail "vmmem_vm_info lacks libvirt's machine name"

# libvirt's balloon gauges against virsh dommemstat (KiB)
mem() { $V dommemstat $NAME | awk -v k="$1" '$1 == k { print $2 * 1024 }'; }
gauges_match() {
	A=$(series vmmem_balloon_actual_bytes) T=$(series vmmem_guest_mem_total_bytes)
	VA=$(mem actual) VT=$(mem available)
	[ -n "$A" ] && [ "$A" = "$VA" ] && [ -n "$T" ] && [ "$T" = "$VT" ]
}
wait_for 30 gauges_match || fail "vmmem_balloon_actual_bytes=$A vs dommemstat actual=$VA; vmmem_guest_mem_total_bytes=$T vs available=$VT"
echo "before: vmmem_balloon_actual_bytes $A = virsh dommemstat actual x 1024 $VA; vmmem_guest_mem_total_bytes $T = available x 1024 $VT"
[ "$(series vmmem_qmp_up)" = 1 ] || fail "vmmem_qmp_up (libvirt's side) is '$(series vmmem_qmp_up)'"

# QEMU's own discards while the guest boots must end before the base is taken
quiet() { local a b; a=$(series vmmem_balloon_inflate_bytes_total); sleep 3; b=$(series vmmem_balloon_inflate_bytes_total)
	[ -n "$a" ] && [ "$a" = "$b" ]; }
wait_for 60 quiet || fail "QEMU's own discards did not stop"
i0=$(vmstat | field balloon_inflate) b0=$(series vmmem_balloon_inflate_bytes_total)
$V setmem $NAME 393216 --live > "$TMP/setmem.log" 2>&1 || fail "virsh setmem: $(cat "$TMP/setmem.log")"
grown() { [ "$(vmstat | field balloon_inflate)" -ge $((i0 + 32768)) ]; }
wait_for 120 grown || fail "the guest inflated only to $(vmstat)"
settled() { local a b; a=$(series vmmem_balloon_inflate_bytes_total); sleep 2; b=$(series vmmem_balloon_inflate_bytes_total)
	[ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$b0" ] && B1=$a; }
wait_for 30 settled || fail "vmmem_balloon_inflate_bytes_total did not settle"
i1=$(vmstat | field balloon_inflate)
oracle=$(( (i1 - i0) * 4096 )) got=$(( B1 - b0 ))
echo "virsh setmem 384 MiB: guest vmstat balloon_inflate ($i1 - $i0) x 4096 = $oracle, vmmem inflate bytes +$got"
awk -v a="$got" -v b="$oracle" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 0.02 * b) }' ||
	fail "vmmem +$got bytes, guest +$oracle bytes: more than 2 % apart"
wait_for 30 gauges_match || fail "after setmem: vmmem_balloon_actual_bytes=$A vs dommemstat actual=$VA; vmmem_guest_mem_total_bytes=$T vs available=$VT"
echo "after: vmmem_balloon_actual_bytes $A = dommemstat actual x 1024 $VA; vmmem_guest_mem_total_bytes $T = available x 1024 $VT"
[ "$A" = $((393216 * 1024)) ] || fail "balloon actual $A is not the 384 MiB virsh asked for"
echo "PASS"
