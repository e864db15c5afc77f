// SPDX-License-Identifier: GPL-2.0
/* vmmem's kernel side (BPF): per-VMM counters for KVM's memory machinery.
 * Each event has one handler body (handle_*) and one thin wrapper per attach type;
 * user/source/source_bpf.c probes the running kernel and loads only the wrappers whose hook
 * exists (see user/source/bpf_probe.c). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "latency.bpf.h"
#include "guest_ram.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define inc(c, id)	((c)->c[VMMEM_C_##id]++)

/*
 * The hot handlers (TDP faults, exits, TLB shootdowns, KSM merges) come in two builds each:
 * the counting one, which streams nothing and is exactly as cheap as before records existed,
 * and a *_rec twin that also streams one record per event. user/source/source_bpf.c loads the twin
 * instead only when a recording asks for that type (the `rec` argument is a constant, so the
 * compiler drops the emit from the counting build entirely, arguments and all).
 */

/* ---------------- VM lifecycle ---------------- */

/* kvm_arch_init_vm() runs once per KVM_CREATE_VM (virt/kvm/kvm_main.c kvm_create_vm). */
SEC("fexit/kvm_arch_init_vm")
int BPF_PROG(vm_create_fexit, struct kvm *kvm, unsigned long type, int ret)
{
	if (ret == 0) {
		claim_slot(current_tgid());
		mark_vm_created();
	}
	return 0;
}

/*
 * Where fexit is refused, creation is seen by user space in /proc (a kvm-vm fd) and by the
 * VM's first KVM event (claim_slot() from the KVM hooks), never at the ioctl syscall
 * tracepoints: enabling any syscalls:* tracepoint moves every thread of the host to the
 * syscall tracing slow path (measured here: getppid() 166 -> 233 ns).
 */

