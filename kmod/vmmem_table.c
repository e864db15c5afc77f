// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM table: one slot per VMM process, claimed in probe context without allocating
 * (every slot's per-CPU storage is allocated at load), found by tgid through an RCU hash.
 *
 * Lifetime: a slot is LIVE from its VMM's first KVM event (or a TRACK ioctl) until the
 * last thread exits; then EXITED, its counters final and still readable by every reader
 * for VMMEM_EXIT_LINGER_S; then the reaper (process context) waits for an RCU grace
 * period, so no probe can still hold it, zeroes it and frees it.  A reused pid claims a
 * new slot with a new seq.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/pid.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include "vmmem_internal.h"

#define VMM_HASH_BITS	10

static struct vmmem_slot *slots;
static DEFINE_HASHTABLE(vmm_hash, VMM_HASH_BITS);
static DEFINE_RAW_SPINLOCK(table_lock);	/* claims and exits, from any probe context */
static DEFINE_MUTEX(reader_lock);	/* snapshot, reset and reap (process context) */
static atomic_t nr_claimed;		/* LIVE + EXITED slots */
static u64 next_seq;
struct vmmem_host_pcpu __percpu *vmmem_host;

int vmmem_table_init(void)
{
	unsigned int i;

	slots = kcalloc(vmmem_max_vms, sizeof(*slots), GFP_KERNEL);
	vmmem_host = alloc_percpu(struct vmmem_host_pcpu);
	if (!slots || !vmmem_host)
		goto out_free;
	for (i = 0; i < vmmem_max_vms; i++) {
		slots[i].pc = alloc_percpu(struct vmmem_pcpu);
		if (!slots[i].pc)
			goto out_free;
	}
	return 0;

out_free:
	vmmem_table_exit();
	return -ENOMEM;
}

void vmmem_table_exit(void)
{
	unsigned int i;

	if (slots)
		for (i = 0; i < vmmem_max_vms; i++)
			free_percpu(slots[i].pc);
	kfree(slots);
	slots = NULL;
	free_percpu(vmmem_host);
	vmmem_host = NULL;
}

bool vmmem_table_busy(void)
{
	return atomic_read(&nr_claimed) != 0;
}

static struct vmmem_slot *find_rcu(pid_t tgid)
{
	struct vmmem_slot *s;

	hash_for_each_possible_rcu(vmm_hash, s, node, tgid) {
		if (READ_ONCE(s->tgid) == tgid && READ_ONCE(s->state) == VMMEM_SLOT_LIVE)
			return s;
	}
	return NULL;
}

struct vmmem_slot *vmmem_slot_find(pid_t tgid)
{
	struct vmmem_slot *s;

	if (!vmmem_table_busy())
		return NULL;
	/* probes already run with preemption off; the read lock documents the hash's RCU */
	rcu_read_lock();
	s = find_rcu(tgid);
	rcu_read_unlock();
	return s;
}

static struct vmmem_slot *claim_locked(pid_t tgid)
{
	unsigned int i;

	for (i = 0; i < vmmem_max_vms; i++) {
		struct vmmem_slot *s = &slots[i];

		if (s->state != VMMEM_SLOT_FREE)
			continue;
		s->tgid = tgid;
		s->seq = ++next_seq;
		s->exit_jiffies = 0;
		atomic_inc(&nr_claimed);
		/* readers that see LIVE see this tgid and seq */
		smp_store_release(&s->state, VMMEM_SLOT_LIVE);
		hash_add_rcu(vmm_hash, &s->node, tgid);
		return s;
	}
	return NULL;
}

struct vmmem_slot *vmmem_slot_claim(pid_t tgid, u32 origin)
{
	struct vmmem_slot *s;
	unsigned long flags;
	bool full = false;

	rcu_read_lock();
	s = find_rcu(tgid);
	rcu_read_unlock();
	if (likely(s))
		return s;
	/* a VMM tearing down its VM must not be claimed again after its exit was seen */
	if (current->tgid == tgid && (current->flags & PF_EXITING))
		return NULL;
	raw_spin_lock_irqsave(&table_lock, flags);
	s = find_rcu(tgid);
	if (!s) {
		s = claim_locked(tgid);
		full = !s;
	} else {
		origin = 0;	/* another CPU claimed it meanwhile */
	}
	raw_spin_unlock_irqrestore(&table_lock, flags);
	if (full)
		vmmem_host_add(VMMEM_H_pool_exhausted, 1);
	else if (origin)
		vmmem_event_emit(VMMEM_EV_vm_start, tgid, s - slots, origin, 0);
	return s;
}

unsigned int vmmem_slot_index(const struct vmmem_slot *s)
{
	return s - slots;
}

pid_t vmmem_slot_tgid(unsigned int i, u64 seq)
{
	struct vmmem_slot *s = &slots[i];

	if (i >= vmmem_max_vms || smp_load_acquire(&s->state) != VMMEM_SLOT_LIVE || READ_ONCE(s->seq) != seq)
		return 0;
	return READ_ONCE(s->tgid);
}

void vmmem_slot_exit(pid_t tgid)
{
	struct vmmem_slot *s;
	unsigned long flags;

	raw_spin_lock_irqsave(&table_lock, flags);
	s = find_rcu(tgid);
	if (s) {
		hash_del_rcu(&s->node);
		s->exit_jiffies = jiffies;
		WRITE_ONCE(s->state, VMMEM_SLOT_EXITED);
	}
	raw_spin_unlock_irqrestore(&table_lock, flags);
	if (s)
		vmmem_event_emit(VMMEM_EV_vm_exit, tgid, s - slots, 0, 0);
}

int vmmem_table_track(pid_t tgid)
{
	struct task_struct *t;
	bool alive;

	rcu_read_lock();
	t = pid_task(find_vpid(tgid), PIDTYPE_TGID);
	alive = t && !(t->flags & PF_EXITING) && t->mm;
	rcu_read_unlock();
	if (!alive)
		return -ESRCH;
	if (vmmem_slot_find(tgid))
		return -EEXIST;
	return vmmem_slot_claim(tgid, VMMEM_ORIGIN_USER) ? 0 : -ENOSPC;
}

/* n samples of ns each (IPIs that reached a vCPU before one entry share their span) */
void vmmem_hist_add_n(struct vmmem_slot *s, int id, u64 ns, u64 n)
{
	struct vmmem_hist *h = this_cpu_ptr(&s->pc->h.h[id]);
	unsigned int i = ns ? ilog2(ns) : 0;

	if (i >= VMMEM_HIST_SLOTS)
		i = VMMEM_HIST_SLOTS - 1;
	h->slot[i] += n;
	h->sum_ns += ns * n;
}

size_t vmmem_snapshot_size(bool max)
{
	size_t n = max ? vmmem_max_vms : min_t(size_t, vmmem_max_vms, atomic_read(&nr_claimed) + 8);

	return sizeof(struct vmmem_snapshot_header) + n * sizeof(struct vmmem_vm_record);
}

/* A snapshot sums every CPU's copy: add one CPU's n counters (or nh histograms) to sum. */
static void fold_counters(u64 *sum, const u64 *c, int n)
{
	int k;

	for (k = 0; k < n; k++)
		sum[k] += READ_ONCE(c[k]);
}

static void fold_hists(struct vmmem_hist *sum, const struct vmmem_hist *h, int nh)
{
	int k;

	for (k = 0; k < nh; k++) {
		fold_counters(sum[k].slot, h[k].slot, VMMEM_HIST_SLOTS);
		sum[k].sum_ns += READ_ONCE(h[k].sum_ns);
	}
}

static void sum_slot(struct vmmem_vm_record *r, struct vmmem_slot *s)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct vmmem_pcpu *p = per_cpu_ptr(s->pc, cpu);

		fold_counters(r->counters.c, p->c.c, VMMEM_NR_VM_COUNTERS);
		fold_hists(r->hists.h, p->h.h, VMMEM_NR_VM_HISTS);
		fold_counters(r->lost.events, p->lost.events, VMMEM_EV_LOST_TYPES);
		r->lost.balloon_inflate_bytes += READ_ONCE(p->lost.balloon_inflate_bytes);
		r->lost.balloon_deflate_bytes += READ_ONCE(p->lost.balloon_deflate_bytes);
	}
}

