#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the record rig's guest (a kernels.sh kernel under TCG, -cpu max: SVM with NPT).
# For each backend (bpf, then kmod when /vmmem.ko is there), runs two kvm_guest_runner VMMs
# under `vmmemtop record --events default,tdp_fault,exit --slow-us 100` while a
# private tracefs instance records kvm:kvm_page_fault and kvm:kvm_exit (the oracle), then prints
# one RESULT line per runner: what the recording holds, the counters' increase over its window,
# the tracefs counts, and whether the faulting addresses recorded are the ones tracefs saw.
. /lib/kvm-guest-lib.sh
guest_boot
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r)"
need_kvm
runners_create_early
# 4 KiB NPT faults on every kernel
echo madvise > /sys/kernel/mm/transparent_hugepage/enabled

oracle_instance 16384

# addresses TGID: the faulting guest addresses tracefs saw, then those recorded, one per line
# (hex without 0x or leading zeros; 6.1 prints "address %lx", the recording "a=0x%llx")
oracle_addrs() {
	awk -v t="$1" '/kvm_page_fault:/ { if (match($0, /\( *[0-9]+\)/)) { g = substr($0, RSTART + 1, RLENGTH - 2);
		gsub(/ /, "", g); if (g != t) next } if (match($0, /address (0x)?[0-9a-f]+/)) { a = substr($0, RSTART + 8, RLENGTH - 8);
		sub(/^0x/, "", a); sub(/^0+/, "", a); print a } }' $T/trace | sort
}
recorded_addrs() {
	awk -v t="pid=$1" '$2 == t && $5 == "type=tdp_fault" { a = substr($6, 5); sub(/^0+/, "", a); print a }' /tmp/r.dump | sort
}
# run_case BACKEND [LABEL stop]: both runners under one recording through BACKEND, then
# RESULT lines; with "stop", the recorder is stopped (SIGSTOP) while the runners run, so a
# small ring must drop records and the recording must account for every one
run_case() {
	backend=$1 label=${2:-$1} stop=${3:-}
	rm -f /tmp/r.rec /tmp/rec.err /tmp/r.json /tmp/r.dump
	kvm_guest_runner 256 1 > /tmp/runner.a &
	pa=$!
	kvm_guest_runner 128 2 > /tmp/runner.b &
	pb=$!
	vmmemtop record -o /tmp/r.rec --backend $backend --events default,tdp_fault,exit --slow-us 100 2> /tmp/rec.err &
	rp=$!
	i=0
	while ! grep -q "recording to" /tmp/rec.err; do
		i=$((i + 1)); [ $i -gt 900 ] && { echo "CASEFAIL $backend: vmmemtop record did not start"; cat /tmp/rec.err; return; }
		kill -0 $rp 2>/dev/null || { echo "CASEFAIL $backend: vmmemtop record exited"; grep -v "^libbpf" /tmp/rec.err | tail -5; return; }
		usleep 100000
	done
	sleep 2		# a sample before the runners start: the window opens quiet
	echo > $T/trace
	echo 'kvm:kvm_page_fault kvm:kvm_exit' > $T/set_event
	echo 1 > $T/tracing_on
	[ -n "$stop" ] && kill -STOP $rp
	kill -USR1 $pa $pb
	wait $pa; wait $pb
	[ -n "$stop" ] && kill -CONT $rp
	sleep 2		# and closes quiet
	echo 0 > $T/tracing_on
	kill -INT $rp; wait $rp; echo "RECORD_EXIT backend=$backend rc=$?"
	grep "recorded" /tmp/rec.err
	lost=0
	for f in $T/per_cpu/cpu*/stats; do lost=$((lost + $(awk '/^overrun:/ { print $2 }' $f))); done
	vmmemtop report /tmp/r.rec --json > /tmp/r.json 2> /tmp/rep.err || { echo "CASEFAIL $backend: report failed"; cat /tmp/rep.err; }
	vmmemtop report /tmp/r.rec --dump > /tmp/r.dump 2>> /tmp/rep.err || { echo "CASEFAIL $backend: report --dump failed"; cat /tmp/rep.err; }
	vmmemtop report /tmp/r.rec | head -24
	for p in $pa $pb; do
		case $p in $pa) k=256 vc=1 ;; *) k=128 vc=2 ;; esac
		v=$(jq -c --argjson p $p '[.vms[] | select(.pid == $p)][0] | {rf: .events.tdp_fault, lf: .lost.tdp_fault,
			if: .counters.tdp_faults, re: .events.exit, le: .lost.exit, ie: .counters.exits, x: .exited,
			out: .events_outside_window}' /tmp/r.json)
		oa=$(oracle_addrs $p | md5sum | cut -c1-12); ra=$(recorded_addrs $p | md5sum | cut -c1-12)
		na=$(recorded_addrs $p | wc -l)
		echo "RESULT backend=$label k=$k vcpus=$vc pid=$p rec=$v oracle_faults=$(count_oracle kvm_page_fault $p) oracle_exits=$(count_oracle kvm_exit $p) overruns=$lost addrs=$na oracle_addrs_md5=$oa rec_addrs_md5=$ra complete=$(jq -r .complete /tmp/r.json)"
	done
	# --slow-us 100: slow_fault/slow_exit records, each at least 100 us, in the slowest list
	awk -v b=$backend '$5 == "type=slow_fault" || $5 == "type=slow_exit" { n++; d = substr($8, 8); if (d + 0 < 100000) bad++ }
		END { printf "SLOW backend=%s n=%d below_threshold=%d\n", b, n, bad }' /tmp/r.dump
	echo "SLOWEST backend=$backend $(jq -c '[.slowest[] | select(.event == "slow_fault" or .event == "slow_exit")] | length' /tmp/r.json) $(jq -c '.slowest[0] | {event, dur_ns, vm, thread}' /tmp/r.json)"
}

run_case bpf
[ -e /vmmem.ko ] && { insmod /vmmem.ko && run_case kmod || echo "CASEFAIL kmod: insmod vmmem.ko failed"; }
# 64 records per CPU and a recorder that cannot drain: records are lost, and counted per VM
[ -e /vmmem.ko ] && { rmmod vmmem && insmod /vmmem.ko ring_size=64 && run_case kmod kmod-lossy stop ||
	echo "CASEFAIL kmod-lossy: reloading vmmem.ko failed"; }
echo ALLDONE
poweroff -f
