// SPDX-License-Identifier: GPL-2.0
/*
 * vmmem.ko: per-VMM counters of the host's memory machinery (TDP faults, exits, TLB
 * shootdowns, THP collapses, balloon discards) for hosts where BPF is not available or
 * not allowed.  /dev/vmmem: read() returns a versioned binary snapshot, ioctls give the
 * ABI version, reset, tracking and the event stream, poll() reports pending events
 * (kmod/uapi/vmmem.h).  The node is mode 0640 with the group of the gid= parameter, so
 * a monitoring user in that group reads counters without root.
 *
 * Unload: an open /dev/vmmem holds a reference on the module (fops owner), so rmmod is
 * refused while a reader has it open; once closed, the probes detach and every probe
 * still running has returned before anything is freed.
 */
#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/version.h>
#include <linux/workqueue.h>
#include "vmmem_internal.h"

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 1, 0)
#error "vmmem.ko needs Linux 6.1 or later (tracepoint prototypes; use the BPF backend)"
#endif

static unsigned int gid;
module_param(gid, uint, 0444);
MODULE_PARM_DESC(gid, "group of /dev/vmmem (mode 0640); its members read counters without root");

unsigned int vmmem_max_vms;
module_param_named(max_vms, vmmem_max_vms, uint, 0444);
MODULE_PARM_DESC(max_vms, "VMM slots (default: 1024, fewer where per-CPU storage would pass 64 MiB)");

static unsigned int ring_size = 4096;
module_param(ring_size, uint, 0444);
MODULE_PARM_DESC(ring_size, "event records per CPU, a power of two (64..65536)");

static bool tlb_latency = true;
module_param(tlb_latency, bool, 0444);
MODULE_PARM_DESC(tlb_latency, "time TLB shootdowns with a kretprobe on flush_tlb_mm_range");

#define PCPU_BUDGET	(64u << 20)
#define TICK		(HZ / 10)	/* wake pollers; reap every 10 ticks */

static dev_t devt;
static struct cdev vmmem_cdev;
static struct device *vmmem_device;
static struct delayed_work tick_work;
static unsigned int ticks;

static void tick_fn(struct work_struct *w)
{
	if (vmmem_events_pending())
		wake_up_interruptible(&vmmem_event_wait);
	if (++ticks % 10 == 0)
		vmmem_table_reap();
	vmmem_guest_ram_work();
	schedule_delayed_work(&tick_work, TICK);
}

static void available(u64 avail[4])
{
	avail[0] = avail[1] = avail[2] = avail[3] = 0;
	vmmem_probes_available(avail);
	vmmem_kprobes_available(avail);
	vmmem_ksm_kprobes_available(avail);
	vmmem_evict_available(avail);
	avail[1] |= BIT_ULL(VMMEM_H_dropped_events) | BIT_ULL(VMMEM_H_missed_runs) |
		   BIT_ULL(VMMEM_H_pool_exhausted);
}

static ssize_t vmmem_read(struct file *f, char __user *ubuf, size_t len, loff_t *ppos)
{
	struct vmmem_snapshot_header *h;
	bool max = false;
	size_t size;
	u64 avail[4];
	ssize_t n;

	if (*ppos != 0)
		return 0;	/* one snapshot per read from offset 0: use pread() or lseek */
	available(avail);
retry:
	size = vmmem_snapshot_size(max);
	h = kvmalloc(size, GFP_KERNEL);
	if (!h)
		return -ENOMEM;
	n = vmmem_table_snapshot(h, size, avail);
	if (n == -ENOSPC && !max) {
		kvfree(h);
		max = true;
		goto retry;
	}
	if (n > 0) {
		h->host.c[VMMEM_H_missed_runs] += vmmem_kprobes_missed() + vmmem_ksm_kprobes_missed() +
					      vmmem_evict_missed();
		if ((size_t)n > len)
			n = -EMSGSIZE;	/* the caller's buffer must hold the whole snapshot */
		else if (copy_to_user(ubuf, h, n))
			n = -EFAULT;
		else
			*ppos = n;
	}
	kvfree(h);
	return n;
}

static long get_events(struct file *f, void __user *arg)
{
	struct vmmem_events_req req;
	struct vmmem_event *evs;
	long ret = 0;
	int n;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (!req.max || req.max > VMMEM_EVENTS_REQ_MAX || req.count)
		return -EINVAL;
	if (!vmmem_stream_owned_by(f))
		return -EPERM;
	evs = kvcalloc(req.max, sizeof(*evs), GFP_KERNEL);
	if (!evs)
		return -ENOMEM;
	n = vmmem_events_copy(evs, req.max);
	req.count = n;
	if (copy_to_user(u64_to_user_ptr(req.buf), evs, (size_t)n * sizeof(*evs)) ||
	    copy_to_user(arg, &req, sizeof(req)))
		ret = -EFAULT;	/* those records are lost; the caller's pointer was bad */
	kvfree(evs);
	return ret;
}

static long vmmem_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VMMEM_IOC_ABI_VERSION:
		return VMMEM_ABI_VERSION;
	case VMMEM_IOC_RESET:
		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		vmmem_table_reset();
		return 0;
	case VMMEM_IOC_GET_EVENTS:
		return get_events(f, uarg);
	case VMMEM_IOC_SET_STREAM: {
		struct vmmem_stream_req req;

		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		return vmmem_stream_set(f, req.mask, req.slow_ns);
	}
	case VMMEM_IOC_TRACK: {
		struct vmmem_track_req req;

		if (!capable(CAP_SYS_ADMIN))
			return -EPERM;
		if (copy_from_user(&req, uarg, sizeof(req)))
			return -EFAULT;
		if (req.reserved || !req.tgid || req.tgid > PID_MAX_LIMIT)
			return -EINVAL;
		return vmmem_table_track(req.tgid);
	}
	}
	return -ENOTTY;
}

