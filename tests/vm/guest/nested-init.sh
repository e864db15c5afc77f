#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the nested-KVM guest (one of tests/vm/lib/kernels.sh's kernels under TCG, -cpu max:
# SVM with NPT).
# Loads KVM, then runs each case with kvm_guest_runner (a tiny VMM) under `vmmemtop
# snapshot` while a private tracefs instance records the oracle events, and prints one
# RESULT line per runner: "name=vmmem/oracle" pairs the host compares (test_nested_kvm.sh).
# Cases run with the BPF backend, then with vmmem.ko (kmod backend), as root and as an
# unprivileged member of the device's group, and end with the module's unload tests.
# Every phase prints "TIME <phase> <seconds since boot>". A case the kernel cannot run prints
# "NOTRUN case=NAME reason=..."; the kernel log is checked against /etc/denylist at the end
# ("DENY <line>" for each hit, then "DMESG_BAD=N"). Ends with ALLDONE and powers off.
. /lib/kvm-guest-lib.sh
guest_boot
mount -t debugfs nodev /sys/kernel/debug
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r)"
runners_create_early
# THP as 6.1 defaults it on every kernel (6.12's Debian build says always): a runner's 2 MiB
# memslot backed by a host huge page would take one NPT fault for all of its 512 pages
echo madvise > /sys/kernel/mm/transparent_hugepage/enabled
need_kvm
ip link set lo up
# a monitoring user in the device's group, and one outside it
printf 'root:x:0:0::/:/bin/sh\nmon:x:1000:1000::/tmp:/bin/sh\nother:x:1001:1001::/tmp:/bin/sh\n' > /etc/passwd
printf 'root:x:0:\nvmmem:x:990:mon\nmon:x:1000:\nother:x:1001:\n' > /etc/group
VMMEM_GID=990
phase() { echo "TIME $1 $(cut -d' ' -f1 /proc/uptime)"; }

oracle_instance 16384
# count_oracle (kvm-guest-lib.sh) reads the copy oracle_stop takes
ORACLE=/tmp/oracle.txt

# runner_oracle TGID: "FAULTS EXITS SPTE_REQUESTED_4K SET_SPTE_4K GUEST_DISCARDS DONTNEED_BYTES
# WILLNEED_BYTES" of that tgid, in one pass (each awk is a fork and a read of the whole trace:
# seconds apiece under TCG on a loaded host). GUEST_DISCARDS: its MADV_DONTNEED calls of
# exactly kvm_guest_runner's balloon chunk (64 KiB = 0x10000; 6.1 prints it without 0x), its
# discards of guest RAM (glibc's of dead vCPU threads' stacks are megabytes); the BYTES: sums
# of len_in of its MADV_DONTNEED (4) and MADV_WILLNEED (3) calls (hex in the trace)
runner_oracle() {
	awk -v t="$1" 'function hex(s,  i, v) { v = 0; s = tolower(s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1; return v }
		match($0, /\( *[0-9]+\)/) {
		g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g != t) next
		if (index($0, "kvm_page_fault:")) pf++
		if (index($0, "kvm_exit:")) ex++
		if (index($0, "kvm_mmu_spte_requested:") && $0 ~ / level 1$/) rq++
		if (index($0, "kvm_mmu_set_spte:") && $0 ~ / level 1 /) st++
		if (!index($0, "sys_madvise(")) next
		if ($0 ~ /len_in: (0x)?10000, behavior: (0x)?4\)/) gd++
		b = index($0, "behavior: 4)") ? 4 : index($0, "behavior: 3)") ? 3 : 0
		if (b && match($0, /len_in: [0-9a-f]+/)) by[b] += hex(substr($0, RSTART + 8, RLENGTH - 8)) }
		END { printf "%d %d %d %d %d %d %d\n", pf, ex, rq, st, gd, by[4], by[3] }' /tmp/oracle.txt
}

