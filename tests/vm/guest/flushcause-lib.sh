# SPDX-License-Identifier: MIT
# The flushes-received-by-cause phases of the KSM + eviction rig's guest (sourced by
# ksmevict-init.sh as /lib/flushcause-lib.sh), inside its flush recording, after ksmd's phase.
# A second VMM, flush_runner (16 ranges of 2 MiB, NPT-mapped by its vCPU on command), gets
# its guest RAM changed by one cause per phase:
#   vmm        its own thread madvise(MADV_DONTNEED)s 512 mapped pages (zap_page_range_single)
#   other      this shell writes 4 to its /proc/PID/clear_refs, 32 times (clear_refs_write:
#              MMU_NOTIFY_SOFT_DIRTY over the whole mm), the vCPU mapping pages again between
#   numa       NUMA balancing on (one node is enough): the VMMs' spinning threads and its
#              vCPU thread run task_numa_work -> change_prot_numa (MMU_NOTIFY_PROTECTION_VMA)
#   khugepaged MADV_HUGEPAGE on its 4 KiB-mapped ranges, khugepaged scanning without sleeps
#              (collapse_huge_page: one notifier per 2 MiB range)
# The oracle per cause: the function tracer on kvm_flush_remote_tlbs (virt/kvm/kvm_main.c)
# with a stack trace per call, classed by the task and the kernel functions on the stack, not
# by the flags and notifier events vmmem uses; and the VMs' debugfs remote_tlb_flush_requests.

TR=/sys/kernel/tracing

