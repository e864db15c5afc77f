#!/usr/bin/env bash
# KSM and host eviction of guest memory on a kernel without KSM tracepoints: Debian's 6.1
# under QEMU TCG -cpu max (SVM + NPT), kvm-amd, with BPF (fentry) and vmmem.ko (kprobes).
# KSM oracles: /proc/PID/ksm_merging_pages (per VMM), /sys/kernel/mm/ksm/full_scans.
# Eviction oracles (a KVM VMM in a cgroup with memory.max 8 MiB over 16 MiB of guest RAM,
# zram swap, nothing else swapping): /proc/vmstat pswpin/pswpout, the cgroup's
# memory.stat pgmajfault (counted in do_swap_page, not where vmmem hooks), the runner's
# /proc/PID/stat majflt. See tests/vm/guest/ksmevict-init.sh.
set -u
. "$(dirname "$0")/../host/lib.sh"
. "$(dirname "$0")/lib/initramfs.sh"
. "$(dirname "$0")/lib/qemu.sh"
need_vm_rig
command -v jq >/dev/null || skip "jq not installed"
make_tmp
at_exit vm_stop_all
start=$(date +%s)

guest_kmod
INITRD=$TOPDIR/build/vm/ksmevict.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/ksmevict-init.sh" "kvm-amd zram" "$VMMEMTOP:/bin/vmmemtop" \
	"$(command -v jq):/bin/jq" "$TOOLS/ksm_worker:/bin/ksm_worker" "$TOOLS/evict_runner:/bin/evict_runner" \
	"$TOPDIR/vmmem.ko:/vmmem.ko" || fail "cannot build the initramfs"
vm_start n "$INITRD" 1024 -smp 2
vm_wait n ALLDONE 420 || fail "the nested guest did not finish; console: $(tail -30 "${VM_LOG[n]}")"
log=$TMP/console
tr -d '\r' < "${VM_LOG[n]}" > "$log"
grep -E "^(NPT|NOKVM|CASEFAIL|KSM|SCANS|EVICT|HOOK|DMESG)|rror" "$log"
grep -q "^NOKVM" "$log" && fail "no /dev/kvm in the guest"
grep -q "^CASEFAIL" "$log" && fail "a case could not run"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$2"; }
ok=1
for b in bpf kmod; do
	n=0
	while read -r line; do
		n=$((n + 1))
		o=$(field oracle "$line") v=$(field vmmem "$line")
		[ "$o" = "$v" ] && echo "ok: $line" || { echo "MISMATCH: $line"; ok=0; }
	done < <(grep "^KSM backend=$b " "$log")
	[ $n = 3 ] || { echo "$b: expected 3 KSM lines, got $n"; ok=0; }
	grep "^KSM backend=$b " "$log" | awk '$4 == "oracle=1000"' | wc -l | grep -q '^2$' ||
		{ echo "$b: the oracle did not see both identical workers merge 1000 pages"; ok=0; }
	line=$(grep "^SCANS backend=$b " "$log")
	o=$(field oracle "$line") v=$(field vmmem "$line")
	[ -n "$o" ] && [ "$o" = "$v" ] && [ "$o" -gt 0 ] && echo "ok: $line" || { echo "MISMATCH: $line"; ok=0; }
	line=$(grep "^EVICT backend=$b " "$log")
	[ -n "$line" ] || { echo "$b: no EVICT line"; ok=0; continue; }
	pin=$(field pswpin "$line") pout=$(field pswpout "$line") cgmaj=$(field cg_pgmajfault "$line")
	sin=$(field swapin_bytes "$line") kmaj=$(field kvm_major_faults "$line") rec=$(field reclaim "$line")
	verdict=ok
	[ "$(field passes "$line")" = 2 ] || verdict="the runner did not finish 2 passes"
	[ "$verdict" = ok ] && [ "$pout" -lt 1000 ] && verdict="too little swapped out ($pout pages) to prove anything"
	[ "$verdict" = ok ] && [ "$sin" != $((pin * 4096)) ] && verdict="swapin_bytes $sin != pswpin $pin x 4096"
	[ "$verdict" = ok ] && [ "$kmaj" != "$cgmaj" ] && verdict="kvm_major_faults $kmaj != memory.stat pgmajfault $cgmaj"
	[ "$verdict" = ok ] && [ "$rec" != $((pout * 4096)) ] && verdict="mmu_inval_reclaim_bytes $rec != pswpout $pout x 4096"
	echo "$verdict: $line"
	[ $verdict = ok ] || ok=0
done
grep -q "^DMESG" "$log" && { echo "the guest's dmesg has findings"; ok=0; }
echo "KSM + eviction rig took $(( $(date +%s) - start )) s"
[ $ok = 1 ] || fail "KSM or eviction counts differ from their oracles"
echo "PASS: KSM merges and scans, swap-in, KVM major faults and reclaim invalidations equal their oracles on $(guest_kver)"