# madvise_calls TGID BEHAVIOR: that tgid's madvise calls with BEHAVIOR
madvise_calls() {
	awk -v t="$1" -v b="behavior: $2)" 'index($0, "sys_madvise(") && index($0, b) && match($0, /\( *[0-9]+\)/) {
		g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (g == t) n++ } END { print n + 0 }' /tmp/oracle.txt
}


# oracle_stop: end the recording; the count functions above read its copy (formatting the
# trace anew for each count is slow under TCG)
oracle_stop() {
	echo 0 > $T/tracing_on
	cat $T/trace > /tmp/oracle.txt
}


# as USER CMD: run CMD as USER (root runs it directly)
as() { u=$1; shift; if [ "$u" = root ]; then sh -c "$*"; else su -s /bin/sh "$u" -c "$*"; fi; }

# snapshot_start BACKEND USER [ARGS]: vmmemtop snapshot in the background until snapshot_stop
snapshot_start() {
	rm -f /tmp/snap.err /tmp/snap.json
	as "$2" "/bin/vmmemtop snapshot -v --interval 1800 --json --backend $1 $3 > /tmp/snap.json 2> /tmp/snap.err" &
	sp=$!
	tries=0
	while ! grep -q "vmmemtop: counting" /tmp/snap.err 2>/dev/null; do
		tries=$((tries + 1)); [ $tries -gt 600 ] && { echo "CASEFAIL $1: vmmemtop did not start"; cat /tmp/snap.err; return 1; }
		kill -0 $sp 2>/dev/null || { echo "CASEFAIL $1: vmmemtop exited"; grep -v "^libbpf\|probe:" /tmp/snap.err | head; return 1; }
		usleep 100000
	done
}

snapshot_stop() {
	killall -INT vmmemtop 2>/dev/null
	wait $sp
}

# vm FIELD PID: FIELD of that VM in /tmp/snap.json
vm() { jq -r --argjson p "$2" "[.vms[] | select(.pid == \$p)][0] | $1" /tmp/snap.json < /dev/null; }

# run_case NAME BACKEND USER "K:N[:CHUNKS] ...": runners started together under one snapshot
run_case() {
	name=$1 backend=$2 user=$3 specs=$4 pids=""
	: > /tmp/runners
	for s in $specs; do
		set -- $(echo "$s" | tr ':' ' ')
		kvm_guest_runner $1 $2 ${3:-0} > /dev/null &
		pids="$pids $!"
		echo "$! $1 $2 ${3:-0}" >> /tmp/runners
	done
	snapshot_start $backend $user || { kill $pids; return; }
	oracle_start 'kvm:kvm_page_fault kvm:kvm_exit kvmmmu:kvm_mmu_spte_requested kvmmmu:kvm_mmu_set_spte syscalls:sys_enter_madvise'
	kill -USR1 $pids
	for p in $pids; do wait $p; done
	sleep 1
	oracle_stop
	snapshot_stop
	run_results $name $backend $user
	snapshot_notes $name $backend
	phase "$name"
}

# run_results NAME BACKEND USER: a RESULT line per runner of /tmp/runners ("pid K NVCPUS
# CHUNKS"), from /tmp/snap.json and the oracle's trace
run_results() {
	name=$1 backend=$2 user=$3
	jb=$(jq -r .backend /tmp/snap.json)
	while read p k vc ch; do
		set -- $(runner_oracle $p)
		pf=$1 ex=$2 req4=$3 set4=$4 gd=$5 all=$6 will=$7
		# vmmem's figures for the runner, in one jq (a fork and a parse of the JSON each)
		set -- $(jq -r --argjson p $p '[.vms[] | select(.pid == $p)][0] | [.counters.tdp_faults,
			.counters.exits, .counters.tdp_map_4k, .histograms.tdp_fault_ns.count,
			.counters.balloon_inflate_bytes, .counters.vmm_own_discard_bytes,
			.counters.balloon_deflate_bytes, .histograms.balloon_discard_ns.count, .exited] |
			map(tostring) | join(" ")' /tmp/snap.json < /dev/null)
		# the module counts kvm_mmu_set_spte (struct kvm_page_fault is KVM-private), BPF spte_requested
		if [ "$jb" = kmod ]; then map4=$set4; else map4=$req4; fi
		# both backends split discards along guest RAM: the runner's 64 KiB chunks are balloon
		# bytes, the rest (glibc's stacks of exited vCPU threads) vmm_own_discard_bytes
		infl=$((gd * 65536)) infl_calls=$gd own="vmm_own_discard_bytes=$6/$((all - gd * 65536))"
		echo "RESULT case=$name backend=$backend user=$user json_backend=$jb pid=$p k=$k vcpus=$vc chunks=$ch" \
			"tdp_faults=$1/$pf exits=$2/$ex tdp_map_4k=$3/$map4 hist_tdp_fault_ns=$4/$1" \
			"balloon_inflate_bytes=$5/$infl $own balloon_deflate_bytes=$7/$will" \
			"hist_balloon_discard_ns=$8/$infl_calls" \
			"exited=$9 overruns=$(overruns) info_spte_requested_4k=$req4 info_set_spte_4k=$set4"
	done < /tmp/runners
}