/* classic syscall tracepoint layouts, for the balloon fallback (--syscall-tracepoints) */
struct sys_enter_ctx {
	__u64 common;
	int nr;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

/* sched_process_exit fires in do_exit() after signal->live was decremented, so
 * live == 0 means this is the last thread of the group (kernel/exit.c do_exit). */
static __always_inline void handle_vm_exit(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 tgid = current_tgid();
	__u32 *slot1, slot;

	slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	if (!slot1 || !*slot1)
		return;
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return;
	slot = *slot1 - 1;
	*slot1 = 0;
	if (slot < VMMEM_MAX_VMS)
		slot_state[slot] = VMMEM_SLOT_EXITED;
	emit_event(VMMEM_EV_vm_exit, tgid, slot, 0);
}

/*
 * Raw (BTF) tracepoints are preferred for every hook whose count must be exact: a classic
 * tracepoint program is skipped while bpf_prog_active is held on its CPU, which a map
 * syscall from user space (our own reads) can do while preempted (kernel/trace/bpf_trace.c
 * trace_call_bpf); raw tracepoints only guard against recursion of the same program.
 */
SEC("tp_btf/sched_process_exit")
int vm_exit_btf(void *ctx)
{
	handle_vm_exit();
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int vm_exit_tp(void *ctx)
{
	handle_vm_exit();
	return 0;
}

/* ---------------- TDP (EPT/NPT) faults and exits ---------------- */

/* Only VMMs hit KVM tracepoints: an untracked tgid here is a VMM that predates us
 * (or whose creation hook is missing): claim it now so it counts from this event on. */
static __always_inline struct vmmem_vm_counters *kvm_current_vm_or(const bool claim)
{
	struct vmmem_vm_counters *c = current_vm();
	__u32 slot;
	int s;

	if (c || !claim)
		return c;
	s = claim_slot(current_tgid());
	if (s < 0)
		return NULL;
	slot = s;
	return bpf_map_lookup_elem(&vm_counters, &slot);
}

static __always_inline struct vmmem_vm_counters *kvm_current_vm(void)
{
	return kvm_current_vm_or(true);
}

/*
 * KVM's classic tracepoints where kvm.ko has no BTF (5.10: CONFIG_DEBUG_INFO_BTF_MODULES is
 * off), so CO-RE cannot relocate the trace_event_raw_kvm_* fields: user space reads each
 * field's offset and size from the event's tracefs format file before load
 * (user/source/tp_format.c); the *_fmt_tp programs read the record through them. They never claim
 * a slot (claim_slot's cmpxchg needs Linux 5.12: 5.10's verifier rejects the whole program,
 * "BPF_STX uses reserved fields", even where the call is dead): there, a VMM counts from the
 * /proc scan that finds it (user space claims its slot), not from its first KVM event.
 */
const volatile __u32 fmt_pf_addr_off, fmt_pf_addr_size, fmt_pf_err_off, fmt_pf_err_size;
const volatile __u32 fmt_exit_reason_off, fmt_exit_reason_size, fmt_exit_isa_off, fmt_exit_isa_size;
const volatile __u32 fmt_spte_level_off, fmt_spte_level_size;

static __always_inline __u64 fmt_field(void *ctx, __u32 off, __u32 size)
{
	__u64 v = 0;

	/* off and size are read-only data, constant for the verifier: one branch survives */
	switch (size) {
	case 1: bpf_probe_read_kernel(&v, 1, ctx + off); break;
	case 2: bpf_probe_read_kernel(&v, 2, ctx + off); break;
	case 4: bpf_probe_read_kernel(&v, 4, ctx + off); break;
	default: bpf_probe_read_kernel(&v, 8, ctx + off); break;
	}
	return v;
}

static __always_inline void handle_tdp_fault_or(__u64 gpa, __u64 error_code, const bool rec,
						const bool claim)
{
	struct vmmem_vm_counters *c = kvm_current_vm_or(claim);
	struct thread_spans *s;

	if (!c)
		return;
	inc(c, tdp_faults);
	if (rec)
		emit_event(VMMEM_EV_tdp_fault, current_tgid(), gpa, error_code);
	s = spans_of_current(true);
	if (s) {
		s->fault_ns = bpf_ktime_get_ns();
		s->fault_gpa = gpa;
	}
}

static __always_inline void handle_tdp_fault(__u64 gpa, __u64 error_code, const bool rec)
{
	handle_tdp_fault_or(gpa, error_code, rec, true);
}

/* BTF-typed raw tracepoint: the cheapest attach. Its arguments changed (6.1: unsigned long
 * fault_address, unsigned int error_code; since 6.4, commit "KVM: x86: Add vcpu_id and
 * guest_rip to kvm_page_fault": struct kvm_vcpu *vcpu, u64 fault_address, u64 error_code);
 * the event record's vcpu_id field appeared with it, so CO-RE tells which one runs. */
static __always_inline void tdp_fault_btf_args(__u64 *ctx, const bool rec)
{
	if (bpf_core_field_exists(struct trace_event_raw_kvm_page_fault, vcpu_id))
		handle_tdp_fault(ctx[1], ctx[2], rec);
	else
		handle_tdp_fault(ctx[0], (__u32)ctx[1], rec);
}

SEC("tp_btf/kvm_page_fault")
int tdp_fault_btf(__u64 *ctx)
{
	tdp_fault_btf_args(ctx, false);
	return 0;
}

SEC("tp_btf/kvm_page_fault")
int tdp_fault_rec_btf(__u64 *ctx)
{
	tdp_fault_btf_args(ctx, true);
	return 0;
}

SEC("tracepoint/kvm/kvm_page_fault")
int tdp_fault_tp(struct trace_event_raw_kvm_page_fault *ctx)
{
	handle_tdp_fault(ctx->fault_address, ctx->error_code, false);
	return 0;
}

SEC("tracepoint/kvm/kvm_page_fault")
int tdp_fault_rec_tp(struct trace_event_raw_kvm_page_fault *ctx)
{
	handle_tdp_fault(ctx->fault_address, ctx->error_code, true);
	return 0;
}

SEC("tracepoint/kvm/kvm_page_fault")
int tdp_fault_fmt_tp(void *ctx)
{
	handle_tdp_fault_or(fmt_field(ctx, fmt_pf_addr_off, fmt_pf_addr_size),
			    fmt_field(ctx, fmt_pf_err_off, fmt_pf_err_size), false, false);
	return 0;
}

SEC("tracepoint/kvm/kvm_page_fault")
int tdp_fault_fmt_rec_tp(void *ctx)
{
	handle_tdp_fault_or(fmt_field(ctx, fmt_pf_addr_off, fmt_pf_addr_size),
			    fmt_field(ctx, fmt_pf_err_off, fmt_pf_err_size), true, false);
	return 0;
}

#define KVM_ISA_VMX 1
#define KVM_ISA_SVM 2

/* exit reasons: arch/x86/include/uapi/asm/vmx.h and svm.h */
static __always_inline int exit_class(__u32 isa, __u32 reason)
{
	if (isa == KVM_ISA_VMX) {
		switch (reason & 0xffff) {
		case 48: return VMMEM_C_exits_tdp_violation;
		case 49: return VMMEM_C_exits_tdp_misconfig;
		case 30: return VMMEM_C_exits_io;
		case 12: return VMMEM_C_exits_hlt;
		case 31: case 32: return VMMEM_C_exits_msr;
		case 1: return VMMEM_C_exits_intr;
		}
	} else if (isa == KVM_ISA_SVM) {
		switch (reason) {
		case 0x400: return VMMEM_C_exits_tdp_violation;
		case 0x7b: return VMMEM_C_exits_io;
		case 0x78: return VMMEM_C_exits_hlt;
		case 0x7c: return VMMEM_C_exits_msr;
		case 0x60: return VMMEM_C_exits_intr;
		}
	}
	return VMMEM_C_exits_other;
}

static __always_inline void handle_exit(__u32 exit_reason, __u32 isa, const bool rec, const bool claim)
{
	struct vmmem_vm_counters *c = kvm_current_vm_or(claim);
	struct thread_spans *s;
	int cls;

	if (!c)
		return;
	inc(c, exits);
	if (rec)
		emit_event(VMMEM_EV_exit, current_tgid(), exit_reason, isa);
	cls = exit_class(isa, exit_reason);
	if (cls >= 0 && cls < VMMEM_NR_VM_COUNTERS)
		c->c[cls]++;
	s = spans_of_current(true);
	if (s) {
		s->exit_ns = bpf_ktime_get_ns();
		s->exit_reason = exit_reason;
		s->isa = isa;
		s->exit_hist = cls == VMMEM_C_exits_tdp_violation || cls == VMMEM_C_exits_tdp_misconfig ?
			VMMEM_HIST_exit_tdp_ns : cls == VMMEM_C_exits_io ? VMMEM_HIST_exit_io_ns :
			cls == VMMEM_C_exits_hlt ? VMMEM_HIST_exit_hlt_ns : VMMEM_HIST_exit_other_ns;
	}
}

SEC("tracepoint/kvm/kvm_exit")
int exit_tp(struct trace_event_raw_kvm_exit *ctx)
{
	handle_exit(ctx->exit_reason, ctx->isa, false, true);
	return 0;
}

SEC("tracepoint/kvm/kvm_exit")
int exit_rec_tp(struct trace_event_raw_kvm_exit *ctx)
{
	handle_exit(ctx->exit_reason, ctx->isa, true, true);
	return 0;
}

SEC("tracepoint/kvm/kvm_exit")
int exit_fmt_tp(void *ctx)
{
	handle_exit(fmt_field(ctx, fmt_exit_reason_off, fmt_exit_reason_size),
		    fmt_field(ctx, fmt_exit_isa_off, fmt_exit_isa_size), false, false);
	return 0;
}

SEC("tracepoint/kvm/kvm_exit")
int exit_fmt_rec_tp(void *ctx)
{
	handle_exit(fmt_field(ctx, fmt_exit_reason_off, fmt_exit_reason_size),
		    fmt_field(ctx, fmt_exit_isa_off, fmt_exit_isa_size), true, false);
	return 0;
}

/* The vCPU re-enters the guest: close the exit and fault spans of this thread. */
static __always_inline void handle_entry(void)
{
	struct thread_spans *s;
	__u32 tgid = current_tgid();
	__u64 now, d;

	s = spans_of_current(false);
	if (!s)
		return;
	now = bpf_ktime_get_ns();
	if (s->exit_ns) {
		d = now - s->exit_ns;
		vm_hist_add(tgid, s->exit_hist, d);
		if (d >= slow_event_ns)
			emit_timed_event(VMMEM_EV_slow_exit, tgid, s->exit_reason, s->isa, d);
		s->exit_ns = 0;
	}
	if (s->fault_ns) {
		d = now - s->fault_ns;
		vm_hist_add(tgid, VMMEM_HIST_tdp_fault_ns, d);
		if (d >= slow_event_ns)
			emit_timed_event(VMMEM_EV_slow_fault, tgid, s->fault_gpa, 0, d);
		s->fault_ns = 0;
	}
}

SEC("tp_btf/kvm_entry")
int entry_btf(void *ctx)
{
	handle_entry();
	return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int entry_tp(void *ctx)
{
	handle_entry();
	return 0;
}

/* level: PG_LEVEL_4K=1, 2M=2, 1G=3 (arch/x86/include/asm/pgtable_types.h) */
static __always_inline void handle_tdp_map(__u64 level, const bool claim)
{
	struct vmmem_vm_counters *c = kvm_current_vm_or(claim);

	if (!c)
		return;
	switch (level) {
	case 1: inc(c, tdp_map_4k); break;
	case 2: inc(c, tdp_map_2m); break;
	case 3: inc(c, tdp_map_1g); break;
	}
}

SEC("tracepoint/kvmmmu/kvm_mmu_spte_requested")
int tdp_map_tp(struct trace_event_raw_kvm_mmu_spte_requested *ctx)
{
	handle_tdp_map(ctx->level, true);
	return 0;
}

SEC("tracepoint/kvmmmu/kvm_mmu_spte_requested")
int tdp_map_fmt_tp(void *ctx)
{
	handle_tdp_map(fmt_field(ctx, fmt_spte_level_off, fmt_spte_level_size), false);
	return 0;
}

/* ---------------- TLB ---------------- */

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
SEC("tp_btf/tlb_flush")
int BPF_PROG(tlb_flush_btf, int reason, unsigned long pages)
{
	handle_tlb_flush(reason, pages, false);
	return 0;
}

SEC("tp_btf/tlb_flush")
int BPF_PROG(tlb_flush_rec_btf, int reason, unsigned long pages)
{
	handle_tlb_flush(reason, pages, true);
	return 0;
}

SEC("tracepoint/tlb/tlb_flush")
int tlb_flush_tp(struct trace_event_raw_tlb_flush *ctx)
{
	handle_tlb_flush(ctx->reason, ctx->pages, false);
	return 0;
}

SEC("tracepoint/tlb/tlb_flush")
int tlb_flush_rec_tp(struct trace_event_raw_tlb_flush *ctx)
{
	handle_tlb_flush(ctx->reason, ctx->pages, true);
	return 0;
}

/* Time of a TLB shootdown as the sending thread sees it (arch/x86/mm/tlb.c). */
SEC("fentry/flush_tlb_mm_range")
int BPF_PROG(tlb_time_fentry)
{
	span_begin(&tlb_start);
	return 0;
}

SEC("fexit/flush_tlb_mm_range")
int BPF_PROG(tlb_time_fexit)
{
	__u64 d = span_end(&tlb_start);

	if (d)
		vm_hist_add(current_tgid(), VMMEM_HIST_tlb_shootdown_ns, d);
	return 0;
}

/* Attributed to the VM whose MMU is flushed, not the calling thread: the caller is
 * often ksmd, kswapd or khugepaged through the MMU notifier (virt/kvm/kvm_main.c). */
SEC("fentry/kvm_flush_remote_tlbs")
int BPF_PROG(kvm_remote_flush_fentry, struct kvm *kvm)
{
	struct vmmem_vm_counters *c = vm_of_tgid(mm_owner_tgid(BPF_CORE_READ(kvm, mm)));

	if (c)
		inc(c, kvm_remote_tlb_flushes);
	return 0;
}

SEC("tracepoint/kvm/kvm_pv_tlb_flush")
int pv_tlb_flush_tp(struct trace_event_raw_kvm_pv_tlb_flush *ctx)
{
	struct vmmem_vm_counters *c;

	if (!ctx->need_flush_tlb)
		return 0;
	c = kvm_current_vm();
	if (c)
		inc(c, pv_tlb_flushes);
	return 0;
}

/* ---------------- KSM ---------------- */

static __u64 ksm_scan_start_ns;	/* ksmd is one thread: no per-CPU state needed */

static __always_inline void handle_ksm_start(void)
{
	ksm_scan_start_ns = bpf_ktime_get_ns();
}

static __always_inline void handle_ksm_stop(__u32 rmap_entries)
{
	struct vmmem_host_counters *h = host();
	__u64 start = ksm_scan_start_ns, now = bpf_ktime_get_ns();
	__u32 zero = 0;
	struct vmmem_host_hists *hh;

	if (!h)
		return;
	/* a full scan paused by run=0 resumes later: its stop comes without a start we saw;
	 * it counts as a scan, but its duration is unknown */
	h->c[VMMEM_H_ksm_scans]++;
	if (!start)
		return;
	hh = bpf_map_lookup_elem(&host_hists, &zero);
	if (hh)
		hist_add(&hh->h[VMMEM_HHIST_ksm_scan_ns], now - start);
	ksm_scan_start_ns = 0;
	emit_event(VMMEM_EV_ksm_scan, 0, now - start, rmap_entries);
}

/* TP_PROTO(int seq, u32 rmap_entries), include/trace/events/ksm.h (6.4+) */
SEC("tp_btf/ksm_start_scan")
int BPF_PROG(ksm_start_btf, int seq, __u32 rmap_entries)
{
	handle_ksm_start();
	return 0;
}

SEC("tp_btf/ksm_stop_scan")
int BPF_PROG(ksm_stop_btf, int seq, __u32 rmap_entries)
{
	handle_ksm_stop(rmap_entries);
	return 0;
}

SEC("tracepoint/ksm/ksm_start_scan")
int ksm_start_tp(void *ctx)
{
	handle_ksm_start();
	return 0;
}

SEC("tracepoint/ksm/ksm_stop_scan")
int ksm_stop_tp(struct trace_event_raw_ksm_scan_template *ctx)
{
	handle_ksm_stop(ctx->rmap_entries);
	return 0;
}

static __always_inline void ksm_merged(void *mm, int err, const bool rec)
{
	struct vmmem_vm_counters *c;
	__u32 tgid;

	if (err)
		return;
	tgid = mm_owner_tgid(mm);
	c = vm_of_tgid(tgid);
	if (!c)
		return;
	inc(c, ksm_merged_pages);
	/* tid and cpu are ksmd's: it does the merging */
	if (rec)
		emit_event(VMMEM_EV_ksm_merge, tgid, 0, 0);
}

/* try_to_merge_with_ksm_page(): a page joined (or became) a KSM page (mm/ksm.c) */
SEC("tp_btf/ksm_merge_with_ksm_page")
int BPF_PROG(ksm_merge_ksm_btf, void *ksm_page, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, false);
	return 0;
}

SEC("tp_btf/ksm_merge_with_ksm_page")
int BPF_PROG(ksm_merge_ksm_rec_btf, void *ksm_page, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, true);
	return 0;
}

/* the use_zero_pages path merges with the zero page without the one above */
SEC("tp_btf/ksm_merge_one_page")
int BPF_PROG(ksm_merge_one_btf, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, false);
	return 0;
}

