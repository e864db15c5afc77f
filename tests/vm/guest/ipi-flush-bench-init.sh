#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the IPI and flush cost bench (tests/bench/ipi_flush_bench.sh) in Debian's 6.12
# under TCG (SVM + NPT, kvm-amd). vmmemtop loads its BPF programs once and exits; bpf_hold
# keeps them and attaches or detaches all of them between blocks of work, so the states
# compared are exactly "vmmem's hooks attached" (H) and "none" (A), in adjacent blocks, the
# order alternating:
#  IPI:   one ipi_runner (vCPU 0 sends N x2APIC IPIs to vCPU 1 per block, each after the
#         previous one was handled; each vCPU on its own CPU, vCPU 1 waiting in MODE, halt or
#         spin); the runner times each block (IPI_BLOCKS).
#  flush: one evict_runner (K guest pages NPT maps, discarded one madvise(MADV_DONTNEED) at a
#         time after each pass: each discard zaps a mapping and KVM flushes the VM's TLBs);
#         the runner times the K discards. Oracle of the flushes: the VM's debugfs
#         remote_tlb_flush_requests (every kvm_flush_remote_tlbs() call, virt/kvm/kvm_main.c).
#  After the pairs, S blocks with kernel.bpf_stats_enabled on and tests/bench/empty_kvm.bpf.c's
#  empty programs attached beside vmmem's (state S): bpftool's run_cnt / run_time_ns before
#  and after them.
#  kmod: with vmmem.ko there, IPI blocks with the module loaded (K) against none (A).
# Prints UNIT lines (kind index state pair, then name=value: wall (ns), the vCPU threads' CPU
# ns cpu0 and cpu1 (IPI), flushes (the oracle's count)), STATS lines (kind 0|1 json); the
# host computes the figures. Ends with ALLDONE and powers off.
. /lib/kvm-guest-lib.sh
. /lib/bpf_hooks.sh
guest_boot
mount -t debugfs nodev /sys/kernel/debug
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r) CPUS=$(grep -c ^processor /proc/cpuinfo)" \
	"CLOCKSOURCE=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
need_kvm
. /etc/bench.conf	# N MODE PAIRS SBLOCKS K FPAIRS KPAIRS
echo never > /sys/kernel/mm/transparent_hugepage/enabled

# wait_for FILE ERE [TENTHS]: until a line of FILE matches (default 120 s); 1 if it never did
wait_for() {
	i=0
	while ! grep -qE "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt "${3:-3000}" ] && return 1
		usleep 100000
	done
}

# hold attach|detach: all of vmmem's hooks on, or none
hold() {
	want="ok 0"; [ "$1" = attach ] && want="ok $NHOOKS"
	echo "$1" >&7
	read -r r <&8
	[ "$r" = "$want" ] || echo "BENCHFAIL bpf_hold $1: $r (expected $want)"
}

stats() { bpftool prog show -j | jq -c '[.[] | {id, name, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]'; }

# set_state KIND STATE: make STATE hold for the next unit (S: the first one turns on the
# stats and the empty baseline, and takes the "before" reading)
set_state() {
	case $2 in
	A | W)	hold detach
		[ -n "${KMOD_IN:-}" ] && { rmmod vmmem; KMOD_IN=; } ;;
	H)	hold attach ;;
	K)	[ -n "${KMOD_IN:-}" ] || { insmod /vmmem.ko || echo "BENCHFAIL insmod vmmem.ko"; KMOD_IN=1; } ;;
	S)	[ -n "${EMPTY:-}" ] && return
		hold attach
		rm -f /tmp/empty.out	# else the last phase's "ready" is read before this one's load
		/bin/empty_loader /empty_kvm.bpf.o > /tmp/empty.out 2>&1 & EMPTY=$!
		wait_for /tmp/empty.out "^ready.*$|cannot" || echo "BENCHFAIL empty_loader did not start"
		grep -q ready /tmp/empty.out || echo "BENCHFAIL $(cat /tmp/empty.out)"
		echo 1 > /proc/sys/kernel/bpf_stats_enabled
		echo "STATS $1 0 $(stats)" ;;
	esac
}

stats_end() {
	echo "STATS $1 1 $(stats)"
	echo 0 > /proc/sys/kernel/bpf_stats_enabled
	kill $EMPTY; wait $EMPTY; EMPTY=
}

# schedule X Y PAIRS SBLOCKS: the states of the units in order: 2 warm-up, PAIRS adjacent
# pairs of X and Y (the order alternating), then SBLOCKS stats units
schedule() {
	echo "W 0"; echo "W 0"
	p=1
	while [ $p -le "$3" ]; do
		if [ $((p % 2)) = 1 ]; then echo "$1 $p"; echo "$2 $p"; else echo "$2 $p"; echo "$1 $p"; fi
		p=$((p + 1))
	done
	p=0; while [ $p -lt "$4" ]; do echo "S 0"; p=$((p + 1)); done
}

# next_line PREFIX: the next line the runner writes to fd 6 (a fifo) that starts with PREFIX.
# The shell sleeps in read() meanwhile: under icount any instruction of any vCPU advances the
# guest's clock, so a poll (a fork of grep: ~1.6 M instructions) during a timed block or a
# program's run would be counted in it (it was: half the flush blocks, +1.2 k ns per run of
# madvise_sys_fexit)
next_line() {
	while read -r l <&6; do
		case $l in "$1"*) echo "$l"; return 0 ;; esac
	done
	return 1
}

