// SPDX-License-Identifier: GPL-2.0
/*
 * The VMM slot table: a fixed array of slots with preallocated per-CPU counters, found
 * by tgid through a small open-addressing hash. Probes only read the hash and bump
 * per-CPU counters; claims and exits take a raw spinlock (never sleeping, no allocation).
 * A slot that exited is freed by the reader that returned its final counts, after an RCU
 * grace period so no probe still holds it.
 */
#include <linux/bitmap.h>
#include <linux/hash.h>
#include <linux/sched.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/wait.h>
#include <linux/smp.h>
#include "vmmem_internal.h"

#define HASH_BITS	12
#define HASH_SIZE	(1 << HASH_BITS)
#define HASH_EMPTY	0
#define HASH_TOMB	0xffff

static struct vmmem_slot slots[VMMEM_MAX_VMS];
static u16 hash_slot[HASH_SIZE];		/* slot index + 1 */
static DEFINE_RAW_SPINLOCK(table_lock);
static u64 next_seq;
static struct vmmem_host_counters __percpu *host_c;

static struct vmmem_event ring[VMMEM_NR_EVENTS];
static unsigned int ring_head, ring_tail;
static DEFINE_RAW_SPINLOCK(ring_lock);
DECLARE_WAIT_QUEUE_HEAD(vmmem_event_wait);

int vmmem_table_init(void)
{
	int i;

	host_c = alloc_percpu(struct vmmem_host_counters);
	if (!host_c)
		return -ENOMEM;
	for (i = 0; i < VMMEM_MAX_VMS; i++) {
		slots[i].c = alloc_percpu(struct vmmem_vm_counters);
		if (!slots[i].c) {
			vmmem_table_exit();
			return -ENOMEM;
		}
	}
	return 0;
}

void vmmem_table_exit(void)
{
	int i;

	for (i = 0; i < VMMEM_MAX_VMS; i++) {
		free_percpu(slots[i].c);
		slots[i].c = NULL;
	}
	free_percpu(host_c);
	host_c = NULL;
}

static struct vmmem_slot *find_locked_or_rcu(pid_t tgid)
{
	u32 h = hash_32(tgid, HASH_BITS), i;

	for (i = 0; i < HASH_SIZE; i++) {
		u16 e = READ_ONCE(hash_slot[(h + i) & (HASH_SIZE - 1)]);
		struct vmmem_slot *s;

		if (e == HASH_EMPTY)
			return NULL;
		if (e == HASH_TOMB)
			continue;
		s = &slots[e - 1];
		if (READ_ONCE(s->tgid) == tgid && READ_ONCE(s->state) == VMMEM_SLOT_LIVE)
			return s;
	}
	return NULL;
}

struct vmmem_slot *vmmem_slot_find(pid_t tgid)
{
	return find_locked_or_rcu(tgid);
}

static void zero_counters(struct vmmem_slot *s)
{
	int cpu;

	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(s->c, cpu), 0, sizeof(struct vmmem_vm_counters));
}

struct vmmem_slot *vmmem_slot_claim(pid_t tgid)
{
	struct vmmem_slot *s;
	unsigned long flags;
	u32 h, i;
	int idx;

	s = find_locked_or_rcu(tgid);
	if (s)
		return s;
	raw_spin_lock_irqsave(&table_lock, flags);
	s = find_locked_or_rcu(tgid);
	if (s)
		goto out;
	for (idx = 0; idx < VMMEM_MAX_VMS; idx++)
		if (slots[idx].state == VMMEM_SLOT_FREE)
			break;
	if (idx == VMMEM_MAX_VMS) {
		raw_spin_unlock_irqrestore(&table_lock, flags);
		vmmem_host_inc(VMMEM_H_dropped_events);
		return NULL;
	}
	s = &slots[idx];
	zero_counters(s);
	s->seq = ++next_seq;
	WRITE_ONCE(s->tgid, tgid);
	h = hash_32(tgid, HASH_BITS);
	for (i = 0; i < HASH_SIZE; i++) {
		u16 *e = &hash_slot[(h + i) & (HASH_SIZE - 1)];

		if (*e == HASH_EMPTY || *e == HASH_TOMB) {
			/* publish the slot before the hash entry that leads to it */
			smp_store_release(&s->state, VMMEM_SLOT_LIVE);
			WRITE_ONCE(*e, idx + 1);
			break;
		}
	}
	if (i == HASH_SIZE) {	/* cannot happen: 4096 entries for 1024 slots */
		WARN_ON_ONCE(1);
		s->state = VMMEM_SLOT_FREE;
		s = NULL;
	}
out:
	raw_spin_unlock_irqrestore(&table_lock, flags);
	if (s)
		vmmem_event_push(VMMEM_EV_VM_START, tgid, s - slots, VMMEM_ORIGIN_KVM_CREATE);
	return s;
}

static void hash_remove_locked(struct vmmem_slot *s)
{
	u32 h = hash_32(s->tgid, HASH_BITS), i;

	for (i = 0; i < HASH_SIZE; i++) {
		u16 *e = &hash_slot[(h + i) & (HASH_SIZE - 1)];

		if (*e == HASH_EMPTY)
			return;
		if (*e == s - slots + 1) {
			WRITE_ONCE(*e, HASH_TOMB);
			return;
		}
	}
}

