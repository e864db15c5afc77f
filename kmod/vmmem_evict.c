// SPDX-License-Identifier: GPL-2.0
/*
 * Host eviction of guest memory, per VM, as kprobes (the BPF side: bpf/evict.bpf.c).
 *
 *  - kvm_mmu_notifier_invalidate_range_start() (kvm.ko, virt/kvm/kvm_main.c): runs only
 *    for an mm KVM registered a notifier on, i.e. a VMM's. range->mm is the VM; the task
 *    doing the unmapping is the cause (reclaim, migration and KSM all pass
 *    MMU_NOTIFY_CLEAR on 6.1-6.12, so range->event alone cannot tell them apart).
 *  - hva_to_pfn() (kvm.ko), a kretprobe: a major fault taken inside it (get_user_pages
 *    bringing a swapped-out guest page back) raises current->maj_flt
 *    (mm/memory.c mm_account_fault counts GUP faults to the faulting thread).
 *  - swap_read_folio() (6.10+) or swap_readpage() (before): swap-in by the VMM's threads.
 * kvm.ko's functions are hooked when it is live and unhooked when it goes (module notifier).
 */
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/string.h>
#include "vmmem_internal.h"

static int inval_cause(pid_t owner, int event)
{
	unsigned int flags = current->flags;

	if (flags & PF_KTHREAD) {
		if (!strcmp(current->comm, "ksmd"))
			return VMMEM_C_mmu_inval_ksm_bytes;
		if (flags & PF_KSWAPD)
			return VMMEM_C_mmu_inval_reclaim_bytes;
		if (!strncmp(current->comm, "kcompactd", 9))
			return VMMEM_C_mmu_inval_migrate_bytes;
	}
	if (event == MMU_NOTIFY_MIGRATE)
		return VMMEM_C_mmu_inval_migrate_bytes;
	/* direct reclaim, memory.reclaim and direct compaction run with PF_MEMALLOC */
	if (flags & (PF_MEMALLOC | PF_KSWAPD))
		return VMMEM_C_mmu_inval_reclaim_bytes;
	/* task_numa_work() -> change_prot_numa(), in a thread of the VM itself */
	if (event == MMU_NOTIFY_PROTECTION_VMA)
		return VMMEM_C_mmu_inval_numa_bytes;
	if (current->tgid == owner)
		return VMMEM_C_mmu_inval_vmm_bytes;
	return VMMEM_C_mmu_inval_other_bytes;
}

/* int kvm_mmu_notifier_invalidate_range_start(struct mmu_notifier *mn,
 *					       const struct mmu_notifier_range *range) */
static int inval_pre(struct kprobe *p, struct pt_regs *regs)
{
	const struct mmu_notifier_range *r = (const void *)regs_get_kernel_argument(regs, 1);
	struct vmmem_slot *s;
	pid_t owner;

	if (!vmmem_table_busy())
		return 0;
	owner = vmmem_mm_owner_tgid(r->mm);
	s = vmmem_slot_find(owner);
	if (s && r->end > r->start)
		vmmem_vm_add(s, inval_cause(owner, r->event), r->end - r->start);
	return 0;
}

static int pfn_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	if (!vmmem_slot_find(current->tgid))
		return 1;
	*(unsigned long *)ri->data = current->maj_flt;
	return 0;
}

static int pfn_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	unsigned long m0 = *(unsigned long *)ri->data, m = current->maj_flt;
	struct vmmem_slot *s;

	if (m <= m0)
		return 0;
	s = vmmem_slot_find(current->tgid);
	if (s)
		vmmem_vm_add(s, VMMEM_C_kvm_major_faults, m - m0);
	return 0;
}

/* void swap_read_folio(struct folio *folio, struct swap_iocb **plug) */
static int swapin_folio_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct folio *folio = (void *)regs_get_kernel_argument(regs, 0);
	struct vmmem_slot *s = vmmem_slot_find(current->tgid);

	if (s)
		vmmem_vm_add(s, VMMEM_C_swapin_bytes, folio_size(folio));
	return 0;
}