SEC("tp_btf/ksm_merge_one_page")
int BPF_PROG(ksm_merge_one_rec_btf, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, true);
	return 0;
}

SEC("tracepoint/ksm/ksm_merge_with_ksm_page")
int ksm_merge_ksm_tp(struct trace_event_raw_ksm_merge_with_ksm_page *ctx)
{
	ksm_merged(ctx->mm, ctx->err, false);
	return 0;
}

SEC("tracepoint/ksm/ksm_merge_with_ksm_page")
int ksm_merge_ksm_rec_tp(struct trace_event_raw_ksm_merge_with_ksm_page *ctx)
{
	ksm_merged(ctx->mm, ctx->err, true);
	return 0;
}

SEC("tracepoint/ksm/ksm_merge_one_page")
int ksm_merge_one_tp(struct trace_event_raw_ksm_merge_one_page *ctx)
{
	ksm_merged(ctx->mm, ctx->err, false);
	return 0;
}

SEC("tracepoint/ksm/ksm_merge_one_page")
int ksm_merge_one_rec_tp(struct trace_event_raw_ksm_merge_one_page *ctx)
{
	ksm_merged(ctx->mm, ctx->err, true);
	return 0;
}

#include "ksm_fn.bpf.h"
#include "evict.bpf.h"

/* ---------------- THP ---------------- */

