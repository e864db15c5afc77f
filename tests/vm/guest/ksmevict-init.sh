#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the KSM + eviction rig's guest (a kernel under TCG -cpu max: SVM with NPT, kvm-amd).
# For each backend (bpf, then kmod when /vmmem.ko is there):
#  KSM: two ksm_worker VMMs (each holds a KVM VM) with 1000 identical pages and one with
#   1000 unique pages, ksmd run=1 in this kernel; a vmmemtop snapshot window around the
#   merging; prints per VMM the /proc/PID/ksm_merging_pages increase (oracle) and the
#   snapshot's ksm_merged_pages, and full_scans' increase beside the snapshot's scans.
#  Flushes: evict_runner with MADV_MERGEABLE guest RAM writes 512 identical pages (NPT maps
#   them), then idles; ksmd merges them under a vmmemtop snapshot and a recording of
#   flush_recv (its counter samples are the counts: one BPF load, not two). Oracles over the
#   window, where only ksmd changes mappings: the VM's debugfs remote_tlb_flush_requests
#   (every kvm_flush_remote_tlbs() call, virt/kvm/kvm_main.c) for the flushes it received;
#   tracefs tlb:tlb_flush reason 4 from ksmd for the shootdowns ksmd sent for its mm (a thread
#   of the runner spins, so that its mm stays loaded on the other CPU). With BPF, the same
#   recording then covers the other causes, one phase each, on a second VMM (flush_runner):
#   vmm, other, numa, khugepaged (see /lib/flushcause-lib.sh, and its oracle: the function
#   tracer's stacks of every kvm_flush_remote_tlbs call).
#  Eviction: evict_runner (a KVM VMM, 4096 guest pages) in a cgroup with memory.max 8 MiB
#   and a zram swap device: pass 1 writes every page (the cgroup limit swaps the rest out),
#   pass 2 writes them again (KVM faults them back in). Oracles over the window, with nothing
#   else here swapping: /proc/vmstat pswpin/pswpout, the cgroup's memory.stat pgmajfault.
#   With BPF, the flushes this VM receives meanwhile (cause kswapd: its vCPU thread reclaiming
#   in the cgroup, PF_MEMALLOC), against the same function-tracer oracle.
. /lib/kvm-guest-lib.sh
. /lib/flushcause-lib.sh
guest_boot
mount -t debugfs nodev /sys/kernel/debug
mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup
echo +memory > /sys/fs/cgroup/cgroup.subtree_control
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r)"
need_kvm
echo never > /sys/kernel/mm/transparent_hugepage/enabled

K=/sys/kernel/mm/ksm
merging() { cat /proc/$1/ksm_merging_pages 2>/dev/null || awk '/^ksm_merging_pages/ { print $2 }' /proc/$1/ksm_stat; }
vmstat() { awk -v k=$1 '$1 == k { n = $2 } END { print n + 0 }' /proc/vmstat; }
# swapped pages: written/read, and (6.12+) zero-filled ones kept in the swap zeromap, which
# take no I/O (swpout_zero/swpin_zero) but are swapped out and in all the same
swapped() { echo $(( $(vmstat pswp$1) + $(vmstat swp${1}_zero) )); }
# snap_start BACKEND: a snapshot window (ended by snap_end); SNAP is its pid
snap_start() {
	rm -f /tmp/snap.json /tmp/snap.err
	vmmemtop snapshot --interval 600 --json -v --backend $1 > /tmp/snap.json 2> /tmp/snap.err &
	SNAP=$!
	i=0
	while ! grep -q "^vmmemtop: counting" /tmp/snap.err 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 900 ] && { echo "CASEFAIL $1: vmmemtop did not start"; cat /tmp/snap.err; return 1; }
		kill -0 $SNAP 2>/dev/null || { echo "CASEFAIL $1: vmmemtop exited"; grep -v "^libbpf" /tmp/snap.err | tail -5; return 1; }
		usleep 100000
	done
	sleep 1.5	# discovery: the VMMs are found within a second
}
snap_end() {
	kill -INT $SNAP; wait $SNAP
	grep -E "probe: .*(stable_tree|lru_add|msecs|ksm_|hva_to_pfn|invalidate_range|swap_read)|kprobe|notice" /tmp/snap.err | sed "s/^/HOOK $1 /"
}
vmc() { jq -r --argjson p $2 "[.vms[] | select(.pid == \$p)][0].counters.$1" /tmp/snap.json; }

