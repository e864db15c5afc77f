#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmmemtop record of per-event types (tdp_fault, exit) on a real KVM host with nested paging,
# on every guest kernel of tests/vm/lib/kernels.sh (5.10, 6.1, 6.12) under QEMU TCG -cpu max
# (SVM + NPT), kvm-amd, two kvm_guest_runner VMMs (1 vCPU x 256 pages, 2 vCPUs x 128 pages)
# recorded through each backend: BPF CO-RE on that kernel, and vmmem.ko (built here against
# that kernel's headers; 6.1 and 6.12 only) and its event ring.
# Oracle: the guest's own tracefs kvm:kvm_page_fault and kvm:kvm_exit by pid.
# Checks per runner: recorded tdp_fault + lost = tdp_faults increase = tracefs; the same for
# exit / exits; the faulting addresses recorded are exactly those tracefs printed (this proves
# the argument layout chosen on each kernel: tp_btf by CO-RE, or tracefs offsets on 5.10); the runner is reported as exited; with
# --slow-us 100 there are slow_fault/slow_exit records and none is shorter than 100 us.
# Last, vmmem.ko with 64-record rings and the recorder stopped while the runners run: records
# must be lost, and recorded + lost must still equal the counters and tracefs, per VM.
set -u
. "$(dirname "$0")/lib/rig.sh"
command -v jq >/dev/null || skip "jq not installed"
ok=1
# run_kernel V: boot V's guest once and check its recordings (ok=0 on a difference)
run_kernel() {
local V=$1
start=$(date +%s)
guest_use "$V"
kernel_fetch || fail "cannot fetch guest kernel $V"
echo "=== guest kernel $V ($(guest_kver))"
backends="bpf kmod" results="bpf kmod kmod-lossy" extra=()
if [ "$V" = 5.10 ]; then
	backends=bpf results=bpf	# vmmem.ko needs 6.1+ (README)
else
	guest_kmod "$V"
	extra=("$GUEST_KO:/vmmem.ko")
fi
INITRD=$TOPDIR/build/vm/record-nested-$V.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/record-init.sh" "kvm-amd" "$VMMEMTOP:/bin/vmmemtop" \
	"$(command -v jq):/bin/jq" "$TOOLS/kvm_guest_runner:/bin/kvm_guest_runner" "${extra[@]}" ||
	fail "cannot build the initramfs"
vm_start "r$V" "$INITRD" 1024 -smp 2
vm_wait "r$V" ALLDONE 600 || fail "the nested guest did not finish; console: $(tail -20 "${VM_LOG[r$V]}")"
vm_stop "r$V"
log=$TMP/console-$V	# the serial console ends lines with \r
tr -d '\r' < "${VM_LOG[r$V]}" > "$log"
grep -E "^(NPT|NOKVM|CASEFAIL|RESULT|RECORD_EXIT|SLOW)|recorded|notice|rror|vmmem:" "$log"
grep -q "^NOKVM" "$log" && fail "no /dev/kvm in the guest"
grep -qE "^NPT=(Y|1)" "$log" || fail "kvm_amd has no nested paging in the guest"
grep -q "^CASEFAIL" "$log" && fail "the case could not run"
for b in $backends; do
	grep -q "^RECORD_EXIT backend=$b rc=0" "$log" || fail "vmmemtop record --backend $b did not exit 0 on SIGINT"
done
for b in $results; do
	[ "$(grep -c "^RESULT backend=$b " "$log")" = 2 ] || fail "expected 2 RESULT lines for $b"
done
while read -r line; do
	k=$(sed -n 's/.* k=\([0-9]*\).*/\1/p' <<< "$line")
	vc=$(sed -n 's/.* vcpus=\([0-9]*\).*/\1/p' <<< "$line")
	rv=$(sed -n 's/.* rec=\({[^}]*}\).*/\1/p' <<< "$line")
	of=$(sed -n 's/.* oracle_faults=\([0-9]*\).*/\1/p' <<< "$line")
	oe=$(sed -n 's/.* oracle_exits=\([0-9]*\).*/\1/p' <<< "$line")
	ov=$(sed -n 's/.* overruns=\([0-9]*\).*/\1/p' <<< "$line")
	om=$(sed -n 's/.* oracle_addrs_md5=\([0-9a-f]*\).*/\1/p' <<< "$line")
	rm=$(sed -n 's/.* rec_addrs_md5=\([0-9a-f]*\).*/\1/p' <<< "$line")
	na=$(sed -n 's/.* addrs=\([0-9]*\).*/\1/p' <<< "$line")
	for f in rf lf if re le ie x out; do eval "$f=\$(jq -r .$f <<< \"\$rv\")"; done
	verdict=ok
	[ "$ov" = 0 ] || verdict="oracle overran"
	[ "$rf" != null ] || verdict="runner not in the recording"
	[ "$verdict" = ok ] && [ $((rf + lf)) != "$if" ] && verdict="recorded tdp_fault $rf + lost $lf != tdp_faults $if"
	[ "$verdict" = ok ] && [ "$if" != "$of" ] && verdict="tdp_faults $if != tracefs $of"
	[ "$verdict" = ok ] && [ "$of" -lt $((k * vc)) ] && verdict="only $of faults for $((k * vc)) pages"
	[ "$verdict" = ok ] && [ $((re + le)) != "$ie" ] && verdict="recorded exit $re + lost $le != exits $ie"
	[ "$verdict" = ok ] && [ "$ie" != "$oe" ] && verdict="exits $ie != tracefs $oe"
	if [[ "$line" == "RESULT backend=kmod-lossy "* ]]; then
		# the ring was made to overflow: some records must be lost, and be counted
		[ "$verdict" = ok ] && [ "$lf" -eq 0 ] && verdict="a 64-record ring under a stopped recorder lost no fault record"
	else
		[ "$verdict" = ok ] && [ "$om" != "$rm" ] && verdict="recorded fault addresses differ from tracefs's"
	fi
	[ "$verdict" = ok ] && [ "$na" != "$rf" ] && verdict="$na addresses for $rf recorded faults"
	[ "$verdict" = ok ] && [ "$x" != true ] && verdict="runner not reported as exited"
	[ "$verdict" = ok ] && [ "$out" != 0 ] && verdict="$out events outside the window"
	echo "$verdict: $line"
	[ "$verdict" = ok ] || ok=0
done < <(grep "^RESULT" "$log")
# --slow-us 100 reached the kernel side: slow records exist, none below 100 us
for b in $backends; do
	slow=$(sed -n "s/^SLOW backend=$b n=\([0-9]*\) below_threshold=\([0-9]*\)$/\1 \2/p" "$log")
	read -r nslow below <<< "$slow"
	echo "$b: slow_fault/slow_exit records: ${nslow:-?}, below the 100 us threshold: ${below:-?}"
	[ "${nslow:-0}" -gt 0 ] && [ "${below:-1}" = 0 ] || { echo "$b: the slow threshold did not take effect"; ok=0; }
	grep -q "^SLOWEST backend=$b [1-9]" "$log" || { echo "$b: the report lists no slow event among the slowest"; ok=0; }
done
echo "guest kernel $V: record rig took $(( $(date +%s) - start )) s"
}
for V in ${NESTED_KERNELS:-$GUEST_KERNELS}; do
	run_kernel "$V"
done
[ $ok = 1 ] || fail "recorded events differ from the counters or the guest's tracefs"
echo "PASS: recorded tdp_fault and exit events (and their addresses) equal the counters and each guest kernel's tracefs ($GUEST_KERNELS)"
