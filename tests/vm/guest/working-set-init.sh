#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the working-set rig's guest (Debian's 6.12 under TCG: DAMON with vaddr operations
# and its sysfs interface, and no kdamond until vmmemtop sets one up). Worker A maps 1 GiB and
# keeps touching exactly its first 256 MiB, worker B maps 256 MiB and touches nothing; after
# three available readings of A it widens to 512 MiB (SIGUSR1); four lines (or 70 s) later
# `vmmemtop working-set` (window 15 s, a line every 5 s or as soon as DAMON answers) is
# stopped with SIGTERM. The host test judges the lines (WS ...) against the workers' known sets.
# Then the same through the sampler and a real KVM guest: ws_kvm_guest (256 MiB of guest RAM, all
# of it resident, its guest code touching 64 MiB through nested NPT) under `vmmemtop snapshot
# --backend kmod --working-set=15 --json` until three figures are available (SNAP ...).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
D=/sys/kernel/mm/damon/admin/kdamonds
echo "KERNEL=$(uname -r) nr_kdamonds=$(cat $D/nr_kdamonds 2>/dev/null || echo none)"
/bin/ws_worker 1024 256 > /tmp/a.pid &
/bin/ws_worker 256 0 > /tmp/b.pid &
while [ ! -s /tmp/a.pid ] || [ ! -s /tmp/b.pid ]; do sleep 0.2; done
A=$(cat /tmp/a.pid) B=$(cat /tmp/b.pid)
echo "WORKERS A=$A B=$B"
/bin/vmmemtop working-set --pid $A --pid $B --window 15 --interval 5 --json > /tmp/ws.json 2> /tmp/ws.err &
W=$!
t0=$(date +%s) widened=0
while kill -0 $W 2>/dev/null; do
	sleep 1
	n=$(grep -c "\"pid\":$A,\"name\":\"[^\"]*\",\"working_set_bytes\":[0-9]" /tmp/ws.json)
	if [ $widened = 0 ] && [ "$n" -ge 3 ]; then
		kill -USR1 $A
		tw=$(date +%s) n0=$(wc -l < /tmp/ws.json) widened=1
		echo "WIDEN time=$tw"
	fi
	now=$(date +%s)
	if { [ $widened = 1 ] && { [ $(( $(wc -l < /tmp/ws.json) - n0 )) -ge 4 ] || [ $((now - tw)) -ge 70 ]; }; } ||
	   [ $((now - t0)) -ge 240 ]; then
		kill -TERM $W
	fi
done
wait $W
echo "WSEXIT $?"
sed 's/^/WS /' /tmp/ws.json
sed 's/^/WSERR /' /tmp/ws.err
echo "AFTER nr_kdamonds=$(cat $D/nr_kdamonds)"
kill $A $B	# the one TCG CPU is the nested guest's from here

# guest accesses through NPT, and the figure through the sampler (snapshot JSON)
for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
if [ ! -c /dev/kvm ]; then
	echo "KVMFAIL no /dev/kvm (NPT=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null))"
elif ! insmod /vmmem.ko; then
	echo "KVMFAIL insmod vmmem.ko"
else
	/bin/ws_kvm_guest 256 64 > /tmp/k.out 2> /tmp/k.err &
	K=$!
	i=0
	while ! grep -q running /tmp/k.out && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	echo "KVMGUEST pid=$K total_mib=256 hot_mib=64 NPT=$(cat /sys/module/kvm_amd/parameters/npt) $(cat /tmp/k.err)"
	/bin/vmmemtop snapshot --backend kmod --working-set=15 --json -n 40 -i 5 --pid $K > /tmp/snap.json 2> /tmp/snap.err &
	S=$!
	t0=$(date +%s)
	while kill -0 $S 2>/dev/null; do
		sleep 1
		n=$(grep -c '"working_set_bytes":[0-9]' /tmp/snap.json)
		if [ "$n" -ge 3 ] || [ $(( $(date +%s) - t0 )) -ge 180 ]; then kill -INT $S; fi
	done
	wait $S
	echo "SNAPEXIT $? after $(( $(date +%s) - t0 )) s"
	sed 's/^/SNAP /' /tmp/snap.json
	grep -v "^libbpf\|notice" /tmp/snap.err | sed 's/^/SNAPERR /'
	kill $K
	echo "AFTER2 nr_kdamonds=$(cat $D/nr_kdamonds)"
fi
echo ALLDONE
poweroff -f
