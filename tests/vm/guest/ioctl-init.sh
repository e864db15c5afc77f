#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the ioctl guest: loads vmmem.ko (no KVM needed), runs vmmem_ioctl_check as root
# against /dev/vmmem, and prints its lines, the kernel log's verdict and ALLDONE.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp && mount -t tmpfs tmp /tmp
for m in $(cat /etc/modules.order); do insmod "$m" || echo "insmod $m failed"; done
echo "KERNEL=$(uname -r)"
insmod /vmmem.ko; echo "INSMOD rc=$?"
dmesg -c > /dev/null
/bin/vmmem_ioctl_check /dev/vmmem; echo "CHECK rc=$?"
# anything the calls made the kernel say (a WARN from a bad size, a BUG, a usercopy
# complaint, a uaccess splat, any line of vmmem's) is printed and counted
dmesg | sed 's/^/DMESG /'
echo "DMESG_BAD=$(dmesg | grep -cE 'WARNING|BUG:|Oops|Call Trace|general protection|usercopy|uaccess|vmmem')"
rmmod vmmem; echo "RMMOD rc=$?"
echo ALLDONE
poweroff -f
