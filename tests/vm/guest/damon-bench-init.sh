#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the DAMON cost bench (Debian's 6.12 under TCG): one ws_worker (1 GiB, 256 MiB
# touched over and over) monitored by `vmmemtop working-set` for 8 readings; prints the
# readings (BENCH ...) and the worker's own CPU time (the baseline of the same run).
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
/bin/ws_worker 1024 256 > /tmp/a.pid &
while [ ! -s /tmp/a.pid ]; do sleep 0.2; done
A=$(cat /tmp/a.pid)
cpu() { awk '{ print $14 + $15 }' /proc/$1/stat; }
w0=$(cpu $A) t0=$(date +%s)
/bin/vmmemtop working-set --pid $A --window 10 --interval 5 -n 8 --json > /tmp/ws.json 2> /tmp/ws.err
echo "WORKER ticks=$(( $(cpu $A) - w0 )) seconds=$(( $(date +%s) - t0 )) hz=100"
sed 's/^/BENCH /' /tmp/ws.json
sed 's/^/BENCHERR /' /tmp/ws.err
echo ALLDONE
poweroff -f
