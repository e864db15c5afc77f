#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# vmmem.ko lifecycle under stress, on 6.1 and 6.12 (tests/vm/lib/kernels.sh; the module is
# built against each kernel's headers): STRESS_CYCLES (default 50) cycles of load -> a reader
# blocked in poll() -> count a KVM runner through the module -> unload while a second runner's
# probes fire; kvm.ko unloaded and reloaded under the module every 10 cycles.
# Oracle: the guest's tracefs kvm:kvm_page_fault by pid (every cycle's count must equal it).
# Also: every rmmod succeeds once the reader closed, no module is left loaded, and the
# guest's kernel log has no line of tests/vm/guest/denylist.
set -u
. "$(dirname "$0")/lib/rig.sh"
cycles=${STRESS_CYCLES:-50}
ok=1
for v in ${STRESS_KERNELS:-6.1 6.12}; do
	start=$(date +%s)
	guest_use "$v"
	kernel_fetch || fail "cannot fetch guest kernel $v"
	guest_kmod "$v"
	INITRD=$TOPDIR/build/vm/stress-$v.cpio.gz
	build_initramfs "$INITRD" "$(dirname "$0")/guest/stress-init.sh" "kvm-amd" \
		"$TOOLS/kvm_guest_runner:/bin/kvm_guest_runner" "$TOOLS/vmmem_poll:/bin/vmmem_poll" \
		"$GUEST_KO:/vmmem.ko" "$(dirname "$0")/guest/denylist:/etc/denylist" || fail "cannot build the initramfs"
	VM_APPEND="vmmem_cycles=$cycles ${VM_APPEND:-}" vm_start "s$v" "$INITRD" 1024 -smp 2
	vm_wait "s$v" ALLDONE $((300 + cycles * 15)) || { tail -20 "${VM_LOG[s$v]}"; fail "the $v stress guest did not finish"; }
	vm_stop "s$v"
	log=$TMP/stress-$v
	tr -d '\r' < "${VM_LOG[s$v]}" > "$log"
	grep -E "^(NPT|NOKVM|CASEFAIL|DENY|DMESG|LEFT)|insmod .* failed" "$log"
	bad() { echo "  BAD($v): $*"; ok=0; }
	grep -q "^CASEFAIL" "$log" && bad "a cycle could not run"
	n=$(grep -c "^CYCLE " "$log")
	[ "$n" = "$cycles" ] || bad "$n of $cycles cycles ran"
	while read -r line; do
		f=$(sed -n 's/.* faults=\([^ ]*\).*/\1/p' <<< "$line")
		[ "${f%%/*}" = "${f#*/}" ] && [ "${f#*/}" -ge 33 ] 2>/dev/null || bad "count: $line"
		grep -q " rmmod=0 " <<< "$line" || bad "rmmod failed: $line"
		grep -qE "kvm_reload=(-|0) " <<< "$line" || bad "kvm.ko did not unload under the module: $line"
		grep -q "poll=EVENTS" <<< "$line" || bad "the poll reader did not end cleanly: $line"
	done < <(grep "^CYCLE " "$log")
	grep -q "^DMESG_BAD=0$" "$log" || bad "denylisted kernel log lines (DENY above)"
	grep -q "^LEFT=0$" "$log" || bad "vmmem.ko left loaded"
	# the second runner must have been faulting during some rmmods (timing decides which)
	firing=$(grep -c "^CYCLE .* r2=running " "$log")
	[ "$firing" -ge 1 ] || bad "no rmmod ran while the second runner's probes fired"
	per=$(grep "^CYCLE " "$log" | sed -n 's/.* t=\([0-9.]*\) .*/\1/p' | awk 'NR == 1 { a = $1 } { b = $1; n++ }
		END { if (n > 1) printf "%.1f", (b - a) / (n - 1); else print "?" }')
	echo "$v: guest seconds per cycle: $per"
	echo "$v: $n cycles, faults $(grep "^CYCLE " "$log" | head -1 | sed 's/.*faults=\([^ ]*\).*/\1/') each (vmmem/tracefs), kvm.ko reloaded $(grep -c 'kvm_reload=0' "$log") times, rmmod while probes fired $firing times, $(( $(date +%s) - start )) s"
done
[ $ok = 1 ] || fail "see BAD lines above"
echo "PASS: $cycles load/count/unload cycles per kernel, counts equal tracefs, kvm.ko reloads, no denylisted log line, nothing left loaded"
