#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the module lifecycle stress guest (6.1 or 6.12 under TCG, -cpu max): CYCLES cycles
# of insmod vmmem.ko -> a reader blocked in poll() on /dev/vmmem -> count one kvm_guest_runner
# through the module (the reader reads its count from /dev/vmmem) against tracefs -> a second runner
# firing probes while the reader closes and rmmod runs; every 10th cycle kvm.ko is unloaded
# and reloaded under the loaded module first. One line per cycle:
#   CYCLE n=N faults=VMMEM/ORACLE rmmod=RC kvm_reload=RC r2=running|done t=UPTIME poll=LINE
# (r2: whether the second runner was still faulting when rmmod ran)
# then the kernel log against /etc/denylist (DENY lines, DMESG_BAD=N), LEFT=<modules named
# vmmem still loaded>, ALLDONE.
. /lib/kvm-guest-lib.sh
guest_boot
echo "NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null) KERNEL=$(uname -r)"
need_kvm
echo madvise > /sys/kernel/mm/transparent_hugepage/enabled	# 4 KiB NPT faults on every kernel
[ -n "${STRESS_TRACE:-}" ] && set -x
CYCLES=$(sed -n 's/.*vmmem_cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
oracle_instance
echo 'kvm:kvm_page_fault' > $T/set_event

# until_or SECS CMD...: until CMD succeeds, at most SECS of guest time (read, a shell builtin,
# keeps the loop free of forks: under a loaded host each costs the TCG guest tens of ms)
until_or() {
	secs=$1; shift
	read up _ < /proc/uptime; end=$(( ${up%.*} + secs ))
	while ! "$@" 2>/dev/null; do
		read up _ < /proc/uptime; [ ${up%.*} -ge $end ] && return 1
		usleep 20000
	done
}

i=1
while [ $i -le ${CYCLES:-50} ]; do
	insmod /vmmem.ko || echo "CASEFAIL insmod cycle $i"
	krc=-
	if [ $((i % 10)) = 0 ]; then
		# kvm.ko goes and comes back under the loaded module (its notifier re-attaches probes)
		rmmod kvm_amd && rmmod kvm; krc=$?
		for m in $(cat /etc/modules.order); do case $m in *kvm*) insmod "$m";; esac; done
		echo 'kvm:kvm_page_fault' > $T/set_event	# the oracle's event went with kvm.ko
	fi
	rm -f /tmp/poll.out /tmp/r.out /tmp/r2.out
	# no 1.2 s settle before the vCPUs start: that wait is for rigs that count balloon
	# discards (vmmemtop learning guest RAM first); this one counts faults only
	RUNNER_SETTLE_MS=0 kvm_guest_runner 32 1 > /tmp/r.out &
	r=$!
	# the second runner waits for its SIGUSR1 until the end of the cycle
	RUNNER_SETTLE_MS=0 kvm_guest_runner 512 1 > /tmp/r2.out &
	r2=$!
	# the reader sits in poll() all cycle long; at its end it reads the runner's count
	vmmem_poll 120 $r > /tmp/poll.out &
	pp=$!
	while ! grep -q polling /tmp/poll.out 2>/dev/null; do usleep 20000; done
	echo 0 > $T/tracing_on; echo > $T/trace; echo 1 > $T/tracing_on
	# a runner prints its pid once its SIGUSR1 handler is set; signalled before that it dies
	# without running (seen once in 100 cycles on 6.12: faults none/0)
	until_or 5 [ -s /tmp/r.out ]
	kill -USR1 $r; wait $r
	echo 0 > $T/tracing_on
	# probes fire while the reader closes and the module goes: once the second runner has
	# started its vCPU (it prints "running"). Soon after the first runner's exit: the module
	# keeps an exited VMM's counters for VMMEM_EXIT_LINGER_S (10 s) only, and the reader
	# reads them at its end (waits bounded by iteration counts once took longer under load)
	until_or 5 [ -s /tmp/r2.out ]
	kill -USR1 $r2
	until_or 2 grep -q running /tmp/r2.out
	kill -TERM $pp; wait $pp
	f=$(sed -n 's/.* faults=\([^ ]*\).*/\1/p' /tmp/poll.out)
	r2st=$(tail -n 1 /tmp/r2.out)	# "running" (its probes fire now) or "done"
	rmmod vmmem; rc=$?
	# the second runner's work was to fire probes during rmmod: the rest of its 512 pages
	# proves nothing more (measured: 4.4 s of guest time per cycle instead of 5.0 s), so it goes
	kill -TERM $r2 2>/dev/null; wait $r2
	echo "CYCLE n=$i faults=$f/$(count_oracle kvm_page_fault $r) rmmod=$rc kvm_reload=$krc r2=$r2st t=$(cut -d' ' -f1 /proc/uptime) poll=$(tail -n 1 /tmp/poll.out | tr ' ' ',')"
	i=$((i + 1))
done
dmesg > /tmp/dmesg
grep -E -f /etc/denylist /tmp/dmesg | head -20 | sed 's/^/DENY /'
echo "DMESG_BAD=$(grep -cE -f /etc/denylist /tmp/dmesg)"
echo "LEFT=$(grep -c '^vmmem ' /proc/modules)"
echo ALLDONE
poweroff -f