# fr_start: start flush_runner (FR is its pid, FRW the shell's job) and its command pipe (fd 3)
fr_start() {
	rm -f /tmp/fcmd /tmp/fl.out
	busybox mkfifo /tmp/fcmd
	flush_runner 16 < /tmp/fcmd > /tmp/fl.out 2> /tmp/fl.err & FRW=$!
	exec 3> /tmp/fcmd
	i=0; while [ ! -s /tmp/fl.out ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
	FR=$(head -n 1 /tmp/fl.out)
}

fr_stop() {
	exec 3>&-
	kill $FRW 2>/dev/null; wait $FRW 2>/dev/null
}

phase() { echo "PHASE $*" >> /tmp/phases.txt; }

# fcmd CMD...: one command to flush_runner, returns once it is acknowledged
fcmd() {
	n=$(wc -l < /tmp/fl.out)
	echo "$*" >&3
	i=0; while [ "$(wc -l < /tmp/fl.out)" -le $n ] && [ $i -lt 1200 ]; do usleep 20000; i=$((i + 1)); done
	[ $i -lt 1200 ] || echo "CASEFAIL flush_runner did not answer '$*': $(cat /tmp/fl.err)"
}

# ftrace_flushes_on: function tracer with stacks on kvm_flush_remote_tlbs, into an empty ring
ftrace_flushes_on() {
	echo 0 > $TR/tracing_on
	echo 8192 > $TR/buffer_size_kb
	echo kvm_flush_remote_tlbs > $TR/set_ftrace_filter || echo "CASEFAIL: no ftrace filter on kvm_flush_remote_tlbs"
	echo function > $TR/current_tracer
	echo 1 > $TR/options/func_stack_trace
	echo > $TR/trace
	echo 1 > $TR/tracing_on
}

ftrace_flushes_off() {
	echo 0 > $TR/tracing_on
	echo 0 > $TR/options/func_stack_trace
	echo nop > $TR/current_tracer
	echo > $TR/set_ftrace_filter
}

# flushes_oracle TIDS: per cause, the traced kvm_flush_remote_tlbs calls: "cause=N ..." and
# lost=N (ring overruns). TIDS: the VMMs' threads (a flush from them is the VMM's own).
flushes_oracle() {
	lost=0
	for f in $TR/per_cpu/cpu*/stats; do lost=$((lost + $(awk '/^overrun:/ { print $2 }' $f))); done
	awk -v tids=" $1 " -v lost=$lost '
	function cause(   comm, pid) {
		comm = task; sub(/-[0-9]+$/, "", comm)
		pid = task; sub(/.*-/, "", pid)
		if (comm == "ksmd") return "ksmd"
		if (comm == "khugepaged") return "khugepaged"
		if (comm ~ /^kcompactd/) return "kcompactd"
		if (comm ~ /^kswapd/) return "kswapd"
		if (stack ~ / (compact_zone|compact_node|compact_nodes|try_to_compact_pages) /) return "kcompactd"
		if (stack ~ / (shrink_folio_list|shrink_page_list|try_to_free_mem_cgroup_pages|reclaim_pages) /) return "kswapd"
		if (stack ~ / (change_prot_numa|task_numa_work) /) return "numa"
		if (index(tids, " " pid " ")) return "vmm"
		return "other"
	}
	function done() {
		if (task == "") return
		n[cause()]++; total++
		k = cause() stack; sub(/ bpf_trampoline_[0-9]+ /, " ", k)
		if (!(k in seen) && dump[cause()]++ < 4) print "STACK " cause() " " task ":" stack
		seen[k] = 1
		task = ""
	}
	/: kvm_flush_remote_tlbs <-/ { done(); task = $1; stack = " "; next }
	/^ => / { stack = stack $2 " "; next }
	END {
		done()
		printf "total=%d", total
		split("ksmd khugepaged kcompactd kswapd numa vmm other", cs, " ")
		for (i = 1; i <= 7; i++) printf " %s=%d", cs[i], n[cs[i]]
		printf " lost=%d\n", lost
	}' $TR/trace
}

# flush_phases: the phases above; RQ prints the two VMs' remote_tlb_flush_requests sum at
# each phase's end (PHASE lines)
flush_phases() {
	rq() { echo $(( $(cat $1/remote_tlb_flush_requests) + $(cat $2/remote_tlb_flush_requests) )); }
	t0=$(date +%s) q0=$(rq $D $DF)
	fcmd touch 65536; fcmd discard 65536
	q1=$(rq $D $DF); phase "vmm flushes=$((q1 - q0)) s=$(( $(date +%s) - t0 ))"
	t0=$(date +%s)
	for i in $(seq 32); do fcmd touch 2097152; echo 4 > /proc/$FR/clear_refs; done
	q2=$(rq $D $DF); phase "other flushes=$((q2 - q1)) s=$(( $(date +%s) - t0 ))"
	# NUMA balancing on this one-node guest: task_tick_numa queues task_numa_work on the VMMs'
	# threads that run in user space (the spinning ones), change_prot_numa walks their VMAs
	t0=$(date +%s)
	N=/sys/kernel/debug/sched/numa_balancing
	fcmd spin
	echo 0 > $N/scan_delay_ms; echo 20 > $N/scan_period_min_ms; echo 100 > $N/scan_period_max_ms
	echo 1 > /proc/sys/kernel/numa_balancing
	for i in $(seq 8); do fcmd touch 2097152; usleep 300000; done
	echo 0 > /proc/sys/kernel/numa_balancing
	usleep 300000	# a task_numa_work queued before runs on its next return to user space
	q3=$(rq $D $DF); phase "numa flushes=$((q3 - q2)) s=$(( $(date +%s) - t0 ))"
	t0=$(date +%s)
	H=/sys/kernel/mm/transparent_hugepage
	fcmd touch 2097152
	c0=$(cat $H/khugepaged/pages_collapsed)
	echo 0 > $H/khugepaged/scan_sleep_millisecs; echo 0 > $H/khugepaged/alloc_sleep_millisecs
	echo madvise > $H/enabled
	fcmd huge
	i=0; while [ "$(cat $H/khugepaged/pages_collapsed)" -lt $((c0 + 16)) ] && [ $i -lt 300 ]; do usleep 100000; i=$((i + 1)); done
	echo never > $H/enabled	# khugepaged stops (start_stop_khugepaged)
	echo 10000 > $H/khugepaged/scan_sleep_millisecs; echo 60000 > $H/khugepaged/alloc_sleep_millisecs
	q4=$(rq $D $DF); phase "khugepaged flushes=$((q4 - q3)) collapsed=$(( $(cat $H/khugepaged/pages_collapsed) - c0 )) s=$(( $(date +%s) - t0 ))"
}
