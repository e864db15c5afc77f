// SPDX-License-Identifier: GPL-2.0
/*
 * Tracepoint probes, attached by name: core tracepoints found with
 * for_each_kernel_tracepoint(), KVM's (they live in kvm.ko) through the tracepoint module
 * notifier, so they attach whenever kvm.ko comes and detach before it goes (the pattern of
 * LTTng-modules).  Probes run with preemption off: they never sleep and never allocate;
 * they bump per-CPU counters and, when a consumer asked, write a ring record.
 *
 * Each probe's prototype is its tracepoint's TP_PROTO on the kernels this module builds
 * for (6.1 and later); the file cites where each is defined.
 */
#include <linux/kvm_host.h>
#include <linux/module.h>
#include <linux/mm_types.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <asm/tlbflush.h>
#include "vmmem_internal.h"

#if IS_ENABLED(CONFIG_CFI_CLANG)
/* probes are cast to void * for tracepoint_probe_register(); kCFI checks the call's type */
#error "vmmem.ko does not support kernels built with CONFIG_CFI_CLANG"
#endif

#define TLB_REMOTE_SEND_IPI	4	/* include/linux/mm_types.h enum tlb_flush_reason */
#define SCAN_SUCCEED		1	/* mm/khugepaged.c enum scan_result */
#define PG_LEVEL_4K_		1	/* arch/x86/include/asm/pgtable_types.h enum pg_level */

/* ---- KVM (arch/x86/kvm/trace.h, mmu/mmutrace.h) ---- */

/* TP_PROTO(struct kvm_vcpu *vcpu, u64 fault_address, u64 error_code) */
static void probe_kvm_page_fault(void *data, struct kvm_vcpu *vcpu, u64 gpa, u64 error_code)
{
	struct vmmem_slot *s = vmmem_slot_claim(current->tgid, VMMEM_ORIGIN_KVM_CREATE);
	struct vmmem_span *sp;

	if (!s)
		return;
	vmmem_vm_add(s, VMMEM_C_tdp_faults, 1);
	sp = vmmem_span_get(current->pid, true);
	if (sp) {
		sp->fault_ns = ktime_get_ns();
		sp->fault_gpa = gpa;
	}
	vmmem_event_emit(VMMEM_EV_tdp_fault, current->tgid, gpa, error_code, 0);
}

/*
 * TP_PROTO(struct kvm_vcpu *vcpu, u32 isa).  The exit reason is computed inside the trace
 * event from vendor-private state (static_call(kvm_x86_get_exit_info), not exported), so
 * this module counts exits but not their classes: those counters stay unavailable.
 */
static void probe_kvm_exit(void *data, struct kvm_vcpu *vcpu, u32 isa)
{
	struct vmmem_slot *s = vmmem_slot_claim(current->tgid, VMMEM_ORIGIN_KVM_CREATE);

	if (!s)
		return;
	vmmem_vm_add(s, VMMEM_C_exits, 1);
	vmmem_event_emit(VMMEM_EV_exit, current->tgid, ~0ull, isa, 0);
}

/*
 * TP_PROTO(struct kvm_vcpu *vcpu) before 6.9, (vcpu, bool force_immediate_exit) after
 * (Debian's 6.1 has the backport); only vcpu is read.  Gives each vCPU thread of a counted
 * VMM its span (for its IPIs and preemptions), closes its pending IPI deliveries and its
 * open fault span.
 */
static void probe_kvm_entry(void *data, struct kvm_vcpu *vcpu)
{
	struct vmmem_span *sp;
	struct vmmem_slot *s;
	u64 d;

	sp = vmmem_span_get(current->pid, false);
	if (!sp) {
		if (!vmmem_slot_find(current->tgid))
			return;
		sp = vmmem_span_get(current->pid, true);
		if (!sp)
			return;
	}
	vmmem_ipi_entry(sp, vcpu);
	if (!sp->fault_ns)
		return;
	d = ktime_get_ns() - sp->fault_ns;
	sp->fault_ns = 0;
	s = vmmem_slot_find(current->tgid);
	if (!s)
		return;
	vmmem_hist_add(s, VMMEM_HIST_tdp_fault_ns, d);
	if (d >= READ_ONCE(vmmem_slow_ns))
		vmmem_event_emit(VMMEM_EV_slow_fault, current->tgid, sp->fault_gpa, 0, d);
}

