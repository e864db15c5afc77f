#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the balloon guest: load the virtio balloon stack, say READY, then report the
# guest's own balloon counters (the oracle) on the console twice a second.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
echo READY
while :; do
	awk '/^balloon_inflate / { i = $2 } /^balloon_deflate / { d = $2 }
	     END { printf "VMSTAT balloon_inflate=%d balloon_deflate=%d\n", i, d }' /proc/vmstat
	usleep 500000
done