# snapshot_notes NAME BACKEND: what the snapshot said (notices, hooks, how it learned guest RAM)
snapshot_notes() {
	grep -i "notice\|error" /tmp/snap.err | head -5
	# the programs this kernel took (README's kernel table)
	[ "$2" = bpf ] && echo "HOOKS $(grep 'using it' /tmp/snap.err | sed 's/ *present, using it//' | awk '{ print $NF }' | tr '\n' ' ')"
	# how guest RAM was learned on this kernel, with which hooks
	echo "GUESTRAM case=$1 backend=$2 $(grep -E 'guest RAM of pid|kvm-vm \(memslots\)|__kvm_set_memory_region' /tmp/snap.err | tr -s ' ' | tr '\n' ';')"
}

# The shapes of the batch's other cases (batch_add below):
# tlb: a two-thread process sending shootdowns, counted through --track.
# tlb_result NAME BACKEND PID
tlb_result() {
	echo "RESULT case=$1 backend=$2 user=root json_backend=$(jq -r .backend /tmp/snap.json) pid=$3" \
		"tlb_shootdown_ipis=$(vm .counters.tlb_shootdown_ipis $3)/$(count_oracle tlb_flush $3 ' [(]4[)]$')" \
		"overruns=$(overruns)"
}

# thp: a process collapsing 4 huge pages (MADV_COLLAPSE), counted through --track (THP is
# "madvise", see thp_collapse.c). MADV_COLLAPSE came with Linux 6.1 (mm/khugepaged.c
# madvise_collapse): where it is missing the case says NOTRUN.
# thp_result NAME BACKEND PID OUTPUT
thp_result() {
	grep -q "collapsed [1-9]" $4 || { echo "NOTRUN case=$1 reason=no_MADV_COLLAPSE $(tr '\n' ' ' < $4)"; return; }
	echo "RESULT case=$1 backend=$2 user=root json_backend=$(jq -r .backend /tmp/snap.json) pid=$3" \
		"thp_collapses=$(vm .counters.thp_collapses $3)/$(count_oracle mm_collapse_huge_page $3 'status=succeeded')" \
		"own=$(awk '/collapsed/ { print $2 }' $4) overruns=$(overruns)"
}

# flush: KVM remote TLB flushes of a VM whose RAM the VMM discards (the MMU notifier flushes
# the VM's TDP mappings). Oracle: KVM's own per-VM statistic remote_tlb_flush_requests (one
# per kvm_flush_remote_tlbs call), read while the VM lives.
# flush_result NAME BACKEND PID REQUESTS FLUSHES
flush_result() {
	if [ "$2" = kmod ] || [ "$(vm .counters.kvm_remote_tlb_flushes $3)" = null ]; then
		# no hook for it (the module; BPF where kvm.ko has no BTF for fentry): unavailable
		# (null), never a made-up 0
		echo "RESULT case=$1 backend=$2 user=root json_backend=$(jq -r .backend /tmp/snap.json) pid=$3" \
			"unavailable_kvm_remote_tlb_flushes=$(vm .counters.kvm_remote_tlb_flushes $3) info_debugfs_requests=$4"
	else
		echo "RESULT case=$1 backend=$2 user=root json_backend=$(jq -r .backend /tmp/snap.json) pid=$3" \
			"kvm_remote_tlb_flushes=$(vm .counters.kvm_remote_tlb_flushes $3)/$4 info_debugfs_flushes=$5"
	fi
}