/* TP_PROTO(unsigned int vcpu_id, bool need_flush_tlb) */
static void probe_kvm_pv_tlb_flush(void *data, unsigned int vcpu_id, bool need_flush_tlb)
{
	struct vmmem_slot *s;

	if (!need_flush_tlb)
		return;
	s = vmmem_slot_claim(current->tgid, VMMEM_ORIGIN_KVM_CREATE);
	if (s)
		vmmem_vm_add(s, VMMEM_C_pv_tlb_flushes, 1);
}

/*
 * TP_PROTO(int level, gfn_t gfn, u64 *sptep): a leaf SPTE KVM installed, with its level
 * (mmu/tdp_mmu.c tdp_mmu_map_handle_target_level, mmu/mmu.c mmu_set_spte).  The BPF side
 * reads kvm_mmu_spte_requested, whose argument (struct kvm_page_fault) is private to KVM.
 */
static void probe_kvm_mmu_set_spte(void *data, int level, u64 gfn, u64 *sptep)
{
	struct vmmem_slot *s = vmmem_slot_find(current->tgid);

	if (!s || level < PG_LEVEL_4K_ || level > PG_LEVEL_4K_ + 2)
		return;
	vmmem_vm_add(s, VMMEM_C_tdp_map_4k + level - PG_LEVEL_4K_, 1);
}

/* TP_PROTO(__u32 icr_low, __u32 dest_id) (arch/x86/kvm/trace.h), in the sender's thread */
static void probe_kvm_apic_ipi(void *data, u32 icr_low, u32 dest_id)
{
	struct vmmem_slot *s = vmmem_slot_claim(current->tgid, VMMEM_ORIGIN_KVM_CREATE);

	if (!s)
		return;
	vmmem_vm_add(s, VMMEM_C_guest_ipis, 1);
	vmmem_ipi_sent(s, icr_low, dest_id);
}

/* include/trace/events/kvm.h: TP_PROTO(__u32 reason, int errno), after every KVM_RUN */
static void probe_kvm_userspace_exit(void *data, u32 reason, int err)
{
	vmmem_ipi_userspace_exit();
}

/* ---- core ---- */

/* include/trace/events/sched.h: TP_PROTO(bool preempt, struct task_struct *prev,
 * struct task_struct *next, unsigned int prev_state) (prev_state since 5.18) */
static void probe_sched_switch(void *data, bool preempt, struct task_struct *prev,
			       struct task_struct *next, unsigned int prev_state)
{
	vmmem_ipi_switch(preempt, prev, next);
}

/* include/trace/events/tlb.h: TP_PROTO(int reason, unsigned long pages) */
static void probe_tlb_flush(void *data, int reason, unsigned long pages)
{
	struct vmmem_slot *s;

	if (reason != TLB_REMOTE_SEND_IPI)
		return;
	s = vmmem_slot_find(current->tgid);
	if (!s)
		return;
	vmmem_vm_add(s, VMMEM_C_tlb_shootdown_ipis, 1);
	if (pages == TLB_FLUSH_ALL)
		vmmem_vm_add(s, VMMEM_C_tlb_full_flushes, 1);
	else
		vmmem_vm_add(s, VMMEM_C_tlb_flush_pages, pages);
	vmmem_event_emit(VMMEM_EV_tlb_shootdown, current->tgid, pages, 0, 0);
}

/* include/trace/events/huge_memory.h: TP_PROTO(struct mm_struct *mm, int isolated, int status) */
static void probe_mm_collapse_huge_page(void *data, struct mm_struct *mm, int isolated, int status)
{
	struct vmmem_slot *s;

	if (status != SCAN_SUCCEED || !mm || !vmmem_table_busy())
		return;
	s = vmmem_slot_find(vmmem_mm_owner_tgid(mm));
	if (s)
		vmmem_vm_add(s, VMMEM_C_thp_collapses, 1);
}

/*
 * include/trace/events/sched.h: TP_PROTO(struct task_struct *p), p == current.  It fires
 * in do_exit() after signal->live was decremented (kernel/exit.c), so live == 0 means the
 * last thread of the process.
 */