static __poll_t vmmem_poll(struct file *f, struct poll_table_struct *wait)
{
	poll_wait(f, &vmmem_event_wait, wait);
	return vmmem_stream_owned_by(f) && vmmem_events_pending() ? EPOLLIN | EPOLLRDNORM : 0;
}

static int vmmem_release(struct inode *inode, struct file *f)
{
	vmmem_stream_release(f);
	return 0;
}

static const struct file_operations vmmem_fops = {
	.owner = THIS_MODULE,	/* an open /dev/vmmem pins the module: rmmod says busy */
	.read = vmmem_read,
	.unlocked_ioctl = vmmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.poll = vmmem_poll,
	.release = vmmem_release,
	.llseek = default_llseek,
};

/* devtmpfs asks the device type for the node's mode and owner (drivers/base/devtmpfs.c) */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
static char *vmmem_devnode(const struct device *dev, umode_t *mode, kuid_t *uid, kgid_t *g)
#else
static char *vmmem_devnode(struct device *dev, umode_t *mode, kuid_t *uid, kgid_t *g)
#endif
{
	if (mode)
		*mode = 0640;
	if (g)
		*g = make_kgid(&init_user_ns, gid);
	return NULL;
}

static const struct device_type vmmem_type = {
	.name = "vmmem",
	.devnode = vmmem_devnode,
};

static void vmmem_device_release(struct device *dev)
{
	kfree(dev);
}

static int device_create_node(void)
{
	int ret;

	ret = alloc_chrdev_region(&devt, 0, 1, "vmmem");
	if (ret)
		return ret;
	cdev_init(&vmmem_cdev, &vmmem_fops);
	vmmem_cdev.owner = THIS_MODULE;
	vmmem_device = kzalloc(sizeof(*vmmem_device), GFP_KERNEL);
	if (!vmmem_device) {
		unregister_chrdev_region(devt, 1);
		return -ENOMEM;
	}
	device_initialize(vmmem_device);
	vmmem_device->devt = devt;
	vmmem_device->type = &vmmem_type;
	vmmem_device->release = vmmem_device_release;
	dev_set_name(vmmem_device, "vmmem");
	ret = cdev_device_add(&vmmem_cdev, vmmem_device);
	if (ret) {
		put_device(vmmem_device);
		unregister_chrdev_region(devt, 1);
	}
	return ret;
}

static void device_remove_node(void)
{
	cdev_device_del(&vmmem_cdev, vmmem_device);
	put_device(vmmem_device);
	unregister_chrdev_region(devt, 1);
}

static int __init vmmem_init(void)
{
	size_t per_vm = sizeof(struct vmmem_pcpu) * num_possible_cpus();
	int ret;

	if (!vmmem_max_vms)
		vmmem_max_vms = clamp_t(size_t, PCPU_BUDGET / per_vm, 1, VMMEM_MAX_VMS);
	if (vmmem_max_vms > VMMEM_MAX_VMS || ring_size < 64 || ring_size > 65536 ||
	    !is_power_of_2(ring_size)) {
		pr_err(VMMEM_PFX "max_vms must be 1..%d, ring_size a power of two in 64..65536\n",
		       VMMEM_MAX_VMS);
		return -EINVAL;
	}
	ret = vmmem_table_init();
	if (ret)
		return ret;
	ret = vmmem_spans_init();
	if (ret)
		goto out_table;
	ret = vmmem_events_init(ring_size);
	if (ret)
		goto out_spans;
	ret = device_create_node();
	if (ret)
		goto out_events;
	ret = vmmem_probes_init();
	if (ret)
		goto out_device;
	if (vmmem_guest_ram_init())
		pr_warn(VMMEM_PFX "no memory for guest RAM tables: balloon counters unavailable\n");
	vmmem_kprobes_init(tlb_latency);
	/* KSM: the tracepoints where the kernel has them (6.4+), else kprobes */
	vmmem_ksm_kprobes_init(!vmmem_probes_attached("ksm_merge_with_ksm_page"),
			       !vmmem_probes_attached("ksm_stop_scan"));
	vmmem_evict_init();
	INIT_DELAYED_WORK(&tick_work, tick_fn);
	schedule_delayed_work(&tick_work, TICK);
	pr_info(VMMEM_PFX "loaded: ABI %d, %u VM slots, %u events per CPU, /dev/vmmem group %u\n",
		VMMEM_ABI_VERSION, vmmem_max_vms, ring_size, gid);
	return 0;

out_device:
	device_remove_node();
out_events:
	vmmem_events_exit();
out_spans:
	vmmem_spans_exit();
out_table:
	vmmem_table_exit();
	return ret;
}

static void __exit vmmem_exit(void)
{
	/* no file is open (the module would be pinned): no new ones from here */
	device_remove_node();
	vmmem_evict_exit();
	vmmem_ksm_kprobes_exit();
	vmmem_kprobes_exit();
	vmmem_probes_exit();	/* returns when no probe of ours runs any more */
	cancel_delayed_work_sync(&tick_work);
	vmmem_guest_ram_exit();
	vmmem_events_exit();
	vmmem_spans_exit();
	vmmem_table_exit();
	pr_info(VMMEM_PFX "unloaded\n");
}

module_init(vmmem_init);
module_exit(vmmem_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vmmem: per-VM counters of the host memory machinery (TDP faults, TLB, THP, balloon)");