static void sum_host(struct vmmem_snapshot_header *h)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct vmmem_host_pcpu *p = per_cpu_ptr(vmmem_host, cpu);

		fold_counters(h->host.c, p->c.c, VMMEM_NR_HOST_COUNTERS);
		fold_hists(h->host_hists.h, p->h.h, VMMEM_NR_HOST_HISTS);
	}
}

ssize_t vmmem_table_snapshot(void *buf, size_t len, const u64 avail[4])
{
	struct vmmem_snapshot_header *h = buf;
	struct vmmem_vm_record *r = (void *)(h + 1);
	size_t room = (len - sizeof(*h)) / sizeof(*r);
	unsigned int i, n = 0;

	if (len < sizeof(*h))
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	h->abi_version = VMMEM_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(*r);
	h->nr_vm_counters = VMMEM_NR_VM_COUNTERS;
	h->nr_host_counters = VMMEM_NR_HOST_COUNTERS;
	h->nr_vm_hists = VMMEM_NR_VM_HISTS;
	h->nr_host_hists = VMMEM_NR_HOST_HISTS;
	h->available_vm = avail[0];
	h->available_host = avail[1];
	h->available_vm_hist = avail[2];
	h->available_host_hist = avail[3];

	/* the reaper cannot zero a slot we are reading */
	mutex_lock(&reader_lock);
	h->ts_ns = ktime_get_ns();
	sum_host(h);
	for (i = 0; i < vmmem_max_vms; i++) {
		struct vmmem_slot *s = &slots[i];
		u32 state = smp_load_acquire(&s->state);

		if (state != VMMEM_SLOT_LIVE && state != VMMEM_SLOT_EXITED)
			continue;
		if (n == room) {	/* a claim since the caller sized buf */
			mutex_unlock(&reader_lock);
			return -ENOSPC;
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].tgid = s->tgid;
		r[n].state = state;
		r[n].seq = s->seq;
		sum_slot(&r[n], s);
		/* discards split along guest RAM only once it is known (vmmem_guest_ram.c) */
		if (!vmmem_guest_ram_known(s))
			r[n].unavailable = VMMEM_BALLOON_COUNTERS_MASK;
		n++;
		cond_resched();
	}
	mutex_unlock(&reader_lock);
	h->nr_vms = n;
	return sizeof(*h) + (size_t)n * sizeof(*r);
}

