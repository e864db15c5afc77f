#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the working-set rig's guest (Debian's 6.12 under TCG: DAMON with vaddr operations
# and its sysfs interface, and no kdamond until vmmemtop sets one up). Worker A maps 1 GiB and
# keeps touching exactly its first 256 MiB, worker B maps 256 MiB and touches nothing; after
# two available readings A widens to 512 MiB (SIGUSR1). `vmmemtop working-set` prints every
# 5 s; the host test judges the lines (WS ...) against the workers' known sets.
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
/bin/vmmemtop working-set --pid $A --pid $B --window 30 --interval 5 --json -n 26 > /tmp/ws.json 2> /tmp/ws.err &
W=$!
seen=0 widened=0
while kill -0 $W 2>/dev/null; do
	sleep 1
	n=$(grep -c '"working_set_bytes":[0-9]' /tmp/ws.json)
	if [ $widened = 0 ] && [ "$n" -ge 3 ]; then
		kill -USR1 $A
		echo "WIDEN time=$(date +%s)"
		widened=1
	fi
done
wait $W
echo "WSEXIT $?"
sed 's/^/WS /' /tmp/ws.json
sed 's/^/WSERR /' /tmp/ws.err
echo "AFTER nr_kdamonds=$(cat $D/nr_kdamonds)"
echo ALLDONE
poweroff -f
