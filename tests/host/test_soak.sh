#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Churn soak: SOAK_ROUNDS rounds of SOAK_VMS short-lived VMMs (tests/tools/churn_vmm: real
# processes holding a kvm-vm fd, guest RAM registered with KVM_SET_USER_MEMORY_REGION, at
# most SOAK_CONC alive at once), each discarding exactly SOAK_DISCARD_KB of its guest RAM and
# doing SOAK_TLB_ROUNDS mprotect round trips against a second thread on the other CPU, while
# `vmmemtop snapshot --json` streams one snapshot a second. The kernel side claims each VMM
# at KVM_CREATE_VM (fexit kvm_arch_init_vm, or here the kvm:kvm_update_master_clock
# tracepoint inside it), so its counts start there however late user space looks; each
# VMM still waits SOAK_WAIT_MS before it works, for vmmemtop to learn its guest RAM (the
# kvm-vm iterator, once a second), without which no discard can be told to be the
# guest's. Checks:
#   - every VMM appears exactly once as exited (pid, seq), and only once per pid;
#   - conservation: the exited VMs' final balloon_inflate_bytes sum to exactly what the VMMs
#     discarded (their own count); their final tlb_shootdown_ipis sum to tracefs
#     tlb:tlb_flush reason 4 (TLB_REMOTE_SEND_IPI) over their tgids, from each one's VM
#     creation (kvm:kvm_update_master_clock in the trace) to its sched:sched_process_exit:
#     that is a VM's life by definition (README, tlb_shootdown_ipis); the fork's flushes
#     before it and the teardown's after it (exit_mmap(), after the exit event since 6.16)
#     are printed apart;
#   - vmmemtop's open fds and threads are back to their baseline, and its RSS within
#     SOAK_RSS_SLACK_KB of it, once the churn is over and the exited VMs were reported (it
#     holds /proc/PID/status and ksm_stat of each live VMM: those of other VMMs on a shared host are
#     set aside, none of the churned ones may remain);
#   - with SOAK_VIEW_GRACE_S (make soak: the view's exited-VM window, HISTORY_GRACE_S + 10),
#     the same for the interactive view's batch mode (`vmmemtop -b`), which keeps exited VMs'
#     history that long: measured once the window has passed.
# KSM merges are left out (ksmd needs seconds per merge pass, longer than these VMMs live).
# make test runs one round of 300 (~1 min); make soak runs SOAK_ROUNDS=10 of 500.
# On a shared machine run it under `flock /tmp/vmmem-host.lock` (hundreds of processes); it
# does not take the lock itself, so that a caller holding it for all of make test can run it.
. "$(dirname "$0")/lib.sh"
need_root
need_tracefs
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs for remote shootdowns"
[ -w /dev/kvm ] || skip "no writable /dev/kvm (KVM_CREATE_VM makes the churned VMMs real)"
[ -d $TRACEFS/events/tlb/tlb_flush ] || skip "kernel has no tlb:tlb_flush tracepoint"
command -v jq >/dev/null || skip "jq not installed"
make_tmp
VMS=${SOAK_VMS:-300} CONC=${SOAK_CONC:-40} ROUNDS=${SOAK_ROUNDS:-1}
DISCARD_KB=${SOAK_DISCARD_KB:-64} TLB_ROUNDS=${SOAK_TLB_ROUNDS:-20} WAIT_MS=${SOAK_WAIT_MS:-2500}
RSS_SLACK_KB=${SOAK_RSS_SLACK_KB:-2048}

T=$(trace_instance vmmem_soak)
echo 131072 > "$T/buffer_size_kb"
echo 1 > "$T/options/record-tgid"
echo 'reason == 4' > "$T/events/tlb/tlb_flush/filter"
echo 1 > "$T/events/tlb/tlb_flush/enable"
echo 1 > "$T/events/sched/sched_process_exit/enable"
# a VM's counts start at its creation: x86 KVM traces kvm_update_master_clock inside
# KVM_CREATE_VM (arch/x86/kvm/x86.c kvm_arch_init_vm), in the creating thread
born_event=$T/events/kvm/kvm_update_master_clock
[ -d "$born_event" ] && echo 1 > "$born_event/enable"
# a pid's earlier owner (pids wrap in a long soak) is not the VMM: its fork starts afresh
echo 1 > "$T/events/sched/sched_process_fork/enable"