#define SCAN_SUCCEED 1	/* mm/khugepaged.c enum scan_result */

static __always_inline void handle_thp_collapse(struct mm_struct *mm, int status)
{
	struct vmmem_vm_counters *c;

	if (status != SCAN_SUCCEED)
		return;
	c = vm_of_tgid(mm_owner_tgid(mm));
	if (c)
		inc(c, thp_collapses);
}

SEC("tp_btf/mm_collapse_huge_page")
int BPF_PROG(thp_collapse_btf, struct mm_struct *mm, int isolated, int status)
{
	handle_thp_collapse(mm, status);
	return 0;
}

SEC("tracepoint/huge_memory/mm_collapse_huge_page")
int thp_collapse_tp(struct trace_event_raw_mm_collapse_huge_page *ctx)
{
	handle_thp_collapse(ctx->mm, ctx->status);
	return 0;
}

/* ---------------- balloon: the VMM discarding / re-requesting guest RAM ---------------- */

#define MADV_WILLNEED		3
#define MADV_DONTNEED		4
#define MADV_FREE		8
#define MADV_REMOVE		9
#define MADV_DONTNEED_LOCKED	24
#define FALLOC_FL_PUNCH_HOLE	0x02

/*
 * A discard splits along the VM's guest RAM (bpf/guest_ram.bpf.h): what frees guest memory
 * for its backing is balloon_inflate_bytes, what lies outside guest RAM is
 * vmm_own_discard_bytes, and the rest (MADV_DONTNEED of shared guest RAM) is QEMU's second
 * half of a discard whose PUNCH_HOLE already counted: ram_block_discard_range()
 * (softmmu/physmem.c, QEMU 7.2) punches the file, then madvise(MADV_DONTNEED)s the mapping,
 * which frees nothing more. A VMM whose guest RAM is not known counts nothing here: user
 * space reports its balloon counters as unavailable.
 * dur_ns is 0 where the hook gives no start time.
 */
