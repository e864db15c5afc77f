// SPDX-License-Identifier: GPL-2.0
/*
 * vmmem.ko: per-VMM counters of the host memory machinery, for hosts where BPF is not
 * available or not allowed. /dev/vmmem: read() returns a versioned binary snapshot
 * (kmod/uapi/vmmem.h); ioctls give the ABI version, reset, and the rare-event ring,
 * which poll() reports. Mode 0640: deploy/99-vmmem.rules (udev) gives the node to a
 * "vmmem" group, so a monitoring user in it reads counters without root.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "vmmem_internal.h"

/* Probes never wake anyone (they may run under scheduler locks): a timer does. */
static struct timer_list wake_timer;

static void wake_timer_fn(struct timer_list *t)
{
	if (vmmem_events_pending())
		wake_up_interruptible(&vmmem_event_wait);
	mod_timer(&wake_timer, jiffies + HZ / 10);
}

static ssize_t vmmem_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	size_t max = vmmem_snapshot_max_size();
	ssize_t n;
	void *buf;

	if (*ppos != 0)
		return 0;	/* one snapshot per read from offset 0 (pread works too) */
	buf = kvzalloc(max, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	n = vmmem_table_snapshot(buf, max, vmmem_probes_available_vm(), vmmem_probes_available_host());
	if (n > 0 && (size_t)n > len)
		n = -EMSGSIZE;	/* the caller's buffer must hold the whole snapshot */
	if (n > 0 && copy_to_user(ubuf, buf, n))
		n = -EFAULT;
	kvfree(buf);
	return n;
}

static long vmmem_get_events(void __user *arg)
{
	struct vmmem_events_req req;
	struct vmmem_event *evs;
	int n;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.max || req.max > 4096 || req.count)
		return -EINVAL;
	evs = kvcalloc(req.max, sizeof(*evs), GFP_KERNEL);
	if (!evs)
		return -ENOMEM;
	n = vmmem_events_copy(evs, req.max);
	req.count = n;
	if (copy_to_user(u64_to_user_ptr(req.buf), evs, n * sizeof(*evs)) ||
	    copy_to_user(arg, &req, sizeof(req)))
		n = -EFAULT;
	kvfree(evs);
	return n < 0 ? n : 0;
}

static long vmmem_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VMMEM_IOC_ABI_VERSION:
		return VMMEM_ABI_VERSION;
	case VMMEM_IOC_RESET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		vmmem_table_reset();
		return 0;
	case VMMEM_IOC_GET_EVENTS:
		return vmmem_get_events((void __user *)arg);
	}
	return -ENOTTY;
}

static __poll_t vmmem_poll(struct file *f, struct poll_table_struct *wait)
{
	poll_wait(f, &vmmem_event_wait, wait);
	return vmmem_events_pending() ? EPOLLIN | EPOLLRDNORM : 0;
}

static const struct file_operations vmmem_fops = {
	.owner = THIS_MODULE,	/* an open /dev/vmmem pins the module: rmmod says busy */
	.read = vmmem_read,
	.unlocked_ioctl = vmmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = vmmem_poll,
	.llseek = default_llseek,
};

static struct miscdevice vmmem_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmmem",
	.fops = &vmmem_fops,
	.mode = 0640,
};

static int __init vmmem_init(void)
{
	int ret;

	ret = vmmem_table_init();
	if (ret)
		return ret;
	ret = vmmem_probes_init();
	if (ret)
		goto out_table;
	timer_setup(&wake_timer, wake_timer_fn, 0);
	mod_timer(&wake_timer, jiffies + HZ / 10);
	ret = misc_register(&vmmem_dev);
	if (ret)
		goto out_timer;
	pr_info("vmmem: loaded, ABI %d\n", VMMEM_ABI_VERSION);
	return 0;

out_timer:
	del_timer_sync(&wake_timer);
	vmmem_probes_exit();
out_table:
	vmmem_table_exit();
	return ret;
}

static void __exit vmmem_exit(void)
{
	misc_deregister(&vmmem_dev);
	vmmem_probes_exit();		/* waits until no probe runs */
	del_timer_sync(&wake_timer);
	wake_up_interruptible_all(&vmmem_event_wait);
	vmmem_table_exit();
	pr_info("vmmem: unloaded\n");
}

module_init(vmmem_init);
module_exit(vmmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmmem: per-VM counters of the host memory machinery (TDP faults, TLB, THP)");