# A batch runs several cases under ONE vmmemtop snapshot and ONE oracle recording: every
# case's processes start first and wait for SIGUSR1 (so /proc discovery knows them all from
# the start, which 5.10 needs), then the cases run one after the other, each runner holding
# its VM until all are done, then the RESULT lines are printed from the one JSON and the one
# trace. Each case's counts are still its own: they are per pid, and no case's process does
# anything outside its own turn but exit. Why: under TCG loading vmmem's BPF programs costs
# 5-15 s, most of what a separate snapshot per case took.
#   batch_add run NAME "K:N[:CHUNKS] ..."   runners, started together (as run_case)
#   batch_add tlb|thp|flush NAME            the cases of tlb_result, thp_result, flush_result
#   batch_run BACKEND                       run them all, as root, print the RESULT lines
nb=0
: > /tmp/batch
batch_add() {
	kind=$1 name=$2
	case $kind in
	run) for s in $3; do
		set -- $(echo "$s" | tr ':' ' ')
		nb=$((nb + 1))
		RUNNER_HOLD=1 kvm_guest_runner $1 $2 ${3:-0} > /tmp/b$nb.out &
		echo "run $name $! $1 $2 ${3:-0} /tmp/b$nb.out" >> /tmp/batch
	     done; return ;;
	tlb) nb=$((nb + 1)); tlb_worker 2 > /tmp/b$nb.out & ;;
	thp) nb=$((nb + 1)); thp_collapse 4 > /tmp/b$nb.out & ;;
	flush) nb=$((nb + 1)); RUNNER_HOLD=1 kvm_guest_runner 512 1 32 > /tmp/b$nb.out & ;;
	esac
	echo "$kind $name $! 0 0 0 /tmp/b$nb.out" >> /tmp/batch
}