static __always_inline void balloon_madvise(__u64 start, __u64 len, int behavior, __u64 dur_ns)
{
	struct vmmem_vm_counters *c = current_vm();
	struct vmmem_guest_ram *g;
	__u64 inside = 0, freeing = 0;

	if (!c)
		return;
	switch (behavior) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_WILLNEED:
		break;
	default:
		return;
	}
	g = guest_ram_of_current();
	if (!g)
		return;
	/* MADV_REMOVE frees shared memory (mm/madvise.c madvise_remove: it punches the file);
	 * DONTNEED/FREE free private memory; WILLNEED asks any guest RAM back */
	freeing = guest_split_hva(g, start, len, behavior == MADV_WILLNEED ? -1 : behavior == MADV_REMOVE, &inside);
	if (behavior == MADV_WILLNEED) {
		if (!inside)
			return;
		c->c[VMMEM_C_balloon_deflate_bytes] += inside;
		emit_timed_event(VMMEM_EV_balloon, current_tgid(), inside, behavior, dur_ns);
		return;
	}
	c->c[VMMEM_C_vmm_own_discard_bytes] += len - inside;
	if (!freeing)
		return;
	c->c[VMMEM_C_balloon_inflate_bytes] += freeing;
	if (dur_ns)
		vm_hist_add(current_tgid(), VMMEM_HIST_balloon_discard_ns, dur_ns);
	emit_timed_event(VMMEM_EV_balloon, current_tgid(), freeing, behavior, dur_ns);
}