static void zero_slot(struct vmmem_slot *s)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(s->pc, cpu), 0, sizeof(struct vmmem_pcpu));
}

void vmmem_table_reset(void)
{
	unsigned int i;
	int cpu;

	mutex_lock(&reader_lock);
	for (i = 0; i < vmmem_max_vms; i++)
		zero_slot(&slots[i]);
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(vmmem_host, cpu), 0, sizeof(struct vmmem_host_pcpu));
	mutex_unlock(&reader_lock);
}

void vmmem_table_reap(void)
{
	unsigned long flags, linger = VMMEM_EXIT_LINGER_S * HZ;
	unsigned int i, n = 0;

	mutex_lock(&reader_lock);
	raw_spin_lock_irqsave(&table_lock, flags);
	for (i = 0; i < vmmem_max_vms; i++) {
		struct vmmem_slot *s = &slots[i];

		if (s->state == VMMEM_SLOT_EXITED && time_after(jiffies, s->exit_jiffies + linger)) {
			WRITE_ONCE(s->state, VMMEM_SLOT_REAPING);
			n++;
		}
	}
	raw_spin_unlock_irqrestore(&table_lock, flags);
	if (n) {
		/* the slots left the hash at exit: after a grace period no probe holds one */
		synchronize_rcu();
		for (i = 0; i < vmmem_max_vms; i++) {
			struct vmmem_slot *s = &slots[i];

			if (s->state != VMMEM_SLOT_REAPING)
				continue;
			zero_slot(s);
			s->tgid = 0;
			atomic_dec(&nr_claimed);
			/* claims (under table_lock) see FREE only after the zeroing */
			raw_spin_lock_irqsave(&table_lock, flags);
			smp_store_release(&s->state, VMMEM_SLOT_FREE);
			raw_spin_unlock_irqrestore(&table_lock, flags);
		}
	}
	mutex_unlock(&reader_lock);
}
