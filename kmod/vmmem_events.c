// SPDX-License-Identifier: GPL-2.0
/*
 * Event rings: one fixed ring per CPU, filled by probes on that CPU and drained by the one
 * consumer that holds the stream (VMMEM_IOC_SET_STREAM).  Nothing is written unless that
 * consumer asked for the type, so an unread ring never fills and "dropped" means dropped.
 *
 * Probes never wake the reader: they may run under scheduler or MMU locks.  The module's
 * periodic work wakes poll()ers when records are pending (vmmem_main.c).
 */
#include <linux/capability.h>
#include <linux/mman.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>
#include "vmmem_internal.h"

#define DEFAULT_SLOW_NS	1000000ull

struct vmmem_ring {
	raw_spinlock_t lock;		/* the producer on this CPU vs the consumer */
	unsigned int head, tail;	/* free-running; head - tail records pending */
	struct vmmem_event ev[];
};

static struct vmmem_ring **rings;	/* [nr_cpu_ids] */
static unsigned int ring_size;		/* power of two */
static DEFINE_MUTEX(stream_lock);
static const void *stream_owner;

u64 vmmem_stream_mask;
u64 vmmem_slow_ns = DEFAULT_SLOW_NS;
DECLARE_WAIT_QUEUE_HEAD(vmmem_event_wait);

#define PER_EVENT_TYPES (VMMEM_EV_BIT(VMMEM_EV_tdp_fault) | VMMEM_EV_BIT(VMMEM_EV_exit) | \
			 VMMEM_EV_BIT(VMMEM_EV_tlb_shootdown) | VMMEM_EV_BIT(VMMEM_EV_ksm_merge))
#define KNOWN_TYPES	((VMMEM_EV_BIT(VMMEM_NR_EV_TYPES) - 1) & ~1ull)

int vmmem_events_init(unsigned int per_cpu)
{
	int cpu;

	ring_size = per_cpu;
	rings = kcalloc(nr_cpu_ids, sizeof(*rings), GFP_KERNEL);
	if (!rings)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		rings[cpu] = kvzalloc(struct_size(rings[cpu], ev, ring_size), GFP_KERNEL);
		if (!rings[cpu]) {
			vmmem_events_exit();
			return -ENOMEM;
		}
		raw_spin_lock_init(&rings[cpu]->lock);
	}
	return 0;
}

void vmmem_events_exit(void)
{
	int cpu;

	if (!rings)
		return;
	for_each_possible_cpu(cpu)
		kvfree(rings[cpu]);
	kfree(rings);
	rings = NULL;
}

/* A record the ring had no room for: counted for the host, and for its VMM by type (and by
 * bytes for balloon records), so a recording reconciles exactly with the counters. */
static void count_lost(u32 type, u32 tgid, u64 a, u64 b)
{
	struct vmmem_slot *s = tgid ? vmmem_slot_find(tgid) : NULL;

	vmmem_host_add(VMMEM_H_dropped_events, 1);
	if (!s)
		return;
	if (type < VMMEM_EV_LOST_TYPES)
		this_cpu_inc(s->pc->lost.events[type]);
	if (type == VMMEM_EV_balloon) {
		if (b == MADV_WILLNEED)
			this_cpu_add(s->pc->lost.balloon_deflate_bytes, a);
		else
			this_cpu_add(s->pc->lost.balloon_inflate_bytes, a);
	}
}

void __vmmem_event_emit(u32 type, u32 tgid, u64 a, u64 b, u64 dur_ns)
{
	struct vmmem_ring *r = rings[raw_smp_processor_id()];
	struct vmmem_event *ev;
	unsigned long flags;

	raw_spin_lock_irqsave(&r->lock, flags);
	if (r->head - r->tail >= ring_size) {
		raw_spin_unlock_irqrestore(&r->lock, flags);
		count_lost(type, tgid, a, b);
		return;
	}
	ev = &r->ev[r->head & (ring_size - 1)];
	ev->ts_ns = ktime_get_ns();
	ev->type = type;
	ev->tgid = tgid;
	ev->cpu = raw_smp_processor_id();
	ev->reserved = 0;
	ev->a = a;
	ev->b = b;
	ev->tid = current->pid;
	ev->flags = 0;
	ev->dur_ns = dur_ns;
	r->head++;
	raw_spin_unlock_irqrestore(&r->lock, flags);
}

bool vmmem_events_pending(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (READ_ONCE(rings[cpu]->head) != READ_ONCE(rings[cpu]->tail))
			return true;
	return false;
}

/* Drains CPU by CPU; the consumer orders records by ts_ns if it needs to. */
int vmmem_events_copy(struct vmmem_event *out, int max)
{
	unsigned long flags;
	int cpu, n = 0;

	for_each_possible_cpu(cpu) {
		struct vmmem_ring *r = rings[cpu];

		raw_spin_lock_irqsave(&r->lock, flags);
		while (n < max && r->tail != r->head)
			out[n++] = r->ev[r->tail++ & (ring_size - 1)];
		raw_spin_unlock_irqrestore(&r->lock, flags);
		if (n == max)
			break;
	}
	return n;
}

static void rings_clear(void)
{
	unsigned long flags;
	int cpu;

	for_each_possible_cpu(cpu) {
		struct vmmem_ring *r = rings[cpu];

		raw_spin_lock_irqsave(&r->lock, flags);
		r->tail = r->head;
		raw_spin_unlock_irqrestore(&r->lock, flags);
	}
}

int vmmem_stream_set(const void *owner, u64 mask, u64 slow_ns)
{
	int ret = 0;

	if (mask & ~KNOWN_TYPES)
		return -EINVAL;
	if ((mask & PER_EVENT_TYPES) && !perfmon_capable())
		return -EPERM;
	mutex_lock(&stream_lock);
	if (stream_owner && stream_owner != owner) {
		ret = -EBUSY;
	} else if (!mask) {
		WRITE_ONCE(vmmem_stream_mask, 0);
		stream_owner = NULL;
		rings_clear();
	} else {
		if (!stream_owner)
			rings_clear();	/* nothing from an earlier consumer */
		stream_owner = owner;
		WRITE_ONCE(vmmem_slow_ns, slow_ns ? slow_ns : DEFAULT_SLOW_NS);
		WRITE_ONCE(vmmem_stream_mask, mask);
	}
	mutex_unlock(&stream_lock);
	return ret;
}

bool vmmem_stream_owned_by(const void *owner)
{
	bool owned;

	mutex_lock(&stream_lock);
	owned = stream_owner == owner;
	mutex_unlock(&stream_lock);
	return owned;
}

void vmmem_stream_release(const void *owner)
{
	mutex_lock(&stream_lock);
	if (stream_owner == owner) {
		WRITE_ONCE(vmmem_stream_mask, 0);
		stream_owner = NULL;
		rings_clear();
	}
	mutex_unlock(&stream_lock);
}
