#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the IPI rig's nested-KVM guest (tests/vm/test_ipi_nested.sh): loads KVM, then runs
# tests/tools/ipi_runner (vCPU 0 sends N x2APIC IPIs to vCPU 1, one at a time) under
# `vmmemtop snapshot` in three placements, with BPF and then with vmmem.ko, while a private
# tracefs instance records kvm:kvm_apic_ipi (the oracle); the module's shared case also under
# `vmmemtop record`. One RESULT line per case: "name=vmmem/oracle" pairs and the state split,
# and a RECORD line; the host side judges them. Ends with ALLDONE and powers off.
. /lib/kvm-guest-lib.sh
guest_boot
echo "START $(date)"; echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r) CPUS=$(grep -c ^processor /proc/cpuinfo)"
runners_create_early
need_kvm
N=$(cat /etc/ipi_n)
oracle_instance 4096

vm() { jq -r --argjson p "$2" "[.vms[] | select(.pid == \$p)][0] | $1" /tmp/snap.json < /dev/null; }

# snapshot_start BACKEND / snapshot_stop: one vmmemtop snapshot (and one oracle trace) around
# several cases; each case's runner is its own VM, read by pid
snapshot_start() {
	backend=$1
	rm -f /tmp/snap.err
	/bin/vmmemtop snapshot -v --interval 300 --json --backend $backend > /tmp/snap.json 2> /tmp/snap.err &
	sp=$!
	tries=0
	while ! grep -q "vmmemtop: counting" /tmp/snap.err 2>/dev/null; do
		tries=$((tries + 1)); [ $tries -gt 900 ] && { echo "CASEFAIL $backend: vmmemtop did not start"; cat /tmp/snap.err; return 1; }
		usleep 100000
	done
	oracle_start kvm:kvm_apic_ipi
	: > /tmp/cases
}

# run_case NAME RUNNER-ARGS...: one runner to its end
run_case() {
	name=$1; shift
	ipi_runner $N "$@" > /tmp/runner.out 2>&1 &
	rp=$!
	# it prints its pid once its SIGUSR1 handler is set (bounded wait: 20 s)
	tries=0
	while ! grep -q "^$rp$" /tmp/runner.out 2>/dev/null && [ $tries -lt 200 ]; do tries=$((tries + 1)); usleep 100000; done
	start=$(cut -d' ' -f1 /proc/uptime)
	kill -USR1 $rp
	wait $rp; rc=$?
	grep -q "^done ipis=$N$" /tmp/runner.out || echo "CASEFAIL $name: runner rc=$rc: $(cat /tmp/runner.out | tr '\n' ' ')"
	cp /tmp/runner.out /tmp/runner-$name.out
	echo "$name $rp $(awk -v s=$start '{ printf "%.1f", $1 - s }' /proc/uptime)" >> /tmp/cases
}

snapshot_stop() {
	sleep 0.5
	echo 0 > $T/tracing_on
	kill -INT $sp; wait $sp
	while read name rp secs; do
		echo "RESULT case=$name backend=$backend pid=$rp n=$N secs=$secs" \
			"guest_ipis=$(vm .counters.guest_ipis $rp)/$(count_oracle kvm_apic_ipi $rp)" \
			"ipi_delivery_count=$(vm .histograms.ipi_delivery_ns.count $rp)/$N" \
			"to_preempted=$(vm .counters.guest_ipis_to_preempted $rp) to_halted=$(vm .counters.guest_ipis_to_halted $rp)" \
			"to_running=$(vm .counters.guest_ipis_to_running $rp) p50_ns=$(vm .histograms.ipi_delivery_ns.p50_ns $rp)" \
			"p99_ns=$(vm .histograms.ipi_delivery_ns.p99_ns $rp) sum_ns=$(vm .histograms.ipi_delivery_ns.sum_ns $rp) preemptions=$(vm .counters.vcpu_preemptions $rp)" \
			"preempted_count=$(vm .histograms.vcpu_preempted_ns.count $rp) preempted_p50_ns=$(vm .histograms.vcpu_preempted_ns.p50_ns $rp)" \
			"overruns=$(overruns)"
	done < /tmp/cases
	grep "unavailable: .*guest_ipis" /tmp/snap.err | sed 's/^/UNAVAILABLE /'
	# the IPI programs' verdicts, and libbpf's words when the kernel refused one
	grep -E "probe: .*(ipi_|vcpu_switch)|libbpf: .*(ipi_|vcpu_|task_storage)" /tmp/snap.err | head -40 | sed 's/^/VERDICT /'
	sed -n '/BEGIN PROG LOAD LOG/,/END PROG LOAD LOG/p' /tmp/snap.err | tail -25 | sed 's/^/VERIFIER /'
}

