#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the KSM forecast rig's guest (Debian's 6.1 under TCG): nothing else in it has
# mergeable memory, so /sys/kernel/mm/ksm/pages_sharing belongs to the two workers alone.
# Two ksm_content workers (worker A THP-backed), `vmmemtop ksm-forecast` before ksmd ever
# runs, then ksmd until pages_sharing stops changing over 3 full scans (use_zero_pages=0),
# and again after unmerging with use_zero_pages=1 (oracle: pages_sharing plus the drop of the
# workers' smaps Anonymous, as a page mapped to the zero page is in no KSM counter on 6.1).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
K=/sys/kernel/mm/ksm
echo "KERNEL=$(uname -r) THP=$(cat /sys/kernel/mm/transparent_hugepage/enabled)"
echo 0 > $K/use_zero_pages
/bin/ksm_content -H 4242 1024 2048 512 1024 512 > /tmp/a.pid &
/bin/ksm_content 4242 1024 2048 512 1024 512 > /tmp/b.pid &
while [ ! -s /tmp/a.pid ] || [ ! -s /tmp/b.pid ]; do sleep 0.2; done
A=$(cat /tmp/a.pid) B=$(cat /tmp/b.pid)
echo "AnonHugePages A=$(awk '/^AnonHugePages/ { print $2 }' /proc/$A/smaps_rollup) kB"
/bin/vmmemtop ksm-forecast --pid $A --pid $B --json --no-save > /tmp/f.json 2> /tmp/err || {
	echo "CASEFAIL forecast: $(cat /tmp/err)"; echo ALLDONE; poweroff -f; }
echo "FORECAST $(jq -c .host /tmp/f.json)"
anon() { awk '/^Anonymous:/ { t += $2 } END { print t + 0 }' /proc/$A/smaps_rollup /proc/$B/smaps_rollup; }

converge() {
	local last=-1 same=0 n=0 scans s i
	echo 2000 > $K/pages_to_scan
	echo 20 > $K/sleep_millisecs
	echo 1 > $K/run
	scans=$(cat $K/full_scans)
	for i in $(seq 1 1500); do
		sleep 0.2
		[ "$(cat $K/full_scans)" -gt "$scans" ] || continue
		scans=$(cat $K/full_scans)
		n=$((n + 1))
		s=$(cat $K/pages_sharing)
		if [ "$s" -eq "$last" ]; then same=$((same + 1)); else same=0; fi
		last=$s
		[ $same -ge 3 ] && [ $n -ge 6 ] && [ "$s" -gt 0 ] && { echo $n; return 0; }
	done
	echo "CASEFAIL ksmd did not converge (pages_sharing $s)" >&2
	return 1
}
for uzp in 0 1; do
	echo 2 > $K/run
	echo $uzp > $K/use_zero_pages
	a0=$(anon)
	t0=$(date +%s)
	n=$(converge) || { echo ALLDONE; poweroff -f; }
	echo "RESULT uzp=$uzp pages_sharing=$(cat $K/pages_sharing) anon_drop_kb=$((a0 - $(anon))) full_scans=$n seconds=$(( $(date +%s) - t0 ))"
done
echo 2 > $K/run
echo ALLDONE
poweroff -f
