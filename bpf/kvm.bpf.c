// SPDX-License-Identifier: GPL-2.0
/* KVM's own events per VM: TDP (EPT/NPT) faults, exits by reason, re-entries (the exit and
 * fault latency spans end there) and the page size each TDP mapping gets. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"
#include "latency.bpf.h"

/* Spans slower than this are also streamed as events (top-N slowest in `report`). */
const volatile __u64 slow_event_ns = 1000000;

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
VMMEM_TWIN(tdp_fault, _btf, unsigned long long *)
{
	if (bpf_core_field_exists(struct trace_event_raw_kvm_page_fault, vcpu_id))
		handle_tdp_fault(ctx[1], ctx[2], rec);
	else
		handle_tdp_fault(ctx[0], (__u32)ctx[1], rec);
	return 0;
}

VMMEM_TWIN_TP(tdp_fault, _tp, struct trace_event_raw_kvm_page_fault)
{
	handle_tdp_fault(ctx->fault_address, ctx->error_code, rec);
	return 0;
}

VMMEM_TWIN(tdp_fault_fmt, _tp, void *)
{
	handle_tdp_fault_or(fmt_field(ctx, fmt_pf_addr_off, fmt_pf_addr_size),
			    fmt_field(ctx, fmt_pf_err_off, fmt_pf_err_size), rec, false);
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

VMMEM_TWIN_TP(exit, _tp, struct trace_event_raw_kvm_exit)
{
	handle_exit(ctx->exit_reason, ctx->isa, rec, true);
	return 0;
}

VMMEM_TWIN(exit_fmt, _tp, void *)
{
	handle_exit(fmt_field(ctx, fmt_exit_reason_off, fmt_exit_reason_size),
		    fmt_field(ctx, fmt_exit_isa_off, fmt_exit_isa_size), rec, false);
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

VMMEM_BTF_OR_TP(entry, handle_entry)

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

int tdp_map_tp(void *ctx)
{
	struct trace_event_raw_kvm_mmu_spte_requested *e = ctx;

	handle_tdp_map(e->level, true);
	return 0;
}

int tdp_map_fmt_tp(void *ctx)
{
	handle_tdp_map(fmt_field(ctx, fmt_spte_level_off, fmt_spte_level_size), false);
	return 0;
}
