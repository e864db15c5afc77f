#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the IPI rig's nested-KVM guest (tests/vm/test_ipi_nested.sh): loads KVM, then runs
# tests/tools/ipi_runner (vCPU 0 sends N x2APIC IPIs to vCPU 1, one at a time) under
# `vmmemtop snapshot` in three placements, while a private tracefs instance records
# kvm:kvm_apic_ipi (the oracle). One RESULT line per case: "name=vmmem/oracle" pairs and the
# state split; the host side judges them. Ends with ALLDONE and powers off.
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
			"p99_ns=$(vm .histograms.ipi_delivery_ns.p99_ns $rp) preemptions=$(vm .counters.vcpu_preemptions $rp)" \
			"preempted_count=$(vm .histograms.vcpu_preempted_ns.count $rp) preempted_p50_ns=$(vm .histograms.vcpu_preempted_ns.p50_ns $rp)" \
			"overruns=$(overruns)"
	done < /tmp/cases
	grep "unavailable: .*guest_ipis" /tmp/snap.err | sed 's/^/UNAVAILABLE /'
	# the IPI programs' verdicts, and libbpf's words when the kernel refused one
	grep -E "probe: .*(ipi_|vcpu_switch)|libbpf: .*(ipi_|vcpu_|task_storage)" /tmp/snap.err | head -40 | sed 's/^/VERDICT /'
	sed -n '/BEGIN PROG LOAD LOG/,/END PROG LOAD LOG/p' /tmp/snap.err | tail -25 | sed 's/^/VERIFIER /'
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
		run_case kmod-shared spin 0 0 0
		snapshot_stop
	fi
	rmmod vmmem
fi
echo "DMESG_BAD=$(dmesg | grep -cE 'BUG|WARNING|Oops|general protection|ipi_runner.*segfault')"
echo ALLDONE
poweroff -f
