// SPDX-License-Identifier: GPL-2.0
/*
 * What every function hook file (vmmem_kprobes.c, vmmem_ksm.c, vmmem_evict.c,
 * vmmem_guest_ram.c) shares: registering a kprobe or kretprobe from a clean state, the
 * counters a registered one feeds, its miss count, and the owner of an mm.
 */
#include <linux/cpumask.h>
#include <linux/kprobes.h>
#include <linux/minmax.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include "vmmem_internal.h"

static bool is_kretprobe(const struct vmmem_hook *h)
{
	return h->rp.kp.symbol_name;
}

const char *vmmem_hook_name(const struct vmmem_hook *h)
{
	return is_kretprobe(h) ? h->rp.kp.symbol_name : h->kp.symbol_name;
}

/*
 * Process context, serialised by the caller.  A probe registered before keeps the address
 * it resolved then (kernel/kprobes.c): one on kvm.ko's functions must forget it when kvm.ko
 * comes back, so every registration starts from a clean state.
 */
int vmmem_hook_register(struct vmmem_hook *h)
{
	int ret;

	if (h->on)
		return 0;
	if (is_kretprobe(h)) {
		h->rp.kp.addr = NULL;
		h->rp.kp.flags = 0;
		/* enough return instances for every CPU to be inside one call, twice */
		h->rp.maxactive = max_t(int, 16, 2 * num_possible_cpus());
		ret = register_kretprobe(&h->rp);
	} else {
		h->kp.addr = NULL;
		h->kp.flags = 0;
		ret = register_kprobe(&h->kp);
	}
	h->on = !ret;
	return ret;
}

/* Process context: waits until no handler of this probe runs. */
void vmmem_hook_unregister(struct vmmem_hook *h)
{
	if (!h->on)
		return;
	if (is_kretprobe(h))
		unregister_kretprobe(&h->rp);
	else
		unregister_kprobe(&h->kp);
	h->on = false;
}

void vmmem_hooks_unregister(struct vmmem_hook *h, size_t n)
{
	while (n--)
		vmmem_hook_unregister(&h[n]);
}

void vmmem_hooks_available(const struct vmmem_hook *h, size_t n, u64 avail[4])
{
	size_t i, k;

	for (i = 0; i < n; i++)
		for (k = 0; k < 4 && h[i].on; k++)
			avail[k] |= h[i].avail[k];
}

/* Calls a handler skipped: a kprobe hit while another probe ran on its CPU, or a kretprobe
 * return with every instance in use. */
u64 vmmem_hooks_missed(const struct vmmem_hook *h, size_t n)
{
	u64 missed = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!h[i].on)
			continue;
		if (is_kretprobe(&h[i]))
			missed += READ_ONCE(h[i].rp.nmissed) + READ_ONCE(h[i].rp.kp.nmissed);
		else
			missed += READ_ONCE(h[i].kp.nmissed);
	}
	return missed;
}

/* The tgid of the process owning mm (mm->owner exists with CONFIG_MEMCG); 0 if unknown. */
pid_t vmmem_mm_owner_tgid(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	struct task_struct *owner;
	pid_t tgid = 0;

	if (!mm)
		return 0;
	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	if (owner)
		tgid = owner->tgid;
	rcu_read_unlock();
	return tgid;
#else
	return 0;
#endif
}