/* int swap_readpage(struct page *page, bool synchronous, struct swap_iocb **plug): a base
 * page (large folios are not swapped in whole before 6.10) */
static int swapin_page_pre(struct kprobe *p, struct pt_regs *regs)
{
	struct vmmem_slot *s = vmmem_slot_find(current->tgid);

	if (s)
		vmmem_vm_add(s, VMMEM_C_swapin_bytes, PAGE_SIZE);
	return 0;
}

#define C(x)	BIT_ULL(VMMEM_C_##x)

/* in kvm.ko: registered whenever it is live */
static struct vmmem_hook kvm_hooks[] = {
	VMMEM_KPROBE("kvm_mmu_notifier_invalidate_range_start", inval_pre,
		     C(mmu_inval_reclaim_bytes) | C(mmu_inval_migrate_bytes) | C(mmu_inval_numa_bytes) |
		     C(mmu_inval_ksm_bytes) | C(mmu_inval_vmm_bytes) | C(mmu_inval_other_bytes)),
	VMMEM_KRETPROBE("hva_to_pfn", pfn_entry, pfn_return, sizeof(unsigned long), C(kvm_major_faults)),
};

/* in the kernel: the first that registers (swap_readpage became swap_read_folio in 6.10) */
static struct vmmem_hook swapin_hooks[] = {
	VMMEM_KPROBE("swap_read_folio", swapin_folio_pre, C(swapin_bytes)),
	VMMEM_KPROBE("swap_readpage", swapin_page_pre, C(swapin_bytes)),
};
static DEFINE_MUTEX(kvm_hooks_lock);

static void kvm_hooks_attach(void)
{
	size_t i;

	mutex_lock(&kvm_hooks_lock);
	for (i = 0; i < ARRAY_SIZE(kvm_hooks); i++)
		vmmem_hook_register(&kvm_hooks[i]);
	mutex_unlock(&kvm_hooks_lock);
}

static void kvm_hooks_detach(void)
{
	mutex_lock(&kvm_hooks_lock);
	vmmem_hooks_unregister(kvm_hooks, ARRAY_SIZE(kvm_hooks));
	mutex_unlock(&kvm_hooks_lock);
}

static int kvm_module_notify(struct notifier_block *nb, unsigned long val, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_OK;
	if (val == MODULE_STATE_LIVE)
		kvm_hooks_attach();
	else if (val == MODULE_STATE_GOING)
		kvm_hooks_detach();
	return NOTIFY_OK;
}

static struct notifier_block kvm_module_nb = { .notifier_call = kvm_module_notify };
static bool nb_on;

void vmmem_evict_init(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(swapin_hooks); i++)
		if (!vmmem_hook_register(&swapin_hooks[i]))
			break;
	nb_on = register_module_notifier(&kvm_module_nb) == 0;
	kvm_hooks_attach();	/* kvm.ko loaded before us (fails quietly if it is not) */
}

void vmmem_evict_exit(void)
{
	if (nb_on)
		unregister_module_notifier(&kvm_module_nb);
	kvm_hooks_detach();
	vmmem_hooks_unregister(swapin_hooks, ARRAY_SIZE(swapin_hooks));
	nb_on = false;
}

void vmmem_evict_available(u64 avail[4])
{
	mutex_lock(&kvm_hooks_lock);
	vmmem_hooks_available(kvm_hooks, ARRAY_SIZE(kvm_hooks), avail);
	mutex_unlock(&kvm_hooks_lock);
	vmmem_hooks_available(swapin_hooks, ARRAY_SIZE(swapin_hooks), avail);
}

u64 vmmem_evict_missed(void)
{
	return vmmem_hooks_missed(kvm_hooks, ARRAY_SIZE(kvm_hooks)) +
	       vmmem_hooks_missed(swapin_hooks, ARRAY_SIZE(swapin_hooks));
}