batch_run() {
	backend=$1
	names=$(awk '!seen[$2]++ { print $2 }' /tmp/batch)
	tracks=$(awk '$1 == "tlb" || $1 == "thp" { printf "--track %s ", $3 }' /tmp/batch)
	snapshot_start $backend root "$tracks" || { kill $(awk '{ print $3 }' /tmp/batch); : > /tmp/batch; return; }
	# only shootdowns sent (reason 4) are counted: the other reasons fire on every task switch
	echo 'reason == 4' > $T/events/tlb/tlb_flush/filter
	oracle_start 'kvm:kvm_page_fault kvm:kvm_exit kvmmmu:kvm_mmu_spte_requested kvmmmu:kvm_mmu_set_spte syscalls:sys_enter_madvise tlb:tlb_flush huge_memory:mm_collapse_huge_page'
	for name in $names; do
		kind=$(awk -v n=$name '$2 == n { print $1; exit }' /tmp/batch)
		pids=$(awk -v n=$name '$2 == n { print $3 }' /tmp/batch)
		out=$(awk -v n=$name '$2 == n { print $7; exit }' /tmp/batch)
		case $kind in
		run)	# each runner prints its pid once its SIGUSR1 handler is set (bounded: 5 s)
			for o in $(awk -v n=$name '$2 == n { print $7 }' /tmp/batch); do
				i=0; while ! [ -s $o ] && [ $i -lt 250 ]; do usleep 20000; i=$((i + 1)); done
			done
			kill -USR1 $pids
			awk -v n=$name '$2 == n { print $3, $7 }' /tmp/batch > /tmp/case
			while read p o; do
				while ! grep -q done $o && kill -0 $p 2>/dev/null; do usleep 100000; done
			done < /tmp/case ;;
		tlb)	kill -USR1 $pids; sleep 2.6 ;;	# it works 2 s from its signal, then sleeps
		thp)	kill -USR1 $pids
			while ! grep -q collapsed $out && kill -0 $pids 2>/dev/null; do usleep 100000; done ;;
		flush)	kill -USR1 $pids
			while ! grep -q done $out; do usleep 100000; done
			sleep 0.5
			d=$(ls -d /sys/kernel/debug/kvm/$pids-* | head -n 1)
			# (5.10 has no remote_tlb_flush_requests: its case is the unavailable one)
			req=$(cat $d/remote_tlb_flush_requests 2>/dev/null) done=$(cat $d/remote_tlb_flush 2>/dev/null)
			echo "${req:-none} ${done:-none}" > $out.debugfs ;;
		esac
		phase "$name"
	done
	# the runners held their VMs (RUNNER_HOLD): vmmem.ko keeps an exited VMM's counters for
	# VMMEM_EXIT_LINGER_S (10 s), and the snapshot reads counters once, at its end. They exit
	# now, inside the window, as a runner of run_case does.
	for p in $(awk '$1 == "run" { print $3 }' /tmp/batch); do kill $p; wait $p 2>/dev/null; done
	sleep 1		# the runners' exits are seen
	oracle_stop
	snapshot_stop
	for name in $names; do
		kind=$(awk -v n=$name '$2 == n { print $1; exit }' /tmp/batch)
		w=$(awk -v n=$name '$2 == n { print $3; exit }' /tmp/batch)
		out=$(awk -v n=$name '$2 == n { print $7; exit }' /tmp/batch)
		case $kind in
		run) awk -v n=$name '$2 == n { print $3, $4, $5, $6 }' /tmp/batch > /tmp/runners
		     run_results $name $backend root ;;
		tlb) tlb_result $name $backend $w ;;
		thp) thp_result $name $backend $w $out ;;
		flush) flush_result $name $backend $w $(cat $out.debugfs) ;;
		esac
	done
	snapshot_notes $backend-batch $backend
	for p in $(awk '$1 != "run" { print $3 }' /tmp/batch); do kill $p; wait $p 2>/dev/null; done
	: > /tmp/batch
}

phase boot
batch_add run bpf-64 "64:1"
batch_add run bpf-512-balloon "512:1:32"
batch_add run bpf-two "128:2 256:1"
batch_add tlb bpf-tlb
batch_add thp bpf-thp
batch_add flush bpf-remote-flush
batch_run bpf