opts=()
# balloon counting through the syscall tracepoints is opt-in where fentry is refused
"$VMMEMTOP" snapshot --help 2>&1 | grep -q -- --syscall-tracepoints && opts+=(--syscall-tracepoints)
# so is shootdown counting at tlb:tlb_flush (every context switch runs it)
"$VMMEMTOP" snapshot --help 2>&1 | grep -q -- --switch-tracepoints && opts+=(--switch-tracepoints)
"$VMMEMTOP" snapshot --json --interval 1 --count 100000 "${opts[@]}" > "$TMP/stream.json" 2> "$TMP/snap.err" &
S=$!
at_exit "kill $S"
wait_vmmem_loaded || fail "vmmemtop did not load its programs: $(cat "$TMP/snap.err")"
sleep 3			# two snapshots: allocations of the first ones are done
usage() {		# fds threads rss_kb of vmmemtop $S
	echo "$(ls /proc/$S/fd | wc -l) $(awk '/^Threads:/ { print $2 }' /proc/$S/status)" \
		"$(awk '/^VmRSS:/ { print $2 }' /proc/$S/status)"
}
read -r fd0 th0 rss0 < <(usage)
# the fd list, read until two reads agree: a discovery scan in progress holds /proc
# directories open for a moment (a listing can also catch an fd between readdir and readlink)
fds() {
	local a b i
	a=$(ls -l /proc/$S/fd 2>/dev/null | awk '/->/ { print $NF }' | sort)
	for i in 1 2 3 4 5; do
		sleep 0.2
		b=$(ls -l /proc/$S/fd 2>/dev/null | awk '/->/ { print $NF }' | sort)
		[ "$a" = "$b" ] && break
		a=$b
	done
	echo "$a"
}
fds > "$TMP/fds0"
echo "baseline: vmmemtop $S has $fd0 fds, $th0 threads, RSS $rss0 kB"
GRACE=${SOAK_VIEW_GRACE_S:-0}
if [ "$GRACE" -gt 0 ]; then
	"$VMMEMTOP" -b -d 1 > /dev/null 2> "$TMP/view.err" &
	V=$!
	at_exit "kill $V"
	wait_vmmem_loaded $V || fail "the view did not load its programs: $(cat "$TMP/view.err")"
	sleep 5		# its first samples drawn
	read -r vfd0 vth0 vrss0 < <(S=$V usage)
	S=$V fds | grep -vE '^/proc/[0-9]+/(status|ksm_stat)$' > "$TMP/vfds0"
	echo "baseline: the view $V has $vfd0 fds, $vth0 threads, RSS $vrss0 kB"
fi

echo 1 > "$T/tracing_on"
start=$(date +%s)
for r in $(seq 1 "$ROUNDS"); do
	"$TOOLS/churn_vmm" "$VMS" "$CONC" "$DISCARD_KB" "$TLB_ROUNDS" "$WAIT_MS" "$TMP/churn$r.out" ||
		fail "churn round $r: $(tail -n 1 "$TMP/churn$r.out")"
	read -r fdr thr rssr < <(usage)
	echo "round $r: $VMS VMMs done at $(( $(date +%s) - start )) s; vmmemtop now $fdr fds, $thr threads, RSS $rssr kB"
done
sleep 3			# the last exits land in a snapshot (one interval + one to print)
echo 0 > "$T/tracing_on"
sleep 2
read -r fd1 th1 rss1 < <(usage)
fds > "$TMP/fds1"
kill -INT $S
wait $S
[ "$(trace_overruns "$T")" -eq 0 ] || fail "trace buffer overran: the oracle is incomplete"

