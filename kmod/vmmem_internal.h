/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vmmem.ko internals: the VMM table (vmmem_table.c), per-thread latency spans
 * (vmmem_spans.c), per-CPU event rings (vmmem_events.c), tracepoint probes
 * (vmmem_probes.c), kretprobes (vmmem_kprobes.c) and the device (vmmem_main.c).
 */
#ifndef _VMMEM_INTERNAL_H
#define _VMMEM_INTERNAL_H

#include <linux/hashtable.h>
#include <linux/kprobes.h>
#include <linux/percpu.h>
#include <linux/types.h>
#include <linux/wait.h>

struct mm_struct;
#include "uapi/vmmem.h"

#define VMMEM_PFX "vmmem: "

/* Internal slot state: exited long enough ago, being returned to FREE (never read out). */
#define VMMEM_SLOT_REAPING	3

/* One VMM's per-CPU storage: its vCPU threads never share a cache line. */
struct vmmem_pcpu {
	struct vmmem_vm_counters c;
	struct vmmem_vm_hists h;
	struct vmmem_ev_lost lost;
};

struct vmmem_slot {
	struct hlist_node node;		/* in the tgid hash while LIVE */
	pid_t tgid;
	u32 state;			/* VMMEM_SLOT_*; FREE -> LIVE -> EXITED -> REAPING -> FREE */
	u64 seq;
	unsigned long exit_jiffies;
	struct vmmem_pcpu __percpu *pc;
};

struct vmmem_host_pcpu {
	struct vmmem_host_counters c;
	struct vmmem_host_hists h;
};

extern unsigned int vmmem_max_vms;
extern struct vmmem_host_pcpu __percpu *vmmem_host;

/* ---- table (vmmem_table.c) ---- */
int vmmem_table_init(void);
void vmmem_table_exit(void);
/* Probe context: true once any VMM is counted (lets the host-wide hooks return at once). */
bool vmmem_table_busy(void);
/* Probe context: the LIVE slot of tgid, or NULL.  Valid until the probe returns. */
struct vmmem_slot *vmmem_slot_find(pid_t tgid);
/* Probe context: find, or claim without allocating; NULL when every slot is used. */
struct vmmem_slot *vmmem_slot_claim(pid_t tgid, u32 origin);
/* The slot's index in the table (0 .. vmmem_max_vms - 1). */
unsigned int vmmem_slot_index(const struct vmmem_slot *s);
/* The tgid of slot i if it is LIVE with that seq, else 0. */
pid_t vmmem_slot_tgid(unsigned int i, u64 seq);
/* Probe context: the last thread of tgid is exiting. */
void vmmem_slot_exit(pid_t tgid);
/* Process context: TRACK ioctl.  0, -EEXIST, -ENOSPC. */
int vmmem_table_track(pid_t tgid);
/* Process context: one consistent snapshot into buf; -ENOSPC if more VMMs than fit. */
ssize_t vmmem_table_snapshot(void *buf, size_t len, const u64 avail[4]);
/* Room for a snapshot now (with headroom for new claims), or for the largest one. */
size_t vmmem_snapshot_size(bool max);
void vmmem_table_reset(void);
/* Process context, may sleep: free slots that exited VMMEM_EXIT_LINGER_S ago. */
void vmmem_table_reap(void);

/* ---- guest RAM of each VMM, for the balloon split (vmmem_guest_ram.c) ---- */
int vmmem_guest_ram_init(void);
void vmmem_guest_ram_exit(void);
void vmmem_guest_ram_work(void);
bool vmmem_guest_ram_known(struct vmmem_slot *s);
bool vmmem_guest_ram_split(struct vmmem_slot *s, u64 start, u64 len, int want_shared, u64 *inside, u64 *freeing);
struct file;
bool vmmem_guest_ram_split_file(struct vmmem_slot *s, struct file *file, u64 off, u64 len, u64 *inside);

static inline void vmmem_vm_add(struct vmmem_slot *s, int id, u64 v)
{
	this_cpu_add(s->pc->c.c[id], v);
}

static inline void vmmem_host_add(int id, u64 v)
{
	this_cpu_add(vmmem_host->c.c[id], v);
}

void vmmem_hist_add_n(struct vmmem_slot *s, int id, u64 ns, u64 n);
static inline void vmmem_hist_add(struct vmmem_slot *s, int id, u64 ns)
{
	vmmem_hist_add_n(s, id, ns, 1);
}

/* ---- per vCPU thread state (vmmem_spans.c): TDP fault -> the vCPU's next entry, IPIs ---- */
struct kvm_vcpu;
struct vmmem_span {
	pid_t tid;			/* 0 never used, -1 freed */
	u32 pad;
	u64 fault_ns;			/* 0: no fault open */
	u64 fault_gpa;
	/* guest IPIs and preemption (vmmem_ipi.c) */
	struct kvm_vcpu *vcpu;		/* the vCPU it runs while inside KVM_RUN, else NULL */
	u64 off_ns;			/* switched out while runnable at; 0: on CPU or asleep */
	raw_spinlock_t ipi_lock;	/* senders (other vCPU threads) vs the owner's entry */
	u32 ipi_pending;		/* IPIs sent to it since its last entry */
	u32 ipi_from;			/* the thread that sent the oldest of them */
	u64 ipi_ns;			/* and when */
};