# ipi_run KIND X Y PAIRS SBLOCKS: one ipi_runner through the schedule
ipi_run() {
	kind=$1
	rm -f /tmp/ipi.in /tmp/ipi.o; busybox mkfifo /tmp/ipi.in /tmp/ipi.o
	schedule "$2" "$3" "$4" "$5" > /tmp/sched
	blocks=$(( $(wc -l < /tmp/sched) + 1 ))	# the last block ends the runner, untimed
	IPI_BLOCKS=$blocks ipi_runner "$N" "$MODE" 0 1 < /tmp/ipi.in > /tmp/ipi.o 2>&1 &
	rp=$!
	exec 5> /tmp/ipi.in 6< /tmp/ipi.o
	next_line "$rp" > /dev/null || { echo "BENCHFAIL $kind: ipi_runner did not start"; exec 5>&- 6<&-; return; }
	b=0
	while read -r st pair; do
		set_state "$kind" "$st"
		if [ $b = 0 ]; then kill -USR1 $rp; else echo go >&5; fi
		b=$((b + 1))
		l=$(next_line "block $b ") || { echo "BENCHFAIL $kind: no block $b"; break; }
		echo "UNIT $kind $b $st $pair wall=${l#block $b ns=}"
	done < /tmp/sched
	[ -n "${EMPTY:-}" ] && stats_end "$kind"
	set_state "$kind" A
	echo go >&5; exec 5>&-
	l=$(next_line "done ") ; exec 6<&-
	wait $rp
	[ "$l" = "done ipis=$((N * blocks))" ] || echo "BENCHFAIL $kind: ipi_runner ended with '$l'"
}

# flush_run X Y PAIRS SBLOCKS: one evict_runner (K pages, discards timed) through the schedule
flush_run() {
	rm -f /tmp/fr.o; busybox mkfifo /tmp/fr.o
	schedule "$1" "$2" "$3" "$4" > /tmp/sched
	evict_runner "$K" discard > /tmp/fr.o 2> /tmp/fr.err & wf=$!
	exec 6< /tmp/fr.o
	R=$(next_line "") || { echo "BENCHFAIL flush: evict_runner did not start: $(cat /tmp/fr.err)"; exec 6<&-; return; }
	b=0
	while read -r st pair; do
		set_state flush "$st"
		D=$(ls -d /sys/kernel/debug/kvm/$R-* 2>/dev/null | head -n 1)
		f0=$(cat $D/remote_tlb_flush_requests 2>/dev/null || echo 0)
		kill -USR1 $R
		b=$((b + 1))
		l=$(next_line "pass $b ") || { echo "BENCHFAIL flush: no pass $b: $(cat /tmp/fr.err)"; break; }
		echo "UNIT flush $b $st $pair wall=${l#pass $b discard_ns=} flushes=$(( $(cat $D/remote_tlb_flush_requests) - f0 ))"
	done < /tmp/sched
	[ -n "${EMPTY:-}" ] && stats_end flush
	set_state flush A
	kill $wf; exec 6<&-; wait $wf 2>/dev/null
}

# vmmem's programs: loaded by vmmemtop, then held by bpf_hold (vmmemtop gone: no sampling)
vmmemtop snapshot --interval 600 --json -v --backend bpf > /tmp/snap.json 2> /tmp/snap.err & SP=$!
wait_for /tmp/snap.err "^vmmemtop: counting" 9000 || { echo "BENCHFAIL vmmemtop did not load: $(tail -5 /tmp/snap.err)"; echo ALLDONE; poweroff -f; }
grep -E "notice: unavailable" /tmp/snap.err | cut -c1-200 | sed 's/^/UNAVAILABLE /'
HOOKS=$(bpf_hooks $SP) || echo "BENCHFAIL bpf_hooks"
NHOOKS=$(echo $HOOKS | wc -w)
echo "HOOKS $NHOOKS $(echo $HOOKS)"
busybox mkfifo /tmp/hold.in /tmp/hold.out
# shellcheck disable=SC2086
bpf_hold $HOOKS < /tmp/hold.in > /tmp/hold.out 2> /tmp/hold.err & HOLD=$!
exec 7> /tmp/hold.in 8< /tmp/hold.out
kill -INT $SP; wait $SP

t0=$(cut -d' ' -f1 /proc/uptime)
ipi_run ipi A H "$PAIRS" "$SBLOCKS"
echo "PHASE ipi $(awk -v s=$t0 '{ printf "%.0f", $1 - s }' /proc/uptime) s"
t0=$(cut -d' ' -f1 /proc/uptime)
flush_run A H "$FPAIRS" "$SBLOCKS"
echo "PHASE flush $(awk -v s=$t0 '{ printf "%.0f", $1 - s }' /proc/uptime) s"
if [ -e /vmmem.ko ] && [ "$KPAIRS" -gt 0 ]; then
	t0=$(cut -d' ' -f1 /proc/uptime)
	ipi_run kmod A K "$KPAIRS" 0
	echo "PHASE kmod $(awk -v s=$t0 '{ printf "%.0f", $1 - s }' /proc/uptime) s"
fi
exec 7>&- 8<&-; wait $HOLD
echo "DMESG_BAD=$(dmesg | grep -cE 'BUG|WARNING|Oops|general protection')"
echo ALLDONE
poweroff -f