# record_start BACKEND / record_stop: `vmmemtop record` (default events: slow_ipi among them)
# around one case, beside the snapshot. The slow threshold is 2^20 ns exactly, a log2 slot
# boundary of ipi_delivery_ns, so the snapshot's histogram says how many IPIs were slow.
SLOW_NS=1048576
record_start() {
	rm -f /tmp/ipi.rec /tmp/rec.err
	/bin/vmmemtop record -o /tmp/ipi.rec --backend $1 --slow-us 1048.576 2> /tmp/rec.err &
	rcp=$!
	tries=0
	while ! grep -q "recording to" /tmp/rec.err 2>/dev/null; do
		tries=$((tries + 1)); [ $tries -gt 900 ] && { echo "CASEFAIL record $1: vmmemtop record did not start"; cat /tmp/rec.err; return 1; }
		kill -0 $rcp 2>/dev/null || { echo "CASEFAIL record $1: vmmemtop record exited"; tail -5 /tmp/rec.err; return 1; }
		usleep 100000
	done
}

record_stop() {
	kill -INT $rcp; wait $rcp; echo "RECORD_EXIT rc=$?"
}

# record_check NAME (after snapshot_stop): the case's slow_ipi records against the snapshot's
# ipi_delivery_ns slots >= 2^20 ns (each IPI of the runner is sent once the previous one was
# handled, so every delivering entry closes exactly one IPI: one record each), each naming
# vCPU 1's thread (the runner printed it) as the target (record tid and a) and vCPU 0's as the
# sender (b); and report's IPI section
record_check() {
	name=$1
	rp=$(awk -v n=$name '$1 == n { print $2 }' /tmp/cases)
	t0=$(sed -n 's/^vcpu 0 tid=//p' /tmp/runner-$name.out)
	t1=$(sed -n 's/^vcpu 1 tid=//p' /tmp/runner-$name.out)
	/bin/vmmemtop report /tmp/ipi.rec --dump > /tmp/ipi.dump 2> /tmp/rep.err || { echo "CASEFAIL record: report --dump failed"; cat /tmp/rep.err; }
	/bin/vmmemtop report /tmp/ipi.rec --json > /tmp/ipi.json 2>> /tmp/rep.err || { echo "CASEFAIL record: report --json failed"; cat /tmp/rep.err; }
	/bin/vmmemtop report /tmp/ipi.rec --pid $rp > /tmp/ipi.txt 2>> /tmp/rep.err || { echo "CASEFAIL record: report failed"; cat /tmp/rep.err; }
	sed -n '/guest IPIs/,/^$/p' /tmp/ipi.txt | head -20 | sed 's/^/REPORT /'
	awk -v p="pid=$rp" -v t1=$t1 -v t0=$t0 -v min=$SLOW_NS '$2 == p && $5 == "type=slow_ipi" { n++
		if ($3 != "tid=" t1 || $6 != sprintf("a=0x%x", t1) || $7 != sprintf("b=0x%x", t0)) bad++
		if (substr($8, 8) + 0 < min) below++ }
		END { printf "slow_ipis=%d bad_threads=%d below=%d", n, bad, below }' /tmp/ipi.dump > /tmp/ipi.res
	echo "RECORD case=$name backend=$backend pid=$rp vcpu0=$t0 vcpu1=$t1 $(cat /tmp/ipi.res)" \
		"hist_slow=$(vm '[.histograms.ipi_delivery_ns.log2_ns[20:][]] | add // 0' $rp)" \
		"lost=$(jq -r --argjson p $rp '[.vms[] | select(.pid == $p)][0].lost.slow_ipi' /tmp/ipi.json)" \
		"dropped=$(jq -r .lost_events /tmp/ipi.json) complete=$(jq -r .complete /tmp/ipi.json)" \
		"section=$(grep -c 'guest IPIs' /tmp/ipi.txt) slowest_ipi=$(jq -c '[.slowest[] | select(.event == "slow_ipi")] | length' /tmp/ipi.json)"
}

# vCPU 1 spinning on a CPU of its own; vCPU 1 in HLT on its own CPU; both vCPUs and a busy
# thread sharing CPU 0 (vCPU 1 is runnable but off CPU when each IPI is sent)
if snapshot_start bpf; then
	run_case bpf-own-spin spin 0 1
	run_case bpf-own-halt halt 0 1
	run_case bpf-shared spin 0 0 0
	snapshot_stop
fi
if [ -e /vmmem.ko ]; then
	insmod /vmmem.ko || echo "CASEFAIL kmod: insmod failed"
	if snapshot_start kmod; then
		run_case kmod-own-spin spin 0 1
		run_case kmod-own-halt halt 0 1
		record_start kmod && rec=1 || rec=0
		run_case kmod-shared spin 0 0 0
		[ $rec = 1 ] && record_stop
		snapshot_stop
		[ $rec = 1 ] && record_check kmod-shared
	fi
	rmmod vmmem
fi
echo "DMESG_BAD=$(dmesg | grep -cE 'BUG|WARNING|Oops|general protection|ipi_runner.*segfault')"
echo ALLDONE
poweroff -f