int vmmem_spans_init(void);
void vmmem_spans_exit(void);
/* Probe context, owner thread only: its span, created if asked; NULL when full. */
struct vmmem_span *vmmem_span_get(pid_t tid, bool create);
/* Probe context: thread tid exits. */
void vmmem_span_put(pid_t tid);

/* ---- guest IPIs and vCPU preemption (vmmem_ipi.c) ---- */
/* Set while kvm_entry and kvm_userspace_exit are both attached: only then is a span's vcpu
 * cleared whenever its thread leaves KVM_RUN, so only then may kvm_entry record it. */
extern bool vmmem_ipi_track_vcpus;
void vmmem_ipi_entry(struct vmmem_span *sp, struct kvm_vcpu *vcpu);
void vmmem_ipi_userspace_exit(void);
void vmmem_ipi_sent(struct vmmem_slot *s, u32 icr_low, u32 dest_id);
struct task_struct;
void vmmem_ipi_switch(bool preempt, struct task_struct *prev, struct task_struct *next);

/* ---- event rings (vmmem_events.c) ---- */
extern u64 vmmem_stream_mask;
extern u64 vmmem_slow_ns;
extern wait_queue_head_t vmmem_event_wait;

int vmmem_events_init(unsigned int per_cpu);
void vmmem_events_exit(void);
void __vmmem_event_emit(u32 type, u32 tgid, u64 a, u64 b, u64 dur_ns);
/* Probe context: one record if a consumer asked for this type. */
static inline void vmmem_event_emit(u32 type, u32 tgid, u64 a, u64 b, u64 dur_ns)
{
	if (unlikely(READ_ONCE(vmmem_stream_mask) & VMMEM_EV_BIT(type)))
		__vmmem_event_emit(type, tgid, a, b, dur_ns);
}
bool vmmem_events_pending(void);
int vmmem_events_copy(struct vmmem_event *out, int max);
int vmmem_stream_set(const void *owner, u64 mask, u64 slow_ns);
bool vmmem_stream_owned_by(const void *owner);
void vmmem_stream_release(const void *owner);

/* ---- hooks (vmmem_probes.c, vmmem_kprobes.c) ---- */
int vmmem_probes_init(void);
void vmmem_probes_exit(void);
/* avail[0..3]: VM counters, host counters, VM histograms, host histograms. */
void vmmem_probes_available(u64 avail[4]);

int vmmem_kprobes_init(bool tlb_latency);
void vmmem_kprobes_exit(void);
void vmmem_kprobes_available(u64 avail[4]);
u64 vmmem_kprobes_missed(void);
/* True if the named tracepoint has a probe of ours attached now. */
bool vmmem_probes_attached(const char *name);

/* ---- function hooks (vmmem_hooks.c): kprobes and kretprobes of the files below ---- */
struct vmmem_hook {
	struct kprobe kp;		/* a kprobe: .symbol_name and .pre_handler set */
	struct kretprobe rp;		/* or a kretprobe: .kp.symbol_name and its handlers set */
	u64 avail[4];			/* fed while registered: as vmmem_probes_available() */
	bool on;			/* registered */
};

/* A kprobe or kretprobe on sym, feeding the availability bit masks that follow. */
#define VMMEM_KPROBE(sym, pre, ...)							\
	{ .kp = { .symbol_name = sym, .pre_handler = pre }, .avail = { __VA_ARGS__ } }
#define VMMEM_KRETPROBE(sym, entry, ret, size, ...)					\
	{ .rp = { .kp.symbol_name = sym, .entry_handler = entry, .handler = ret,	\
		  .data_size = size }, .avail = { __VA_ARGS__ } }

/* Process context, serialised by the caller: 0 or the register_k*probe() error. */
int vmmem_hook_register(struct vmmem_hook *h);
void vmmem_hook_unregister(struct vmmem_hook *h);
/* Unregisters h[n-1] .. h[0], those registered. */
void vmmem_hooks_unregister(struct vmmem_hook *h, size_t n);
const char *vmmem_hook_name(const struct vmmem_hook *h);
void vmmem_hooks_available(const struct vmmem_hook *h, size_t n, u64 avail[4]);
u64 vmmem_hooks_missed(const struct vmmem_hook *h, size_t n);
struct mm_struct;
/* Any context: the tgid of mm's owner (CONFIG_MEMCG), 0 if unknown. */
pid_t vmmem_mm_owner_tgid(struct mm_struct *mm);

/* ---- KSM (vmmem_ksm.c): tracepoints on 6.4+, kprobes before ---- */
void vmmem_ksm_merged(struct mm_struct *mm);
void vmmem_ksm_scan_start(void);
void vmmem_ksm_scan_stop(u32 rmap_entries);
void vmmem_ksm_kprobes_init(bool merges, bool scans);
void vmmem_ksm_kprobes_exit(void);
void vmmem_ksm_kprobes_available(u64 avail[4]);
u64 vmmem_ksm_kprobes_missed(void);

/* ---- eviction of guest memory (vmmem_evict.c): kprobes ---- */
void vmmem_evict_init(void);
void vmmem_evict_exit(void);
void vmmem_evict_available(u64 avail[4]);
u64 vmmem_evict_missed(void);

#endif
