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

/* Attributed to the VM whose MMU is flushed, not the calling thread: the caller is
 * often ksmd, kswapd or khugepaged through the MMU notifier (virt/kvm/kvm_main.c). */
int BPF_PROG(kvm_remote_flush_fentry, struct kvm *kvm)
{
	struct vmmem_vm_counters *c = vm_of_tgid(mm_owner_tgid(BPF_CORE_READ(kvm, mm)));

	if (c)
		inc(c, kvm_remote_tlb_flushes);
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
