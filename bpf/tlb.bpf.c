// SPDX-License-Identifier: GPL-2.0
/* TLB flushes caused by VMMs: shootdown IPIs a VMM thread sends (and their time), KVM's
 * remote flushes of a VM's MMU and paravirtual flushes the guest asked for. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"
#include "latency.bpf.h"

#define TLB_REMOTE_SEND_IPI 4	/* include/linux/mm_types.h enum tlb_flush_reason */

static __always_inline void handle_tlb_flush(int reason, unsigned long pages, const bool rec)
{
	struct vmmem_vm_counters *c;

	if (reason != TLB_REMOTE_SEND_IPI)
		return;
	c = current_vm();
	if (!c)
		return;
	inc(c, tlb_shootdown_ipis);
	if (rec)
		emit_event(VMMEM_EV_tlb_shootdown, current_tgid(), pages, 0);
	if (pages == (unsigned long)-1)	/* TLB_FLUSH_ALL */
		inc(c, tlb_full_flushes);
	else
		c->c[VMMEM_C_tlb_flush_pages] += pages;
}

/* TP_PROTO(int reason, unsigned long pages): stable since 4.x (include/trace/events/tlb.h) */
VMMEM_TWIN_ARGS(tlb_flush, _btf, int reason, unsigned long pages)
{
	handle_tlb_flush(reason, pages, rec);
	return 0;
}

VMMEM_TWIN_TP(tlb_flush, _tp, struct trace_event_raw_tlb_flush)
{
	handle_tlb_flush(ctx->reason, ctx->pages, rec);
	return 0;
}

/*
 * The function that fires that tracepoint with TLB_REMOTE_SEND_IPI (arch/x86/mm/tlb.c
 * native_flush_tlb_multi, native_flush_tlb_others before 5.11), hooked where fentry is
 * allowed: it runs only for a shootdown, while the tracepoint also fires on every context
 * switch between two address spaces (switch_mm_irqs_off, TLB_FLUSH_ON_TASK_SWITCH). The pages
 * as the tracepoint gives them: (end - start) >> PAGE_SHIFT, or TLB_FLUSH_ALL.
 */
static __always_inline void tlb_send(const struct flush_tlb_info *info, const bool rec)
{
	unsigned long start = BPF_CORE_READ(info, start), end = BPF_CORE_READ(info, end);

	handle_tlb_flush(TLB_REMOTE_SEND_IPI, end == (unsigned long)-1 ? end : (end - start) >> 12, rec);
}

VMMEM_TWIN_ARGS(tlb_send, _fentry, const struct cpumask *cpumask, const struct flush_tlb_info *info)
{
	tlb_send(info, rec);
	return 0;
}

VMMEM_TWIN_ARGS(tlb_send_others, _fentry, const struct cpumask *cpumask, const struct flush_tlb_info *info)
{
	tlb_send(info, rec);
	return 0;
}

/* Time of a TLB shootdown as the sending thread sees it (arch/x86/mm/tlb.c). */
struct span_map tlb_start SEC(".maps");

int BPF_PROG(tlb_time_fentry)
{
	span_begin(&tlb_start);
	return 0;
}

int BPF_PROG(tlb_time_fexit)
{
	__u64 d = span_end(&tlb_start);

	if (d)
		vm_hist_add(current_tgid(), VMMEM_HIST_tlb_shootdown_ns, d);
	return 0;
}

/*
 * KVM's remote TLB flushes of a VM, by cause. kvm_flush_remote_tlbs() (virt/kvm/kvm_main.c)
 * is attributed to the VM whose MMU is flushed, not to the calling thread: the caller is
 * often ksmd, kswapd or khugepaged through the MMU notifier (kvm_mmu_notifier_invalidate_
 * range_start -> kvm_handle_hva_range, which flushes when it zapped a mapping). The cause is
 * the task running at the flush; NUMA balancing's scan (task_numa_work -> change_prot_numa)
 * runs in the VMM's own threads, so it is told apart from the VMM's own unmaps by the
 * notifier event it is inside of (MMU_NOTIFY_PROTECTION_VMA), which the notifier's
 * fentry/fexit pair keeps per thread (a notifier may sleep and the thread move CPUs).
 */
#define PF_MEMALLOC_FLAG	0x00000800	/* include/linux/sched.h */
#define PF_KSWAPD_FLAG		0x00020000
#define MMU_NOTIFY_PROTECTION_VMA_EV	2	/* include/linux/mmu_notifier.h */
#define MMU_NOTIFY_MIGRATE_EV		6

/*
 * A __u32 per thread that a function's fentry sets and its fexit clears, for a hook that runs
 * inside that function. Task storage, not per CPU: the function may sleep and the thread move
 * CPUs. Linux 5.11+ (the map type): only in programs of hook kinds *_TS (bpf/progs.h).
 */
#define THREAD_U32_MAP(name)						\
	struct {							\
		__uint(type, BPF_MAP_TYPE_TASK_STORAGE);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, int);					\
		__type(value, __u32);					\
	} name SEC(".maps")