static __always_inline void balloon_fallocate(struct file *file, __u64 off, __u64 len, int mode, __u64 dur_ns)
{
	struct vmmem_vm_counters *c;
	struct vmmem_guest_ram *g;
	__u64 ino = 0, inside = 0;
	__u32 dev = 0;

	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		return;
	c = current_vm();
	if (!c)
		return;
	g = guest_ram_of_current();
	if (!g)
		return;
	if (file) {
		file_identity(file, &dev, &ino);
		inside = guest_split_file(g, dev, ino, off, len);
	}
	c->c[VMMEM_C_vmm_own_discard_bytes] += len - inside;
	if (!inside)
		return;
	c->c[VMMEM_C_balloon_inflate_bytes] += inside;
	if (dur_ns)
		vm_hist_add(current_tgid(), VMMEM_HIST_balloon_discard_ns, dur_ns);
	emit_timed_event(VMMEM_EV_balloon, current_tgid(), inside, 0x100 | mode, dur_ns);
}

SEC("fentry/do_madvise")
int BPF_PROG(madvise_fentry)
{
	span_begin(&discard_start);
	return 0;
}

SEC("fentry/vfs_fallocate")
int BPF_PROG(fallocate_fentry)
{
	span_begin(&discard_start);
	return 0;
}

/* fexit sees the return value without switching every thread to the syscall slow path */
SEC("fexit/do_madvise")
int BPF_PROG(madvise_fexit, struct mm_struct *mm, unsigned long start, size_t len_in,
	     int behavior, int ret)
{
	if (ret == 0)
		balloon_madvise(start, len_in, behavior, span_end(&discard_start));
	return 0;
}

