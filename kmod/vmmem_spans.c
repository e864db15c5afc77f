// SPDX-License-Identifier: GPL-2.0
/*
 * Per vCPU thread state (a TDP fault to the same thread's next VM entry; the vCPU it runs,
 * its pending guest IPIs, when it was preempted), in a fixed open-addressed table keyed by
 * tid: no allocation in probe context.
 *
 * Only the owner thread creates its entry and writes its fault and vcpu fields (KVM probes
 * run in the vCPU thread, sched_process_exit in the exiting thread), so those need no lock;
 * off_ns is written by sched_switch for the task switched out or in, which is not running
 * anywhere else then.  The IPI fields are also written by the sending vCPU's thread, under
 * ipi_lock (vmmem_ipi.c).  Threads race only for free positions, which cmpxchg settles.  A
 * position never goes back to "never used" (0), so a lookup may stop at the first 0: the
 * owner's entry was placed at the first free position of its window, and everything before
 * it stays taken.
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>
#include "vmmem_internal.h"

#define SPAN_BITS	14	/* 16384 vCPU threads at once, 1 MiB */
#define SPAN_WINDOW	32	/* positions probed per tid */
#define SPAN_FREED	(-1)

static struct vmmem_span *spans;

int vmmem_spans_init(void)
{
	u32 i;

	spans = vzalloc(sizeof(*spans) << SPAN_BITS);
	if (!spans)
		return -ENOMEM;
	for (i = 0; i < 1u << SPAN_BITS; i++)
		raw_spin_lock_init(&spans[i].ipi_lock);
	return 0;
}

void vmmem_spans_exit(void)
{
	vfree(spans);
	spans = NULL;
}

static struct vmmem_span *at(u32 h, u32 i)
{
	return &spans[(h + i) & ((1u << SPAN_BITS) - 1)];
}

struct vmmem_span *vmmem_span_get(pid_t tid, bool create)
{
	u32 h = hash_32(tid, SPAN_BITS), i;

	for (i = 0; i < SPAN_WINDOW; i++) {
		pid_t t = READ_ONCE(at(h, i)->tid);

		if (t == tid)
			return at(h, i);
		if (t == 0)
			break;
	}
	if (!create)
		return NULL;
	for (i = 0; i < SPAN_WINDOW; i++) {
		struct vmmem_span *e = at(h, i);
		pid_t t = READ_ONCE(e->tid);

		if ((t == 0 || t == SPAN_FREED) && cmpxchg(&e->tid, t, tid) == t) {
			unsigned long flags;

			e->fault_ns = 0;
			e->fault_gpa = 0;
			e->vcpu = NULL;
			e->off_ns = 0;
			/* a sender checks tid under the lock: it never counts into a new owner */
			raw_spin_lock_irqsave(&e->ipi_lock, flags);
			e->ipi_pending = 0;
			raw_spin_unlock_irqrestore(&e->ipi_lock, flags);
			return e;
		}
	}
	vmmem_host_add(VMMEM_H_pool_exhausted, 1);
	return NULL;
}

void vmmem_span_put(pid_t tid)
{
	struct vmmem_span *e = vmmem_span_get(tid, false);

	if (e)
		WRITE_ONCE(e->tid, SPAN_FREED);
}