static __always_inline void thread_u32_set(void *map, struct task_struct *t, __u32 v)
{
	__u32 *p = bpf_task_storage_get(map, t, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (p)
		*p = v;
}

/* the thread's value, 0 when none was set */
static __always_inline __u32 thread_u32_get(void *map, struct task_struct *t)
{
	__u32 *p = bpf_task_storage_get(map, t, 0, 0);

	return p ? *p : 0;
}

/* clears the current thread's value, without creating its storage */
static __always_inline void thread_u32_clear(void *map)
{
	__u32 *p = bpf_task_storage_get(map, bpf_get_current_task_btf(), 0, 0);

	if (p)
		*p = 0;
}

/* MMU_NOTIFY_* + 1 while the thread is inside the notifier, else 0 */
THREAD_U32_MAP(notify_in);

int BPF_PROG(flush_notify_fentry, struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	thread_u32_set(&notify_in, bpf_get_current_task_btf(), BPF_CORE_READ(range, event) + 1);
	return 0;
}

int BPF_PROG(flush_notify_fexit)
{
	thread_u32_clear(&notify_in);
	return 0;
}

static __always_inline bool comm_is(const char *comm, const char *want, int len)
{
	for (int i = 0; i < len; i++)
		if (comm[i] != want[i])
			return false;
	return true;
}

/* the cause class of a kernel thread by its name and flags, -1 if none */
static __always_inline int kthread_cause(__u32 flags)
{
	char comm[16];

	if (flags & PF_KTHREAD_FLAG) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm_is(comm, "ksmd", 5))
			return VMMEM_FLUSH_ksmd;
		if (comm_is(comm, "khugepaged", 11))
			return VMMEM_FLUSH_khugepaged;
		if (comm_is(comm, "kcompactd", 9))	/* kcompactd0, kcompactd1, ... */
			return VMMEM_FLUSH_kcompactd;
		if (flags & PF_KSWAPD_FLAG)
			return VMMEM_FLUSH_kswapd;
	}
	return -1;
}

/* the cause class of the current task (kmod/uapi/vmmem.h VMMEM_FLUSH_CAUSES) */
static __always_inline int flush_cause(__u32 owner)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 flags = t->flags;
	__u32 event;
	int k = kthread_cause(flags);

	if (k >= 0)
		return k;
	event = thread_u32_get(&notify_in, t);
	if (event == MMU_NOTIFY_MIGRATE_EV + 1)
		return VMMEM_FLUSH_kcompactd;
	/* direct reclaim, memory.reclaim and direct compaction run with PF_MEMALLOC */
	if (flags & (PF_MEMALLOC_FLAG | PF_KSWAPD_FLAG))
		return VMMEM_FLUSH_kswapd;
	if (event == MMU_NOTIFY_PROTECTION_VMA_EV + 1 && t->tgid == owner)
		return VMMEM_FLUSH_numa;
	if (t->tgid == owner)
		return VMMEM_FLUSH_vmm;
	return VMMEM_FLUSH_other;
}

VMMEM_TWIN_ARGS(kvm_remote_flush, _fentry, struct kvm *kvm)
{
	__u32 owner = mm_owner_tgid(BPF_CORE_READ(kvm, mm));
	struct vmmem_vm_counters *c = vm_of_tgid(owner);
	int cause;

	if (!c)
		return 0;
	inc(c, kvm_remote_tlb_flushes);
	cause = flush_cause(owner);
	if (cause >= 0 && cause < VMMEM_NR_FLUSH_CAUSES)
		c->c[VMMEM_C_flushes_recv_ksmd + cause]++;
	if (rec)
		emit_event(VMMEM_EV_flush_recv, owner, cause, bpf_get_current_pid_tgid() >> 32);
	return 0;
}

/*
 * TLB shootdowns other tasks send for a VMM's mm (ksmd write-protecting its pages, khugepaged,
 * kcompactd, kswapd...). native_flush_tlb_multi (arch/x86/mm/tlb.c, where tlb:tlb_flush
 * says TLB_REMOTE_SEND_IPI) names no mm; flush_tlb_mm_range(mm, ...) around it does, so its
 * fentry/fexit keep, per thread, the VM whose mm a task outside that VM is flushing. Reclaim's
 * batched flushes (arch_tlbbatch_flush, for many mms at once) have no mm and are not counted.
 */
/* tgid of the VMM whose mm this thread is flushing now, else 0 */
THREAD_U32_MAP(shoot_for);

int BPF_PROG(shoot_mm_fentry, struct mm_struct *mm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 owner;

	if (mm == t->mm)	/* a process flushing its own mm: the common case, done here */
		return 0;
	owner = mm_owner_tgid(mm);
	if (!owner || owner == t->tgid || !vm_of_tgid(owner))
		return 0;
	thread_u32_set(&shoot_for, t, owner);
	return 0;
}

int BPF_PROG(shoot_mm_fexit)
{
	thread_u32_clear(&shoot_for);
	return 0;
}

/* native_flush_tlb_multi: a shootdown IPI goes out (the tlb_flush tracepoint's
 * TLB_REMOTE_SEND_IPI, without its run on every context switch) */
int BPF_PROG(shoot_recv_fentry)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 owner = thread_u32_get(&shoot_for, t);
	struct vmmem_vm_counters *c;
	int cause;

	if (!owner)
		return 0;
	c = vm_of_tgid(owner);
	if (!c)
		return 0;
	cause = kthread_cause(t->flags);
	if (cause < 0 && (t->flags & (PF_MEMALLOC_FLAG | PF_KSWAPD_FLAG)))
		cause = VMMEM_FLUSH_kswapd;
	if (cause < 0)
		cause = VMMEM_FLUSH_other;
	c->c[VMMEM_SHOOT_COUNTER(cause)]++;
	return 0;
}

int pv_tlb_flush_tp(void *ctx)
{
	struct trace_event_raw_kvm_pv_tlb_flush *e = ctx;
	struct vmmem_vm_counters *c;

	if (!e->need_flush_tlb)
		return 0;
	c = kvm_current_vm();
	if (c)
		inc(c, pv_tlb_flushes);
	return 0;
}