ksm_case() {
	b=$1
	echo 0 > $K/run
	rm -f /tmp/a.pid /tmp/b.pid /tmp/u.pid
	ksm_worker 1000 200 kvm > /tmp/a.pid & wa=$!
	ksm_worker 1000 200 kvm > /tmp/b.pid & wb=$!
	ksm_worker 0 1000 kvm > /tmp/u.pid & wu=$!
	i=0	# each prints its pid once its pages are set up: under load that takes more than 1 s
	while { [ ! -s /tmp/a.pid ] || [ ! -s /tmp/b.pid ] || [ ! -s /tmp/u.pid ]; } && [ $i -lt 300 ]; do
		usleep 100000; i=$((i + 1))
	done
	A=$(cat /tmp/a.pid) B=$(cat /tmp/b.pid) U=$(cat /tmp/u.pid)
	snap_start $b || return
	ma=$(merging $A) mb=$(merging $B) mu=$(merging $U) fs=$(cat $K/full_scans)
	echo 1000 > $K/pages_to_scan
	echo 20 > $K/sleep_millisecs
	echo 1 > $K/run
	i=0
	while [ $i -lt 600 ]; do
		[ "$(merging $A)" -ge $((ma + 1000)) ] && [ "$(merging $B)" -ge $((mb + 1000)) ] &&
			[ "$(cat $K/full_scans)" -ge $((fs + 3)) ] && break
		i=$((i + 1)); usleep 100000
	done
	echo 0 > $K/run		# ksmd ends its batch under ksm_thread_mutex, then scans no more
	sleep 1
	da=$(( $(merging $A) - ma )) db=$(( $(merging $B) - mb )) du=$(( $(merging $U) - mu ))
	dfs=$(( $(cat $K/full_scans) - fs ))
	snap_end $b
	for p in "$A $da" "$B $db" "$U $du"; do
		set -- $p
		echo "KSM backend=$b pid=$1 oracle=$2 vmmem=$(vmc ksm_merged_pages $1) inval_ksm=$(vmc mmu_inval_ksm_bytes $1)"
	done
	echo "SCANS backend=$b oracle=$dfs vmmem=$(jq -r .host.counters.ksm_scans /tmp/snap.json) scan_ns=$(jq -r .host.histograms.ksm_scan_ns.sum_ns /tmp/snap.json) hist=$(jq -r .host.histograms.ksm_scan_ns.count /tmp/snap.json)"
	kill $wa $wb $wu; wait $wa $wb $wu 2>/dev/null
	echo 2 > $K/run; sleep 0.5; echo 0 > $K/run	# unmerge: the next case starts from nothing shared
}