static void probe_sched_process_exit(void *data, struct task_struct *p)
{
	if (!vmmem_slot_find(p->tgid))
		return;
	vmmem_span_put(p->pid);
	if (atomic_read(&p->signal->live) == 0)
		vmmem_slot_exit(p->tgid);
}

/* ---- KSM (6.4+): include/trace/events/ksm.h ---- */

/* TP_PROTO(int seq, u32 rmap_entries) */
static void probe_ksm_start_scan(void *data, int seq, u32 rmap_entries)
{
	vmmem_ksm_scan_start();
}

static void probe_ksm_stop_scan(void *data, int seq, u32 rmap_entries)
{
	vmmem_ksm_scan_stop(rmap_entries);
}

/* TP_PROTO(void *ksm_page, unsigned long pfn, void *rmap_item, void *mm, int err):
 * try_to_merge_with_ksm_page() (mm/ksm.c) */
static void probe_ksm_merge_with_ksm_page(void *data, void *ksm_page, unsigned long pfn,
					  void *rmap_item, void *mm, int err)
{
	if (!err)
		vmmem_ksm_merged(mm);
}

/* TP_PROTO(unsigned long pfn, void *rmap_item, void *mm, int err) */
static void probe_ksm_merge_one_page(void *data, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	if (!err)
		vmmem_ksm_merged(mm);
}

struct probe {
	const char *name;
	void *func;
	bool in_kvm;			/* defined in kvm.ko */
	u64 counters;			/* VM counters it feeds */
	u64 hists;			/* VM histograms it feeds */
	u64 host_counters;		/* host counters it feeds */
	u64 host_hists;			/* host histograms it feeds */
	const char *needs[3];		/* feeds them only with these attached too */
	struct tracepoint *tp;		/* attached to, or NULL */
};

#define C(x)	BIT_ULL(VMMEM_C_##x)
#define H(x)	BIT_ULL(VMMEM_HIST_##x)
static struct probe probes[] = {
	{ "kvm_page_fault", probe_kvm_page_fault, true, C(tdp_faults) },
	{ "kvm_exit", probe_kvm_exit, true, C(exits) },
	{ "kvm_entry", probe_kvm_entry, true, 0, H(tdp_fault_ns) },
	{ "kvm_pv_tlb_flush", probe_kvm_pv_tlb_flush, true, C(pv_tlb_flushes) },
	{ "kvm_mmu_set_spte", probe_kvm_mmu_set_spte, true, C(tdp_map_4k) | C(tdp_map_2m) | C(tdp_map_1g) },
	{ "kvm_apic_ipi", probe_kvm_apic_ipi, true, C(guest_ipis) },
	{ "kvm_userspace_exit", probe_kvm_userspace_exit, true },
	/* no probe of its own: the target's state and the delivery time need the sender's vCPU,
	 * known between kvm_entry and kvm_userspace_exit */
	{ NULL, NULL, true, C(guest_ipis_to_preempted) | C(guest_ipis_to_halted) | C(guest_ipis_to_running),
	  H(ipi_delivery_ns), .needs = { "kvm_apic_ipi", "kvm_entry", "kvm_userspace_exit" } },
	{ "tlb_flush", probe_tlb_flush, false,
	  C(tlb_shootdown_ipis) | C(tlb_flush_pages) | C(tlb_full_flushes) },
	{ "mm_collapse_huge_page", probe_mm_collapse_huge_page, false, C(thp_collapses) },
	{ "sched_process_exit", probe_sched_process_exit, false },
	/* vCPU threads are known from their kvm_entry */
	{ "sched_switch", probe_sched_switch, false, C(vcpu_preemptions), H(vcpu_preempted_ns),
	  .needs = { "kvm_entry" } },
	{ "ksm_start_scan", probe_ksm_start_scan, false },
	{ "ksm_stop_scan", probe_ksm_stop_scan, false, 0, 0,
	  BIT_ULL(VMMEM_H_ksm_scans), BIT_ULL(VMMEM_HHIST_ksm_scan_ns) },
	{ "ksm_merge_with_ksm_page", probe_ksm_merge_with_ksm_page, false, C(ksm_merged_pages) },
	{ "ksm_merge_one_page", probe_ksm_merge_one_page, false, C(ksm_merged_pages) },
};
static DEFINE_MUTEX(probes_lock);

