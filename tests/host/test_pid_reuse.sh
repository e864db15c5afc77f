#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A VMM's identity is read once per process instance (pid + start time), and a new process
# under an old pid is a new VM. Pids are reused on purpose with clone3(set_tid)
# (tests/tools/spawn_at_pid), so nothing else on the host can take them first.
#  1. VMM "alpha" (a real kvm-vm fd) at pid P is killed; VMM "beta" starts at P: vmmemtop
#     reports alpha exited once, then beta at P with a new seq and beta's identity.
#  2. An ordinary process at pid Q, seen by discovery long enough to be judged "not a VMM", is
#     killed; a process with a VMM's comm (qemu-system-x86, no KVM: only /proc discovery can
#     find it) starts at Q: it is found, named gamma.
# A pid placed with set_tid does not move the kernel's last-pid cursor, so discovery's
# look at new pids misses both beta and gamma: its full scan of /proc (every 10 s), whose
# verdicts stand while a /proc/PID inode does, is what must find them.
# Oracles: /proc/PID/cmdline and /proc/PID/stat start time of what the test started.
. "$(dirname "$0")/lib.sh"
need_root
[ -w /dev/kvm ] || skip "no /dev/kvm (the VMMs need KVM_CREATE_VM)"
make_tmp
start_of() { awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"; }
name_of() { tr '\0' ' ' < "/proc/$1/cmdline" | sed -n 's/.*guest=\([a-z]*\).*/\1/p'; }
# last JSON line's value for pid $1 (and name $2): EXPR $3
last_vm() { tail -n 1 "$TMP/vmm.json" | jq -r --argjson p "$1" --arg n "$2" \
	"[.vms[] | select(.pid == \$p and .name == \$n)] | first | $3" 2>/dev/null; }
wait_vm() {	# pid name [tenths of s]: until the exporter's last line shows it live
	local i
	for i in $(seq 1 "${3:-100}"); do
		[ "$(last_vm "$1" "$2" '.exited')" = false ] && return 0
		sleep 0.1
	done
	return 1
}

"$TOOLS/fake_vmm" --fake-mib=4 -name guest=alpha -smp 2 -m 128 > "$TMP/a.out" & A=$!
at_exit "kill -9 $A"
"$VMMEMTOP" export --json --interval 0.5 > "$TMP/vmm.json" 2> "$TMP/err" & X=$!
at_exit "kill $X"
wait_vm $A alpha || fail "VMM alpha (pid $A) never appeared: $(tail -c 300 "$TMP/err")"
seq_a=$(last_vm $A alpha .seq)
start_a=$(start_of $A)
echo "alpha: pid $A start $start_a; vmmem: seq $seq_a, vcpus $(last_vm $A alpha .vcpus), mem $(last_vm $A alpha .mem_configured_kb) kB"
[ "$(last_vm $A alpha .vcpus)" = 2 ] && [ "$(last_vm $A alpha .mem_configured_kb)" = 131072 ] ||
	fail "alpha's identity: vcpus $(last_vm $A alpha .vcpus) (want 2), memory $(last_vm $A alpha .mem_configured_kb) kB (want 131072)"

kill -9 $A; wait $A 2>/dev/null
"$TOOLS/spawn_at_pid" $A "$TOOLS/fake_vmm" --fake-mib=4 -name guest=beta -smp 3 -m 256 > "$TMP/b.out" ||
	fail "cannot start beta under pid $A"
at_exit "kill -9 $A"
for _ in $(seq 1 50); do grep -q ready "$TMP/b.out" && break; sleep 0.1; done
wait_vm $A beta 150 || fail "beta (pid $A reused) never appeared as a VM named beta: $(tail -n 1 "$TMP/vmm.json" | jq -c "[.vms[] | select(.pid == $A) | {name, seq, exited}]")"
start_b=$(start_of $A)
seq_b=$(last_vm $A beta .seq)
exited_a=$(jq -r --argjson p $A "[.vms[] | select(.pid == \$p and .name == \"alpha\" and .exited)] | length" "$TMP/vmm.json" | awk '{ n += $1 } END { print n + 0 }')
echo "pid $A reused: /proc cmdline name=$(name_of $A) start=$start_b (was $start_a); vmmem name=beta seq=$seq_b (alpha seq=$seq_a, reported exited $exited_a time(s)), vcpus $(last_vm $A beta .vcpus)"
[ "$(name_of $A)" = beta ] && [ "$start_b" != "$start_a" ] || fail "the oracle does not show a new process at pid $A"
[ "$seq_b" != "$seq_a" ] || fail "beta kept alpha's seq $seq_a: the same VM to vmmem"
[ "$exited_a" -eq 1 ] || fail "alpha was reported exited $exited_a times, expected once"
[ "$(last_vm $A beta .vcpus)" = 3 ] && [ "$(last_vm $A beta .mem_configured_kb)" = 262144 ] ||
	fail "beta shows alpha's identity: vcpus $(last_vm $A beta .vcpus) (want 3), memory $(last_vm $A beta .mem_configured_kb) kB (want 262144)"

# 2: an ordinary process, judged by discovery (older than its 3 s of youth, and through one
# full scan of /proc: every 10 s), then replaced; a pid placed with set_tid does not move the
# kernel's last-pid cursor, so only the next full scan can find gamma
sleep 1000 & Q=$!
at_exit "kill -9 $Q"
sleep 11
[ "$(tail -n 1 "$TMP/vmm.json" | jq --argjson p $Q '[.vms[] | select(.pid == $p)] | length')" = 0 ] ||
	fail "sleep (pid $Q) counted as a VM"
kill -9 $Q; wait $Q 2>/dev/null
"$TOOLS/spawn_at_pid" $Q "$TOOLS/fake_vmm" --fake-nokvm --fake-comm=qemu-system-x86 -name guest=gamma > "$TMP/g.out" ||
	fail "cannot start gamma under pid $Q"
for _ in $(seq 1 50); do grep -q ready "$TMP/g.out" && break; sleep 0.1; done
wait_vm $Q gamma 150 || fail "gamma (comm qemu-system-x86, pid $Q reused from a non-VMM) never found by discovery"
echo "pid $Q reused: /proc comm=$(cat /proc/$Q/comm) name=$(name_of $Q); vmmem name=$(last_vm $Q gamma .name) seq=$(last_vm $Q gamma .seq)"
echo "PASS: a new process under an old pid is a new VM, with its own identity, found by discovery too"