cat "$TMP"/churn*.out | grep -v '^total' > "$TMP/done"
n=$(wc -l < "$TMP/done")
want_bytes=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/done")
# every VM the stream reports as exited: pid seq inflate_bytes shootdowns
jq -r '.vms[] | select(.exited) | "\(.pid) \(.seq) \(.totals.balloon_inflate_bytes) \(.totals.tlb_shootdown_ipis)"' \
	"$TMP/stream.json" > "$TMP/exited"
awk 'NR == FNR { ours[$1] = 1; next } ($1 in ours)' "$TMP/done" "$TMP/exited" > "$TMP/ours"
reported=$(wc -l < "$TMP/ours")
distinct=$(awk '{ print $1, $2 }' "$TMP/ours" | sort -u | wc -l)
pids=$(awk '{ print $1 }' "$TMP/ours" | sort -u | wc -l)
missing=$(awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen) { print $1 }' "$TMP/ours" "$TMP/done" | head -n 5)
got_bytes=$(awk '{ s += $3 } END { print s + 0 }' "$TMP/ours")
nulls=$(awk '$3 == "null" || $4 == "null"' "$TMP/ours" | wc -l)
got_ipis=$(awk '{ s += $4 } END { print s + 0 }' "$TMP/ours")
# trace lines: "churn_vmm-123 (  120) [001] ..." with record-tgid; per tgid, shootdowns
# before its VM was created (the fork's copy-on-write faults), during the VM's life, and
# after the exit of its last thread (pid == tgid: the main thread exits last)
awk -v have_born=$([ -d "$born_event" ] && echo 1 || echo 0) 'NR == FNR { ours[$1] = 1; next }
	/sched_process_fork:/ && match($0, /child_pid=[0-9]+/) { c = substr($0, RSTART + 10, RLENGTH - 10)
		if (c in ours) { delete gone[c]; delete born[c]; life[c] = after[c] = early[c] = 0 }; next }
	match($0, /\( *[0-9]+\)/) { g = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", g); if (!(g in ours)) next
		if (/tlb_flush:/) { if (g in gone) after[g]++; else if (g in born || !have_born) life[g]++; else early[g]++ }
		else if (/kvm_update_master_clock:/) born[g] = 1
		else if (/sched_process_fork:/) next
		else if (/sched_process_exit:/ && match($0, /pid=[0-9]+/) && substr($0, RSTART + 4, RLENGTH - 4) == g) gone[g] = 1 }
	END { for (g in ours) print g, life[g] + 0, after[g] + 0, (g in gone), early[g] + 0, (g in born) || !have_born }' \
	"$TMP/done" "$T/trace" > "$TMP/ipis"
oracle_ipis=$(awk '{ s += $2 } END { print s + 0 }' "$TMP/ipis")
teardown_ipis=$(awk '{ s += $3 } END { print s + 0 }' "$TMP/ipis")
early_ipis=$(awk '{ s += $5 } END { print s + 0 }' "$TMP/ipis")
no_exit=$(awk '!$4' "$TMP/ipis" | wc -l)
no_birth=$(awk '!$6' "$TMP/ipis" | wc -l)

echo "VMMs started and exited: $n; reported exited: $reported ($distinct distinct (pid, seq), $pids pids)"
echo "balloon_inflate_bytes: oracle (the VMMs' own discards) $want_bytes = vmmem $got_bytes (sum of final counts)"
echo "tlb_shootdown_ipis: oracle (tracefs reason 4, their tgids, from KVM_CREATE_VM until their exit) $oracle_ipis = vmmem $got_ipis" \
	"(not the VMs': $early_ipis before KVM_CREATE_VM, $teardown_ipis in their teardown)"
echo "vmmemtop after: $fd1 fds (baseline $fd0), $th1 threads ($th0), RSS $rss1 kB ($rss0 kB, +$((rss1 - rss0)), bound +$RSS_SLACK_KB)"
ok=1
[ "$n" -eq $((VMS * ROUNDS)) ] || { echo "churn_vmm finished $n of $((VMS * ROUNDS)) VMMs"; ok=0; }
[ "$reported" -eq "$n" ] && [ "$distinct" -eq "$n" ] && [ "$pids" -eq "$n" ] ||
	{ echo "not every VMM reported exactly once as exited (first missing: ${missing:-none})"; ok=0; }
