// SPDX-License-Identifier: GPL-2.0
/*
 * Probes attached by tracepoint name: core tracepoints through for_each_kernel_tracepoint(),
 * KVM's (they live in kvm.ko) through the tracepoint module notifier, so they are attached
 * whenever kvm.ko comes and detached before it goes. Probes run with preemption disabled:
 * they never sleep, never allocate, and only bump per-CPU counters.
 */
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/mm_types.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include "vmmem_internal.h"

#if IS_ENABLED(CONFIG_CFI_CLANG)
#error "probe_tdp_fault/probe_exit take fewer arguments than their tracepoints: not CFI-safe"
#endif

#define TLB_REMOTE_SEND_IPI	4	/* enum tlb_flush_reason, include/linux/mm_types.h */
#define SCAN_SUCCEED		1	/* mm/khugepaged.c enum scan_result */

static inline void count(struct vmmem_slot *s, int id)
{
	if (s)
		this_cpu_inc(s->c->c[id]);
}

/* Only VMMs hit KVM tracepoints: the first one claims the process's slot. The kvm_page_fault
 * and kvm_exit prototypes changed across kernels (arch/x86/kvm/trace.h); no argument is read
 * beyond those every version has, and the kernel is built without CFI (checked at build). */
static void probe_tdp_fault(void *data)
{
	count(vmmem_slot_claim(current->tgid), VMMEM_C_tdp_faults);
}

static void probe_exit(void *data)
{
	count(vmmem_slot_claim(current->tgid), VMMEM_C_exits);
}

static void probe_pv_tlb_flush(void *data, unsigned int vcpu_id, bool need_flush_tlb)
{
	if (need_flush_tlb)
		count(vmmem_slot_claim(current->tgid), VMMEM_C_pv_tlb_flushes);
}

static void probe_tlb_flush(void *data, int reason, unsigned long pages)
{
	struct vmmem_slot *s;

	if (reason != TLB_REMOTE_SEND_IPI)
		return;
	s = vmmem_slot_find(current->tgid);
	if (!s)
		return;
	this_cpu_inc(s->c->c[VMMEM_C_tlb_shootdown_ipis]);
	if (pages == (unsigned long)-1)	/* TLB_FLUSH_ALL */
		this_cpu_inc(s->c->c[VMMEM_C_tlb_full_flushes]);
	else
		this_cpu_add(s->c->c[VMMEM_C_tlb_flush_pages], pages);
}

static void probe_collapse(void *data, struct mm_struct *mm, int isolated, int status)
{
	struct task_struct *owner;
	pid_t tgid = 0;

	if (status != SCAN_SUCCEED || !mm)
		return;
	rcu_read_lock();
	owner = rcu_dereference(mm->owner);
	if (owner)
		tgid = owner->tgid;
	rcu_read_unlock();
	if (tgid)
		count(vmmem_slot_find(tgid), VMMEM_C_thp_collapses);
}

/* fires after signal->live was decremented (kernel/exit.c do_exit): 0 = last thread */
static void probe_process_exit(void *data, struct task_struct *p)
{
	if (atomic_read(&p->signal->live) == 0 && vmmem_slot_find(p->tgid))
		vmmem_slot_exit(p->tgid);
}

struct probe {
	const char *name;
	void *func;
	bool in_kvm;			/* defined in kvm.ko */
	u64 counters;			/* BIT(VMMEM_C_*) it feeds */
	struct tracepoint *tp;		/* registered on, or NULL */
};

#define C(x) BIT_ULL(VMMEM_C_##x)
static struct probe probes[] = {
	{ "kvm_page_fault", probe_tdp_fault, true, C(tdp_faults) },
	{ "kvm_exit", probe_exit, true, C(exits) },
	{ "kvm_pv_tlb_flush", probe_pv_tlb_flush, true, C(pv_tlb_flushes) },
	{ "tlb_flush", probe_tlb_flush, false, C(tlb_shootdown_ipis) | C(tlb_flush_pages) | C(tlb_full_flushes) },
	{ "mm_collapse_huge_page", probe_collapse, false, C(thp_collapses) },
	{ "sched_process_exit", probe_process_exit, false, 0 },
};
static DEFINE_MUTEX(probes_lock);

static void attach(struct tracepoint *tp, bool in_kvm)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (probes[i].in_kvm != in_kvm || probes[i].tp || strcmp(tp->name, probes[i].name))
			continue;
		if (tracepoint_probe_register(tp, probes[i].func, NULL))
			pr_warn_ratelimited("vmmem: cannot attach to %s\n", tp->name);
		else
			probes[i].tp = tp;
	}
}

static void attach_core(struct tracepoint *tp, void *priv)
{
	attach(tp, false);
}

static int kvm_tp_notify(struct notifier_block *nb, unsigned long val, void *data)
{
	struct tp_module *tp_mod = data;
	struct module *mod = tp_mod->mod;
	size_t i;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_OK;
	mutex_lock(&probes_lock);
	if (val == MODULE_STATE_COMING) {
		for (i = 0; i < mod->num_tracepoints; i++)
			attach(tracepoint_ptr_deref(&mod->tracepoints_ptrs[i]), true);
	} else if (val == MODULE_STATE_GOING) {
		for (i = 0; i < ARRAY_SIZE(probes); i++) {
			if (!probes[i].in_kvm || !probes[i].tp)
				continue;
			tracepoint_probe_unregister(probes[i].tp, probes[i].func, NULL);
			probes[i].tp = NULL;
		}
	}
	mutex_unlock(&probes_lock);
	return NOTIFY_OK;
}

static struct notifier_block kvm_tp_nb = {
	.notifier_call = kvm_tp_notify,
};

u64 vmmem_probes_available_vm(void)
{
	u64 mask = 0;
	size_t i;

	mutex_lock(&probes_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++)
		if (probes[i].tp)
			mask |= probes[i].counters;
	mutex_unlock(&probes_lock);
	return mask;
}

u64 vmmem_probes_available_host(void)
{
	return BIT_ULL(VMMEM_H_dropped_events);
}

int vmmem_probes_init(void)
{
	int ret;

	mutex_lock(&probes_lock);
	for_each_kernel_tracepoint(attach_core, NULL);
	mutex_unlock(&probes_lock);
	/* calls back at once for kvm.ko if it is already loaded */
	ret = register_tracepoint_module_notifier(&kvm_tp_nb);
	if (ret) {
		vmmem_probes_exit();
		return ret;
	}
	return 0;
}

void vmmem_probes_exit(void)
{
	size_t i;

	unregister_tracepoint_module_notifier(&kvm_tp_nb);
	mutex_lock(&probes_lock);
	for (i = 0; i < ARRAY_SIZE(probes); i++) {
		if (!probes[i].tp)
			continue;
		tracepoint_probe_unregister(probes[i].tp, probes[i].func, NULL);
		probes[i].tp = NULL;
	}
	mutex_unlock(&probes_lock);
	/* no probe is running or will run once this returns */
	tracepoint_synchronize_unregister();
}