/*
 * The madvise() syscall itself (x86-64's syscall wrapper, arch/x86/include/asm/syscall_wrapper.h:
 * __x64_sys_madvise(const struct pt_regs *regs), arguments in the user registers). Preferred
 * to do_madvise(): on 5.10 the syscall path does not call an out-of-line do_madvise() (its
 * fexit attaches, yet never fires for madvise(2)), so only the syscall's own function is
 * sure to see every call. A trampoline on this one function, not the syscall slow path.
 */
SEC("fentry/__x64_sys_madvise")
int BPF_PROG(madvise_sys_fentry)
{
	span_begin(&discard_start);
	return 0;
}

/* The regs pointer is read with a helper, not from ctx: 5.10's verifier refuses a ctx load
 * of an argument whose type is a struct it only knows as a forward declaration ("arg0 type
 * FWD is not a struct", kernel/bpf/btf.c btf_ctx_access). The return value is a plain long. */
SEC("fexit/__x64_sys_madvise")
int madvise_sys_fexit(__u64 *ctx)
{
	struct pt_regs *regs = NULL;
	long ret = ctx[1];

	if (ret != 0 || bpf_probe_read_kernel(&regs, sizeof(regs), ctx) || !regs)
		return 0;
	balloon_madvise(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx),
			span_end(&discard_start));
	return 0;
}

SEC("fexit/vfs_fallocate")
int BPF_PROG(fallocate_fexit, struct file *file, int mode, loff_t offset, loff_t len, long ret)
{
	if (ret == 0)
		balloon_fallocate(file, offset, len, mode, span_end(&discard_start));
	return 0;
}

/* Fallback where fexit is missing: syscall tracepoints, arguments stashed per thread. */
struct syscall_args {
	__u64 start_ns;
	__u64 start;		/* madvise: address; fallocate: offset */
	__u64 len;
	__s32 op;
	__u32 is_fallocate;
	__s32 fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct syscall_args);
} inflight SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_madvise")
int madvise_enter_tp(struct sys_enter_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .start_ns = bpf_ktime_get_ns(), .start = ctx->args[0], .len = ctx->args[1],
				  .op = (int)ctx->args[2] };

	if (!current_vm())
		return 0;
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_fallocate")
int fallocate_enter_tp(struct sys_enter_ctx *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .start_ns = bpf_ktime_get_ns(), .start = ctx->args[2], .len = ctx->args[3],
				  .op = (int)ctx->args[1], .is_fallocate = 1, .fd = (int)ctx->args[0] };

	if (!current_vm())
		return 0;
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline void syscall_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args *a;

	/* every process's madvise exits here: reject non-VMMs with the cheap array lookup */
	if (!vm_of_tgid(id >> 32))
		return;
	a = bpf_map_lookup_elem(&inflight, &id);
	if (!a)
		return;
	if (ret == 0) {
		__u64 d = bpf_ktime_get_ns() - a->start_ns;

		/* the fd still names the file: the syscall has not returned to user space */
		if (a->is_fallocate)
			balloon_fallocate(current_fd_file(a->fd), a->start, a->len, a->op, d);
		else
			balloon_madvise(a->start, a->len, a->op, d);
	}
	bpf_map_delete_elem(&inflight, &id);
}

SEC("tracepoint/syscalls/sys_exit_madvise")
int madvise_exit_tp(struct sys_exit_ctx *ctx)
{
	syscall_exit(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_fallocate")
int fallocate_exit_tp(struct sys_exit_ctx *ctx)
{
	syscall_exit(ctx->ret);
	return 0;
}
#include "ipi.bpf.h"