flush_case() {
	b=$1
	echo 0 > $K/run
	rm -f /tmp/fr.out /tmp/f.rec /tmp/f.json
	evict_runner 512 merge > /tmp/fr.out 2> /tmp/fr.err & wf=$!
	i=0; while [ ! -s /tmp/fr.out ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
	R=$(head -n 1 /tmp/fr.out)
	[ -n "$R" ] || { echo "CASEFAIL flush $b: evict_runner did not start: $(cat /tmp/fr.err)"; return; }
	FR=
	[ $b = bpf ] && { fr_start; [ -n "$FR" ] || echo "CASEFAIL flush $b: flush_runner did not start: $(cat /tmp/fl.err)"; }
	kill -USR1 $R
	i=0; while ! grep -q "^pass 1" /tmp/fr.out && [ $i -lt 600 ]; do usleep 100000; i=$((i + 1)); done
	D=$(ls -d /sys/kernel/debug/kvm/$R-* 2>/dev/null | head -n 1)
	[ -n "$D" ] || { echo "CASEFAIL flush $b: no debugfs kvm/$R-*"; kill $wf; wait $wf; return; }
	if [ -n "$FR" ]; then
		DF=$(ls -d /sys/kernel/debug/kvm/$FR-* 2>/dev/null | head -n 1)
		[ -n "$DF" ] || { echo "CASEFAIL flush $b: no debugfs kvm/$FR-*"; FR=; }
	fi
	# one BPF load (10-50 s under TCG): the recording's counter samples are the counts
	vmmemtop record -o /tmp/f.rec --backend $b --events default,flush_recv 2> /tmp/frec.err & rp=$!
	i=0; while ! grep -q "recording to" /tmp/frec.err && [ $i -lt 900 ]; do usleep 100000; i=$((i + 1)); done
	sleep 2		# a recorded sample before the merging starts
	T=/sys/kernel/tracing
	echo 0 > $T/tracing_on; echo > $T/trace; echo 'reason == 4' > $T/events/tlb/tlb_flush/filter
	echo 1 > $T/events/tlb/tlb_flush/enable
	[ -n "$FR" ] && ftrace_flushes_on
	echo 1 > $T/tracing_on
	f0=$(cat $D/remote_tlb_flush_requests) r0=$(cat $D/remote_tlb_flush) m0=$(merging $R)
	[ -n "$FR" ] && fq0=$(cat $DF/remote_tlb_flush_requests)
	echo 1000 > $K/pages_to_scan; echo 20 > $K/sleep_millisecs; echo 1 > $K/run
	i=0; while [ "$(merging $R)" -lt $((m0 + 512)) ] && [ $i -lt 600 ]; do usleep 100000; i=$((i + 1)); done
	echo 0 > $K/run
	sleep 2.5	# and one after it
	f1=$(cat $D/remote_tlb_flush_requests) r1=$(cat $D/remote_tlb_flush) m1=$(merging $R)
	fk=$((f1 - f0))	# ksmd's phase
	[ -n "$FR" ] && { echo "PHASE ksmd flushes=$fk" > /tmp/phases.txt; flush_phases; cat /tmp/phases.txt; sleep 2; }
	f1=$(cat $D/remote_tlb_flush_requests) r1=$(cat $D/remote_tlb_flush)
	echo 0 > $T/tracing_on; echo 0 > $T/events/tlb/tlb_flush/enable
	# ksmd's shootdowns: only this runner's memory is mergeable now
	shoot=$(grep -c '^ *ksmd-.* tlb_flush:' $T/trace); echo 0 > $T/events/tlb/tlb_flush/filter
	if [ -n "$FR" ]; then
		flushes_oracle "$(echo $(ls /proc/$R/task /proc/$FR/task | grep '^[0-9]'))" > /tmp/fo.txt
		grep '^STACK' /tmp/fo.txt | cut -c1-400
		FO=$(grep '^total=' /tmp/fo.txt)
		ftrace_flushes_off
	fi
	kill -INT $rp; wait $rp
	grep -E "notice: unavailable: .*(flushes_recv|shootdowns_recv)" /tmp/frec.err | cut -c1-200 | sed "s/^/HOOK $b /"
	vmmemtop report /tmp/f.rec --json > /tmp/f.json 2> /tmp/frep.err || { echo "CASEFAIL flush $b: report failed"; cat /tmp/frep.err; }
	rc() { jq -r --argjson p $R "[.vms[] | select(.pid == \$p)][0].counters.$1" /tmp/f.json; }
	sum=0
	for c in ksmd khugepaged kcompactd kswapd numa vmm other; do
		v=$(rc flushes_recv_$c); eval "fl_$c=$v"; [ "$v" = null ] || sum=$((sum + v))
	done
	[ "$fl_ksmd" = null ] && sum=null
	echo "FLUSH backend=$b pid=$R oracle=$((f1 - f0)) vmmem=$sum ksmd=$fl_ksmd ksmd_window=$fk vmm=$fl_vmm other=$fl_other" \
	     "kcompactd=$fl_kcompactd kswapd=$fl_kswapd numa=$fl_numa khugepaged=$fl_khugepaged" \
	     "kvm_remote_tlb_flushes=$(rc kvm_remote_tlb_flushes) merged=$((m1 - m0)) ipi_flushes=$((r1 - r0))"
	echo "SHOOT backend=$b pid=$R oracle=$shoot vmmem=$(rc shootdowns_recv_ksmd) other=$(rc shootdowns_recv_other)" \
	     "kswapd=$(rc shootdowns_recv_kswapd) own=$(rc tlb_shootdown_ipis)"
	if [ $b = bpf ]; then
		echo "FLUSHREC backend=$b $(jq -r --argjson p $R '[.vms[] | select(.pid == $p)][0] |
			"ksmd=\(.flushes_received.by_cause.ksmd) recorded=\(.events.flush_recv) lost=\(.lost.flush_recv) exact=\(.reconcile.flush_recv.exact) tasks=\(.flushes_received.by_task | length)"' /tmp/f.json)" \
			"ksmd_pid=$(pidof ksmd) task=$(jq -r --argjson p $R '[.vms[] | select(.pid == $p)][0].flushes_received.by_task[0] | "\(.pid)/\(.cause)"' /tmp/f.json)"
		vmmemtop report /tmp/f.rec --pid $R 2>&1 | sed -n '/flushes received by cause/,/shootdowns other/p' | sed 's/^/FLUSHREPORT /'
	fi
	if [ -n "$FR" ]; then
		# per cause, both VMs: the counters, the recording's flush_recv records (by causing
		# task and cause), the oracle
		tot=$(( $(rc kvm_remote_tlb_flushes) + $(jq -r --argjson p $FR "[.vms[] | select(.pid == \$p)][0].counters.kvm_remote_tlb_flushes" /tmp/f.json) ))
		echo "FLUSHALL backend=$b oracle=$((f1 - f0 + $(cat $DF/remote_tlb_flush_requests) - fq0)) vmmem=$tot $FO"
		for c in ksmd khugepaged kcompactd kswapd numa vmm other; do
			echo "CAUSE backend=$b cause=$c oracle=$(echo "$FO" | sed -n "s/.* $c=\([0-9]*\).*/\1/p")" \
			     "vmmem=$(jq -r --argjson r $R --argjson f $FR "[.vms[] | select(.pid == \$r or .pid == \$f) | .counters.flushes_recv_$c] | add" /tmp/f.json)" \
			     "records=$(jq -r --argjson r $R --argjson f $FR "[.vms[] | select(.pid == \$r or .pid == \$f) | .flushes_received.by_task[] | select(.cause == \"$c\") | .flushes] | add // 0" /tmp/f.json)" \
			     "$(grep "^PHASE $c " /tmp/phases.txt | cut -d' ' -f3-)"
		done
		fr_stop
	fi
	kill $wf; wait $wf 2>/dev/null
	echo 2 > $K/run; sleep 0.5; echo 0 > $K/run
}

evict_case() {
	b=$1
	mkdir -p /sys/fs/cgroup/vm
	echo 8M > /sys/fs/cgroup/vm/memory.max
	rm -f /tmp/runner.out	# else the wait below may see the last case's output
	evict_runner 4096 > /tmp/runner.out 2> /tmp/runner.err &
	wr=$!
	i=0; while [ ! -s /tmp/runner.out ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
	R=$(head -n 1 /tmp/runner.out)
	[ -n "$R" ] || { echo "CASEFAIL $b: evict_runner did not start: $(cat /tmp/runner.err)"; dmesg | tail -20; return; }
	echo $R > /sys/fs/cgroup/vm/cgroup.procs
	snap_start $b || { kill $wr; wait $wr; return; }
	pin=$(swapped in) pout=$(swapped out)
	cgmaj=$(awk '$1 == "pgmajfault" { print $2 }' /sys/fs/cgroup/vm/memory.stat)
	maj=$(awk '{ print $12 }' /proc/$R/stat)
	# flushes by cause: only the runner's vCPU thread reclaiming in its cgroup (PF_MEMALLOC)
	DE=$(ls -d /sys/kernel/debug/kvm/$R-* 2>/dev/null | head -n 1)
	[ $b = bpf ] && [ -n "$DE" ] && { ftrace_flushes_on; e0=$(cat $DE/remote_tlb_flush_requests); }
	for pass in 1 2; do
		kill -USR1 $R
		i=0; while ! grep -q "^pass $pass" /tmp/runner.out && [ $i -lt 1200 ]; do usleep 100000; i=$((i + 1)); done
	done
	sleep 1
	dpin=$(( $(swapped in) - pin )) dpout=$(( $(swapped out) - pout ))
	dcgmaj=$(( $(awk '$1 == "pgmajfault" { print $2 }' /sys/fs/cgroup/vm/memory.stat) - cgmaj ))
	dmaj=$(( $(awk '{ print $12 }' /proc/$R/stat) - maj ))
	if [ $b = bpf ] && [ -n "$DE" ]; then
		e1=$(cat $DE/remote_tlb_flush_requests)
		flushes_oracle "$(echo $(ls /proc/$R/task))" > /tmp/fo.txt
		ftrace_flushes_off
		grep '^STACK' /tmp/fo.txt | cut -c1-400
	fi
	snap_end $b
	if [ $b = bpf ] && [ -n "$DE" ]; then
		FO=$(grep '^total=' /tmp/fo.txt)
		echo "EVICTFLUSH backend=$b oracle=$((e1 - e0)) vmmem=$(vmc kvm_remote_tlb_flushes $R) $FO"
		for c in ksmd khugepaged kcompactd kswapd numa vmm other; do
			echo "ECAUSE backend=$b cause=$c oracle=$(echo "$FO" | sed -n "s/.* $c=\([0-9]*\).*/\1/p") vmmem=$(vmc flushes_recv_$c $R)"
		done
	fi
	echo "EVICT backend=$b pid=$R passes=$(grep -c '^pass' /tmp/runner.out) pswpin=$dpin pswpout=$dpout cg_pgmajfault=$dcgmaj proc_majflt=$dmaj" \
	     "swapin_bytes=$(vmc swapin_bytes $R) kvm_major_faults=$(vmc kvm_major_faults $R)" \
	     "reclaim=$(vmc mmu_inval_reclaim_bytes $R) migrate=$(vmc mmu_inval_migrate_bytes $R) numa=$(vmc mmu_inval_numa_bytes $R)" \
	     "ksm=$(vmc mmu_inval_ksm_bytes $R) vmm=$(vmc mmu_inval_vmm_bytes $R) other=$(vmc mmu_inval_other_bytes $R)" \
	     "fact_majflt=$(jq -r --argjson p $R '[.vms[] | select(.pid == $p)][0].majflt' /tmp/snap.json)" \
	     "fact_cg=$(jq -c --argjson p $R '[.vms[] | select(.pid == $p)][0].cgroup' /tmp/snap.json)"
	kill $wr; wait $wr 2>/dev/null
}

echo 134217728 > /sys/block/zram0/disksize && busybox mkswap /dev/zram0 > /dev/null && busybox swapon /dev/zram0 ||
	echo "CASEFAIL: no zram swap"
# KSMEVICT_BACKENDS / KSMEVICT_CASES (kernel parameters, VM_APPEND, comma-separated): a subset,
# for debugging, e.g. VM_APPEND="KSMEVICT_CASES=flush,evict KSMEVICT_BACKENDS=bpf"
for b in $(echo ${KSMEVICT_BACKENDS:-bpf,kmod} | tr , ' '); do
	if [ $b = kmod ]; then
		[ -e /vmmem.ko ] || break
		insmod /vmmem.ko || { echo "CASEFAIL kmod: insmod vmmem.ko failed"; break; }
	fi
	for c in $(echo ${KSMEVICT_CASES:-ksm,flush,evict} | tr , ' '); do ${c}_case $b; done
done
dmesg | grep -E "WARNING|BUG|Oops|lockup|stall" | head -5 | sed 's/^/DMESG /'
echo ALLDONE
poweroff -f
