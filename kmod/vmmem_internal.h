/* SPDX-License-Identifier: GPL-2.0 */
/* vmmem.ko internals: the VMM slot table (table.c), probes (probes.c), device (main.c). */
#ifndef _VMMEM_INTERNAL_H
#define _VMMEM_INTERNAL_H

#include <linux/types.h>
#include "uapi/vmmem.h"

#define VMMEM_NR_EVENTS	256	/* event ring size (power of two) */

struct vmmem_slot {
	pid_t tgid;			/* 0 when free */
	u32 state;			/* VMMEM_SLOT_* */
	u64 seq;
	struct vmmem_vm_counters __percpu *c;
};

int vmmem_table_init(void);
void vmmem_table_exit(void);

/* Probe context (preemption off): the LIVE slot of tgid, or NULL. */
struct vmmem_slot *vmmem_slot_find(pid_t tgid);
/* Probe context: find or claim a slot for tgid (no allocation); NULL when full. */
struct vmmem_slot *vmmem_slot_claim(pid_t tgid);
/* Probe context: tgid's last thread exited. */
void vmmem_slot_exit(pid_t tgid);

/* Process context: fill buf (header + records); reaps EXITED slots it returned. */
ssize_t vmmem_table_snapshot(void *buf, size_t len, u64 available_vm, u64 available_host);
void vmmem_table_reset(void);
size_t vmmem_snapshot_max_size(void);

void vmmem_host_inc(int id);
void vmmem_event_push(u32 type, u32 tgid, u64 a, u64 b);
bool vmmem_events_pending(void);
int vmmem_events_copy(struct vmmem_event *out, int max);
extern wait_queue_head_t vmmem_event_wait;

int vmmem_probes_init(void);
void vmmem_probes_exit(void);
u64 vmmem_probes_available_vm(void);
u64 vmmem_probes_available_host(void);

#endif
