#!/bin/sh
# /init of the nested-KVM guest (Debian's 6.1 kernel under TCG, -cpu max: SVM with NPT).
# Loads KVM, then for each case runs kvm_guest_runner under `vmmemtop snapshot` while a
# private tracefs instance records kvm:kvm_page_fault and kvm:kvm_exit (the oracle), and
# prints one RESULT line per runner for the host to check. Ends with ALLDONE and powers off.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tracefs nodev /sys/kernel/tracing
mkdir -p /tmp && mount -t tmpfs tmp /tmp
for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r)"
[ -c /dev/kvm ] || { echo "NOKVM"; echo ALLDONE; poweroff -f; }

T=/sys/kernel/tracing/instances/oracle
mkdir $T
echo 16384 > $T/buffer_size_kb
echo 1 > $T/options/record-tgid

# count_oracle EVENT TGID: lines of EVENT recorded for TGID
count_oracle() {
	awk -v ev="$1:" -v t="$2" 'index($0, ev) { if (match($0, /\( *[0-9]+\)/)) {
		g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } }
		END { print n + 0 }' $T/trace
}

# run_case BACKEND "K1:N1 K2:N2 ...": runners started together under one snapshot
run_case() {
	backend=$1; specs=$2; pids=""
	# the previous case's files say "counting" too: start from none
	rm -f /tmp/snap.err /tmp/snap.json
	for s in $specs; do
		kvm_guest_runner ${s%%:*} ${s##*:} > /tmp/runner.$s &
		pids="$pids $!"
	done
	vmmemtop snapshot -v --interval 120 --json --backend $backend > /tmp/snap.json 2> /tmp/snap.err &
	sp=$!
	i=0
	while ! grep -q "vmmemtop: counting" /tmp/snap.err; do
		i=$((i + 1)); [ $i -gt 600 ] && { echo "CASEFAIL $backend: vmmemtop did not start"; cat /tmp/snap.err; return; }
		kill -0 $sp 2>/dev/null || { echo "CASEFAIL $backend: vmmemtop exited"; grep -v "^libbpf|probe:" /tmp/snap.err; grep "^libbpf" /tmp/snap.err | grep -iE "fail|error|invalid|-[0-9]+$" | tail -12; return; }
		usleep 100000
	done
	echo > $T/trace
	echo 'kvm:kvm_page_fault kvm:kvm_exit' > $T/set_event
	echo 1 > $T/tracing_on
	kill -USR1 $pids
	for p in $pids; do wait $p; done
	sleep 1
	echo 0 > $T/tracing_on
	kill -INT $sp; wait $sp
	lost=0
	for f in $T/per_cpu/cpu*/stats; do lost=$((lost + $(awk '/^overrun:/ { print $2 }' $f))); done
	n=0
	for s in $specs; do
		set -- $pids; shift $n; p=$1; n=$((n + 1))
		v=$(jq -c --argjson p $p '[.vms[] | select(.pid == $p)][0] | {f: .counters.tdp_faults, e: .counters.exits,
			x: .exited, m4: .counters.tdp_map_4k, h: (.histograms.tdp_fault_ns.count // null)}' /tmp/snap.json)
		echo "RESULT backend=$backend k=${s%%:*} vcpus=${s##*:} pid=$p vmmem=$v oracle_faults=$(count_oracle kvm_page_fault $p) oracle_exits=$(count_oracle kvm_exit $p) overruns=$lost"
	done
	grep -i "notice\|error" /tmp/snap.err | head -5
}

run_case bpf "64:1"
run_case bpf "512:1"
run_case bpf "128:2 256:1"
[ -e /vmmem.ko ] && { insmod /vmmem.ko && run_case kmod "64:1" && run_case kmod "512:1" && run_case kmod "128:2 256:1"; }
echo ALLDONE
poweroff -f
