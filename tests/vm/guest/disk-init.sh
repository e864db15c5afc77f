#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the disk guest (tests/vm/test_qemu_no_balloon.sh): a virtio-blk disk, no balloon.
# It waits for the host's "GO" in the disk's first sector (read with O_DIRECT, past the page
# cache), then reads the disk with 8 parallel streams, which makes QEMU's thread pool
# (util/thread-pool.c) start I/O workers; then it idles, and the workers retire after 10 s.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
echo READY
until busybox dd if=/dev/vda bs=4096 count=1 iflag=direct 2>/dev/null | grep -q GO; do usleep 300000; done
echo GOT_GO
for j in 1 2 3 4 5 6 7 8; do
	busybox dd if=/dev/vda of=/dev/null bs=64k count=64 skip=$((j * 64)) iflag=direct 2>/dev/null &
done
wait
echo IODONE
while :; do sleep 1000; done