if [ -e /vmmem.ko ]; then
	insmod /vmmem.ko gid=$VMMEM_GID || echo "CASEFAIL kmod: insmod failed"
	echo "DEVNODE $(stat -c '%a %g' /dev/vmmem)"
	batch_add run kmod-64 "64:1"
	batch_add run kmod-512-balloon "512:1:32"
	batch_add run kmod-two "128:2 256:1"
	batch_add tlb kmod-tlb
	batch_add thp kmod-thp
	batch_add flush kmod-remote-flush
	batch_run kmod
	# unprivileged: auto falls back from BPF (no CAP_BPF) to the module through the group
	run_case kmod-unprivileged auto mon "256:1"
	echo "OUTSIDER_KMOD $(as other '/bin/vmmemtop snapshot --backend kmod --interval 1 2>&1 >/dev/null; echo rc=$?' | tr '\n' ' ')"
	echo "OUTSIDER_AUTO $(as other '/bin/vmmemtop snapshot --backend auto --interval 1 2>&1 >/dev/null; echo rc=$?' | tr '\n' ' ')"

	# the exporter, unprivileged, serving a VM that is still running
	as mon "/bin/vmmemtop export --backend kmod --listen 127.0.0.1:9477 --interval 1 > /tmp/export.out 2> /tmp/export.err" &
	ep=$!
	RUNNER_HOLD=1 kvm_guest_runner 128 1 > /tmp/hold.out &
	hp=$!
	oracle_start 'kvm:kvm_page_fault'
	kill -USR1 $hp
	while ! grep -q done /tmp/hold.out; do usleep 100000; done
	oracle_stop
	sleep 2.5	# two of the exporter's 1 s samples after the runner's last fault
	# series are keyed by vm (and uuid), not pid: vmmem_vm_info names the runner's vm label
	# (a pid label is added only while another VM shares the name)
	wget -q -O - http://127.0.0.1:9477/metrics > /tmp/metrics.txt
	vm=$(grep "^vmmem_vm_info{.*pid=\"$hp\"" /tmp/metrics.txt | sed 's/^vmmem_vm_info{vm="\([^"]*\)".*/\1/')
	m=$(grep -E "^vmmem_tdp_faults_total\{vm=\"$vm\"(,uuid=\"[^\"]*\")?(,pid=\"$hp\")?\} " /tmp/metrics.txt | awk '{ print $NF }')
	# the exporter's effective capabilities, every thread, while it serves through the group
	xp=$(pidof vmmemtop)
	caps=$(for t in /proc/$xp/task/*; do sed -n 's/^CapEff:[[:space:]]*//p' $t/status; done | sort -u | tr '\n' ',')
	echo "RESULT case=kmod-export backend=kmod user=mon json_backend=kmod pid=$hp tdp_faults=${m:-none}/$(count_oracle kvm_page_fault $hp) overruns=$(overruns) capeff=${caps%,} threads=$(ls /proc/$xp/task | wc -l)"
	kill $hp; wait $hp 2>/dev/null
	killall vmmemtop; wait $ep
	grep -v "^vmmemtop: counting" /tmp/export.err | head -3
	phase kmod-export

	# events: the module's ring delivers what its counters count
	rm -f /tmp/poll.out
	vmmem_poll 60 > /tmp/poll.out &
	pp=$!
	while ! grep -q polling /tmp/poll.out 2>/dev/null; do usleep 100000; done
	run_case kmod-events kmod root "256:1:16"
	kill -TERM $pp; wait $pp
	echo "POLL $(tail -n 1 /tmp/poll.out)"

	# unload: a reader blocked in poll pins the module (rmmod must refuse, nothing breaks);
	# then rmmod while probes fire; then load again and count again
	rm -f /tmp/poll.out
	vmmem_poll 60 > /tmp/poll.out &
	pp=$!
	while ! grep -q polling /tmp/poll.out 2>/dev/null; do usleep 100000; done
	kvm_guest_runner 4096 2 > /dev/null & rp=$!
	kill -USR1 $rp
	rmmod vmmem 2>/dev/null; echo "UNLOAD_WHILE_OPEN rc=$? (non-zero expected)"
	kill -TERM $pp; wait $pp; echo "POLL_AFTER_REFUSED $(tail -n 1 /tmp/poll.out)"
	kvm_guest_runner 4096 2 > /dev/null & rp2=$!
	kill -USR1 $rp2
	usleep 300000
	rmmod vmmem; echo "UNLOAD_WHILE_FIRING rc=$?"
	wait $rp $rp2
	insmod /vmmem.ko gid=$VMMEM_GID; echo "RELOAD rc=$?"
	run_case kmod-reloaded kmod root "64:1"
	rmmod vmmem; echo "FINAL_UNLOAD rc=$?"
	# kvm.ko going and coming back under a loaded vmmem.ko: its probes detach and reattach
	insmod /vmmem.ko gid=$VMMEM_GID
	rmmod kvm_amd && rmmod kvm && echo "KVM_UNLOADED"
	for m in $(cat /etc/modules.order); do case $m in *kvm*) insmod "$m";; esac; done
	run_case kmod-kvm-reloaded kmod root "64:1"
	rmmod vmmem; echo "LAST_UNLOAD rc=$?"
	phase unload
	dmesg | grep "vmmem:" | head -12
fi
# the kernel log against the denylist (tests/vm/guest/denylist, libbpf CI's kind)
dmesg > /tmp/dmesg
grep -E -f /etc/denylist /tmp/dmesg | head -20 | sed 's/^/DENY /'
echo "DMESG_BAD=$(grep -cE -f /etc/denylist /tmp/dmesg)"
echo ALLDONE
poweroff -f
