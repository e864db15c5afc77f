#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# KSM forecast against the real thing, where nothing else is mergeable: Debian's 6.1 under
# TCG (tests/vm/guest/ksm-forecast-init.sh). Two workers with known content (zero pages, pages
# shared across both, copies within each, random pages, read-only untouched memory; worker A
# THP-backed); `vmmemtop ksm-forecast` first, then ksmd until pages_sharing stops changing
# over 3 full scans. Oracle: the guest's /sys/kernel/mm/ksm/pages_sharing x 4096 against
# saved_bytes (use_zero_pages=0); pages_sharing x 4096 + the drop of the workers' smaps
# Anonymous (zero pages mapped to the zero page) against saved_bytes_use_zero_pages (=1).
# Within +-10 %. (On this host, other helpers' VMMs are mergeable too and make pages_sharing
# move by megabytes while they boot and stop: the host is no place for this oracle.)
set -u
. "$(dirname "$0")/lib/rig.sh"
. "$(dirname "$0")/../host/lib_ksm.sh"
command -v jq >/dev/null || skip "jq not installed"

INITRD=$TOPDIR/build/vm/ksm-forecast.cpio.gz
build_initramfs "$INITRD" "$(dirname "$0")/guest/ksm-forecast-init.sh" "" "$VMMEMTOP:/bin/vmmemtop" \
	"$(command -v jq):/bin/jq" "$TOOLS/ksm_content:/bin/ksm_content" || fail "cannot build the initramfs"
vm_start k "$INITRD" 512 -smp 1
vm_wait k ALLDONE 600 || fail "the guest did not finish; console: $(tail -20 "${VM_LOG[k]}")"
log=$TMP/console
tr -d '\r' < "${VM_LOG[k]}" > "$log"
grep -E "^(KERNEL|AnonHuge|FORECAST|RESULT|CASEFAIL)" "$log"
grep -q "^CASEFAIL" "$log" && fail "the case could not run"
f=$(sed -n 's/^FORECAST //p' "$log")
[ -n "$f" ] || fail "no forecast from the guest"
ok=1
for uzp in 0 1; do
	line=$(grep "^RESULT uzp=$uzp " "$log") || fail "no RESULT for use_zero_pages=$uzp"
	ps=$(sed 's/.*pages_sharing=\([0-9]*\).*/\1/' <<< "$line")
	drop=$(sed 's/.*anon_drop_kb=\(-*[0-9]*\).*/\1/' <<< "$line")
	if [ $uzp = 0 ]; then
		oracle=$((ps * 4096)) fc=$(jq -r .saved_bytes <<< "$f")
		what="pages_sharing x 4096"
	else
		oracle=$((ps * 4096 + drop * 1024)) fc=$(jq -r .saved_bytes_use_zero_pages <<< "$f")
		what="pages_sharing x 4096 + Anonymous drop $((drop * 1024))"
	fi
	echo "use_zero_pages=$uzp: oracle $what = $oracle, forecast = $fc ($(pct $oracle "$fc"))"
	within "$oracle" "$fc" || ok=0
done
[ $ok = 1 ] || fail "forecast outside +-10 % of what ksmd saved"
echo "PASS: KSM forecast within +-10 % of the converged pages_sharing (use_zero_pages=0 and 1)"
