#!/usr/bin/env bash
# Real EPT/NPT violations: Debian's 6.1 kernel booted under QEMU TCG with -cpu max (SVM +
# NPT), kvm-amd loaded, and a tiny KVM guest (tests/tools/kvm_guest_runner) touching K
# distinct guest pages. Oracle: the guest kernel's tracefs counts of kvm:kvm_page_fault and
# kvm:kvm_exit for the runner's pid. Checks, per runner: tdp_faults == oracle >= K, exits ==
# oracle, separate counts for two runners at once, the runner reported as exited (it created
# its VM after counting began, so the kernel-side creation hook or first-event claim caught
# it), and the fault-latency histogram has one entry per fault.
set -u
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/lib/initramfs.sh"
. "$(dirname "$0")/lib/qemu.sh"
need_vm_rig
command -v jq >/dev/null || skip "jq not installed"
make_tmp
at_exit vm_stop_all
start=$(date +%s)

extra=("$VMMEMTOP:/bin/vmmemtop" "$(command -v jq):/bin/jq" "$TOOLS/kvm_guest_runner:/bin/kvm_guest_runner")
[ -n "${VMMEM_KO:-}" ] && [ -e "$VMMEM_KO" ] && extra+=("$VMMEM_KO:/vmmem.ko")
INITRD=$TOPDIR/build/vm/nested.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/nested-init.sh" "kvm-amd" "${extra[@]}" ||
	fail "cannot build the initramfs"
vm_start n "$INITRD" 1024 -smp 2
vm_wait n ALLDONE 170 || fail "the nested guest did not finish; console: $(tail -20 "${VM_LOG[n]}")"
log=${VM_LOG[n]}
grep -E "^(NPT|NOKVM|CASEFAIL|RESULT)|notice|rror" "$log"
grep -q "^NOKVM" "$log" && fail "no /dev/kvm in the guest"
grep -q "^NPT=Y" "$log" || fail "kvm_amd has no nested paging in the guest"
grep -q "^CASEFAIL" "$log" && { grep -A24 "^CASEFAIL" "$log"; fail "a case could not run"; }
n=$(grep -c "^RESULT" "$log")
[ "$n" -ge 4 ] || fail "expected at least 4 RESULT lines, got $n"
ok=1
while read -r line; do
	k=$(sed -n 's/.* k=\([0-9]*\).*/\1/p' <<< "$line")
	vc=$(sed -n 's/.* vcpus=\([0-9]*\).*/\1/p' <<< "$line")
	v=$(sed -n 's/.* vmmem=\({[^}]*}\).*/\1/p' <<< "$line")
	of=$(sed -n 's/.* oracle_faults=\([0-9]*\).*/\1/p' <<< "$line")
	oe=$(sed -n 's/.* oracle_exits=\([0-9]*\).*/\1/p' <<< "$line")
	ov=$(sed -n 's/.* overruns=\([0-9]*\).*/\1/p' <<< "$line")
	f=$(jq -r .f <<< "$v") e=$(jq -r .e <<< "$v") x=$(jq -r .x <<< "$v") h=$(jq -r .h <<< "$v")
	verdict=ok
	[ "$ov" = 0 ] || verdict="oracle overran"
	[ "$f" = "$of" ] || verdict="tdp_faults $f != tracefs $of"
	[ "$of" -ge $((k * vc)) ] || verdict="only $of faults for $((k * vc)) pages"
	[ "$e" = "$oe" ] || verdict="exits $e != tracefs $oe"
	[ "$x" = true ] || verdict="runner not reported as exited"
	[ "$h" = "$f" ] || verdict="tdp_fault_ns histogram count $h != faults $f"
	echo "$verdict: $line"
	[ "$verdict" = ok ] || ok=0
done < <(grep "^RESULT" "$log")
echo "nested rig took $(( $(date +%s) - start )) s"
[ $ok = 1 ] || fail "counts differ from the guest's tracefs"
echo "PASS: tdp_faults and exits equal the 6.1 guest's tracefs for every runner"