void vmmem_slot_exit(pid_t tgid)
{
	struct vmmem_slot *s;
	unsigned long flags;

	raw_spin_lock_irqsave(&table_lock, flags);
	s = find_locked_or_rcu(tgid);
	if (s) {
		hash_remove_locked(s);
		WRITE_ONCE(s->state, VMMEM_SLOT_EXITED);
	}
	raw_spin_unlock_irqrestore(&table_lock, flags);
	if (s)
		vmmem_event_push(VMMEM_EV_VM_EXIT, tgid, s - slots, 0);
}

size_t vmmem_snapshot_max_size(void)
{
	return sizeof(struct vmmem_snapshot_header) + VMMEM_MAX_VMS * sizeof(struct vmmem_vm_record);
}

static void sum_counters(struct vmmem_vm_counters *out, struct vmmem_vm_counters __percpu *c)
{
	int cpu, k;

	memset(out, 0, sizeof(*out));
	for_each_possible_cpu(cpu) {
		struct vmmem_vm_counters *p = per_cpu_ptr(c, cpu);

		for (k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			out->c[k] += READ_ONCE(p->c[k]);
	}
}

ssize_t vmmem_table_snapshot(void *buf, size_t len, u64 available_vm, u64 available_host)
{
	struct vmmem_snapshot_header *h = buf;
	struct vmmem_vm_record *r = (void *)(h + 1);
	DECLARE_BITMAP(reap, VMMEM_MAX_VMS);
	bool any_reap = false;
	unsigned long flags;
	int i, n = 0, cpu, k;

	if (len < vmmem_snapshot_max_size())
		return -EINVAL;
	bitmap_zero(reap, VMMEM_MAX_VMS);
	memset(h, 0, sizeof(*h));
	h->abi_version = VMMEM_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(*r);
	h->nr_vm_counters = VMMEM_NR_VM_COUNTERS;
	h->nr_host_counters = VMMEM_NR_HOST_COUNTERS;
	h->ts_ns = ktime_get_ns();
	h->available_vm = available_vm;
	h->available_host = available_host;
	for_each_possible_cpu(cpu)
		for (k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
			h->host.c[k] += READ_ONCE(per_cpu_ptr(host_c, cpu)->c[k]);
	for (i = 0; i < VMMEM_MAX_VMS; i++) {
		struct vmmem_slot *s = &slots[i];
		u32 state = smp_load_acquire(&s->state);

		if (state == VMMEM_SLOT_FREE)
			continue;
		memset(&r[n], 0, sizeof(r[n]));
		r[n].tgid = READ_ONCE(s->tgid);
		r[n].state = state;
		r[n].seq = s->seq;
		sum_counters(&r[n].counters, s->c);
		n++;
		if (state == VMMEM_SLOT_EXITED) {
			set_bit(i, reap);
			any_reap = true;
		}
	}
	h->nr_vms = n;
	if (any_reap) {
		/* every probe that could still hold an exited slot has finished */
		synchronize_rcu();
		raw_spin_lock_irqsave(&table_lock, flags);
		for (i = 0; i < VMMEM_MAX_VMS; i++) {
			if (test_bit(i, reap) && slots[i].state == VMMEM_SLOT_EXITED) {
				slots[i].tgid = 0;
				WRITE_ONCE(slots[i].state, VMMEM_SLOT_FREE);
			}
		}
		raw_spin_unlock_irqrestore(&table_lock, flags);
	}
	return sizeof(*h) + n * sizeof(*r);
}

void vmmem_table_reset(void)
{
	int i, cpu;

	for (i = 0; i < VMMEM_MAX_VMS; i++)
		if (READ_ONCE(slots[i].state) != VMMEM_SLOT_FREE)
			zero_counters(&slots[i]);
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(host_c, cpu), 0, sizeof(struct vmmem_host_counters));
}

void vmmem_host_inc(int id)
{
	if (host_c && id >= 0 && id < VMMEM_NR_HOST_COUNTERS)
		this_cpu_inc(host_c->c[id]);
}

void vmmem_event_push(u32 type, u32 tgid, u64 a, u64 b)
{
	struct vmmem_event *ev;
	unsigned long flags;

	raw_spin_lock_irqsave(&ring_lock, flags);
	if (ring_head - ring_tail >= VMMEM_NR_EVENTS) {
		raw_spin_unlock_irqrestore(&ring_lock, flags);
		vmmem_host_inc(VMMEM_H_dropped_events);
		return;
	}
	ev = &ring[ring_head % VMMEM_NR_EVENTS];
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = ktime_get_ns();
	ev->type = type;
	ev->tgid = tgid;
	ev->cpu = raw_smp_processor_id();
	ev->a = a;
	ev->b = b;
	ev->tid = current->pid;
	ring_head++;
	raw_spin_unlock_irqrestore(&ring_lock, flags);
	/* never wake from a probe that may hold scheduler locks: the reader polls with a
	 * timeout, and wakeups happen from process context in vmmem_events_copy */
}

bool vmmem_events_pending(void)
{
	return READ_ONCE(ring_head) != READ_ONCE(ring_tail);
}

int vmmem_events_copy(struct vmmem_event *out, int max)
{
	unsigned long flags;
	int n = 0;

	raw_spin_lock_irqsave(&ring_lock, flags);
	while (n < max && ring_tail != ring_head)
		out[n++] = ring[ring_tail++ % VMMEM_NR_EVENTS];
	raw_spin_unlock_irqrestore(&ring_lock, flags);
	return n;
}