static void attach(struct tracepoint *tp, bool in_kvm)
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		struct probe *p = &probes[i];

		if (!p->func || p->in_kvm != in_kvm || p->tp || strcmp(tp->name, p->name))
			continue;
		ret = tracepoint_probe_register(tp, p->func, NULL);
		if (ret)
			pr_warn(VMMEM_PFX "cannot attach to tracepoint %s: %d\n", tp->name, ret);
		else
			p->tp = tp;
	}
}

static void detach(bool in_kvm)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		struct probe *p = &probes[i];

		if (p->in_kvm != in_kvm || !p->tp)
			continue;
		tracepoint_probe_unregister(p->tp, p->func, NULL);
		p->tp = NULL;
	}
}

static bool attached(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (probes[i].func && !strcmp(probes[i].name, name))
			return probes[i].tp;
	return false;
}

/* Probes lock held: p's probe (if it has one) and every one it needs are attached. */
static bool feeding(const struct probe *p)
{
	size_t k;

	if (p->func && !p->tp)
		return false;
	for (k = 0; k < ARRAY_SIZE(p->needs) && p->needs[k]; k++)
		if (!attached(p->needs[k]))
			return false;
	return true;
}

bool vmmem_probes_attached(const char *name)
{
	bool ret;

	mutex_lock(&probes_lock);
	ret = attached(name);
	mutex_unlock(&probes_lock);
	return ret;
}

static void attach_core(struct tracepoint *tp, void *priv)
{
	attach(tp, false);
}

/* Called with tracepoint_module_list_mutex held, also for modules loaded before us. */
static int kvm_tp_notify(struct notifier_block *nb, unsigned long val, void *data)
{
	struct tp_module *tp_mod = data;
	struct module *mod = tp_mod->mod;
	unsigned int i;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_OK;
	mutex_lock(&probes_lock);
	if (val == MODULE_STATE_COMING) {
		for (i = 0; i < mod->num_tracepoints; i++)
			attach(tracepoint_ptr_deref(&mod->tracepoints_ptrs[i]), true);
		/* only now: a vCPU recorded at an entry is forgotten when KVM_RUN returns */
		WRITE_ONCE(vmmem_ipi_track_vcpus, attached("kvm_entry") && attached("kvm_userspace_exit"));
		pr_info(VMMEM_PFX "attached to kvm's tracepoints\n");
	} else if (val == MODULE_STATE_GOING) {
		/* kvm.ko goes only once no VM is left, so no thread is inside KVM_RUN */
		WRITE_ONCE(vmmem_ipi_track_vcpus, false);
		detach(true);
		pr_info(VMMEM_PFX "detached from kvm's tracepoints\n");
	}
	mutex_unlock(&probes_lock);
	return NOTIFY_OK;
}

static struct notifier_block kvm_tp_nb = {
	.notifier_call = kvm_tp_notify,
};

void vmmem_probes_available(u64 avail[4])
{
	size_t i;

	mutex_lock(&probes_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (!feeding(&probes[i]))
			continue;
		avail[0] |= probes[i].counters;
		avail[1] |= probes[i].host_counters;
		avail[2] |= probes[i].hists;
		avail[3] |= probes[i].host_hists;
	}
	mutex_unlock(&probes_lock);
}

int vmmem_probes_init(void)
{
	int ret;

	mutex_lock(&probes_lock);
	for_each_kernel_tracepoint(attach_core, NULL);
	mutex_unlock(&probes_lock);
	if (!attached("sched_process_exit")) {
		/* without the exit hook, slots of exited VMMs would never be freed */
		pr_err(VMMEM_PFX "no sched_process_exit tracepoint\n");
		ret = -ENOENT;
		goto out_detach;
	}
	ret = register_tracepoint_module_notifier(&kvm_tp_nb);
	if (ret)
		goto out_detach;
	return 0;

out_detach:
	mutex_lock(&probes_lock);
	detach(false);
	mutex_unlock(&probes_lock);
	tracepoint_synchronize_unregister();
	return ret;
}

void vmmem_probes_exit(void)
{
	/* replays MODULE_STATE_GOING for a loaded kvm.ko: its probes detach there */
	unregister_tracepoint_module_notifier(&kvm_tp_nb);
	mutex_lock(&probes_lock);
	detach(false);
	mutex_unlock(&probes_lock);
	/* no probe of ours runs after this */
	tracepoint_synchronize_unregister();
}