[ "$nulls" -eq 0 ] || { echo "$nulls exited VMs with a counter unavailable"; ok=0; }
[ "$got_bytes" = "$want_bytes" ] && [ "$want_bytes" -gt 0 ] ||
	{ echo "discarded bytes not conserved; VMs off (pid seq vmmem):"; awk -v d=$((DISCARD_KB * 1024)) '$3 != d' "$TMP/ours" | head; ok=0; }
[ "$no_exit" -eq 0 ] || { echo "$no_exit VMMs without their exit in the trace"; ok=0; }
[ "$no_birth" -eq 0 ] || { echo "$no_birth VMMs without their VM's creation in the trace"; ok=0; }
[ "$got_ipis" = "$oracle_ipis" ] && [ "$oracle_ipis" -gt 0 ] || {
	echo "shootdowns not conserved; VMs off (pid vmmem oracle):"
	awk 'NR == FNR { o[$1] = $2; next } $4 != o[$1] { print $1, $4, o[$1] }' "$TMP/ipis" "$TMP/ours" | head; ok=0; }
# fds other than the live VMMs' /proc/PID/status must be the baseline's; none of ours remain
grep -vE '^/proc/[0-9]+/(status|ksm_stat)$' "$TMP/fds0" > "$TMP/fds0.own"
grep -vE '^/proc/[0-9]+/(status|ksm_stat)$' "$TMP/fds1" > "$TMP/fds1.own"
ours_open=$(awk 'NR == FNR { ours["/proc/" $1 "/status"] = 1; ours["/proc/" $1 "/ksm_stat"] = 1; next } ($1 in ours)' "$TMP/done" "$TMP/fds1" | wc -l)
echo "vmmemtop's fds besides live VMMs' status files: $(wc -l < "$TMP/fds1.own") (baseline $(wc -l < "$TMP/fds0.own"));" \
	"churned VMMs' status files still open: $ours_open"
cmp -s "$TMP/fds0.own" "$TMP/fds1.own" && [ "$ours_open" -eq 0 ] && [ "$th1" -eq "$th0" ] ||
	{ echo "fds or threads not back to baseline; fds then and now:"; diff "$TMP/fds0" "$TMP/fds1"; ok=0; }
[ $((rss1 - rss0)) -le "$RSS_SLACK_KB" ] || { echo "RSS grew more than $RSS_SLACK_KB kB"; ok=0; }
if [ "$GRACE" -gt 0 ]; then
	echo "waiting $GRACE s: the view keeps exited VMs that long"
	sleep "$GRACE"
	kill -0 $V 2>/dev/null || { echo "the view died: $(cat "$TMP/view.err")"; ok=0; }
	read -r vfd1 vth1 vrss1 < <(S=$V usage)
	S=$V fds | grep -vE '^/proc/[0-9]+/(status|ksm_stat)$' > "$TMP/vfds1"
	echo "the view after its window: $vfd1 fds ($vfd0), $vth1 threads ($vth0), RSS $vrss1 kB ($vrss0 kB, +$((vrss1 - vrss0)), bound +$RSS_SLACK_KB)"
	cmp -s "$TMP/vfds0" "$TMP/vfds1" && [ "$vth1" -eq "$vth0" ] ||
		{ echo "the view's fds or threads not back to baseline:"; diff "$TMP/vfds0" "$TMP/vfds1"; ok=0; }
	[ $((vrss1 - vrss0)) -le "$RSS_SLACK_KB" ] || { echo "the view's RSS grew more than $RSS_SLACK_KB kB"; ok=0; }
fi
# SOAK_KEEP=DIR keeps the stream, the trace and the churn lists for a look after a failure
[ -z "${SOAK_KEEP:-}" ] || { mkdir -p "$SOAK_KEEP" && cp "$TMP"/* "$T/trace" "$SOAK_KEEP"/; }
[ $ok = 1 ] || fail "churn soak: see above"
echo "PASS: $n churned VMMs each reported once, discards and shootdowns conserved, vmmemtop back to baseline"
