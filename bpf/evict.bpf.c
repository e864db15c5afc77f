// SPDX-License-Identifier: GPL-2.0
/*
 * Host eviction of guest memory, per VM.
 *
 * Every hook here costs nothing to processes that are not VMMs:
 *  - kvm_mmu_notifier_invalidate_range_start() (virt/kvm/kvm_main.c) runs only for an mm
 *    that KVM registered an MMU notifier on, i.e. a VMM's; range->mm gives the VM, and
 *    the task that unmaps gives the cause (range->event alone does not: reclaim,
 *    migration and KSM all use MMU_NOTIFY_CLEAR on 6.1-6.12).
 *  - hva_to_pfn() (kvm.ko) is KVM resolving a guest page to a host page; a major fault
 *    taken inside it (get_user_pages faulting a swapped-out page back) raises the vCPU
 *    thread's maj_flt (mm/memory.c mm_account_fault counts GUP faults to current).
 *  - swap_readpage()/swap_read_folio() run in the task that faults (or reads ahead); a
 *    hash lookup by tgid on an I/O path.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"

#define PF_MEMALLOC_FLAG	0x00000800	/* include/linux/sched.h: reclaim (direct, memory.reclaim) */
#define PF_KSWAPD_FLAG		0x00020000
#define MMU_NOTIFY_PROTECTION_VMA_EV	2	/* include/linux/mmu_notifier.h */
#define MMU_NOTIFY_MIGRATE_EV		6

static __always_inline int inval_cause(struct task_struct *t, __u32 owner, int event)
{
	__u32 flags = BPF_CORE_READ(t, flags);
	char comm[10];

	if (flags & PF_KTHREAD_FLAG) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (comm[0] == 'k' && comm[1] == 's' && comm[2] == 'm' && comm[3] == 'd' && comm[4] == 0)
			return VMMEM_C_mmu_inval_ksm_bytes;
		if (flags & PF_KSWAPD_FLAG)
			return VMMEM_C_mmu_inval_reclaim_bytes;
		if (comm[0] == 'k' && comm[1] == 'c' && comm[2] == 'o' && comm[3] == 'm' &&
		    comm[4] == 'p' && comm[5] == 'a' && comm[6] == 'c' && comm[7] == 't' && comm[8] == 'd')
			return VMMEM_C_mmu_inval_migrate_bytes;
	}
	if (event == MMU_NOTIFY_MIGRATE_EV)
		return VMMEM_C_mmu_inval_migrate_bytes;
	/* direct reclaim, memory.reclaim and direct compaction run with PF_MEMALLOC */
	if (flags & (PF_MEMALLOC_FLAG | PF_KSWAPD_FLAG))
		return VMMEM_C_mmu_inval_reclaim_bytes;
	/* task_numa_work() -> change_prot_numa(): in a thread of the VM itself */
	if (event == MMU_NOTIFY_PROTECTION_VMA_EV)
		return VMMEM_C_mmu_inval_numa_bytes;
	if ((bpf_get_current_pid_tgid() >> 32) == owner)
		return VMMEM_C_mmu_inval_vmm_bytes;
	return VMMEM_C_mmu_inval_other_bytes;
}

int BPF_PROG(mmu_inval_fentry, struct mmu_notifier *mn, const struct mmu_notifier_range *range)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 owner = mm_owner_tgid(BPF_CORE_READ(range, mm));
	struct vmmem_vm_counters *c = vm_of_tgid(owner);
	__u64 start, end;
	int id;

	if (!c)
		return 0;
	start = BPF_CORE_READ(range, start);
	end = BPF_CORE_READ(range, end);
	id = inval_cause(t, owner, (int)BPF_CORE_READ(range, event));
	if (end > start && id >= 0 && id < VMMEM_NR_VM_COUNTERS)
		c->c[id] += end - start;
	return 0;
}

/* the vCPU thread's major fault count when it entered hva_to_pfn(), by thread */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} majflt_at_entry SEC(".maps");

int BPF_PROG(kvm_pfn_fentry)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid(), m;

	if (!vm_of_tgid(id >> 32))
		return 0;
	m = BPF_CORE_READ(t, maj_flt);
	bpf_map_update_elem(&majflt_at_entry, &id, &m, BPF_ANY);
	return 0;
}

int BPF_PROG(kvm_pfn_fexit)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid(), *m0, m;
	struct vmmem_vm_counters *c;

	m0 = bpf_map_lookup_elem(&majflt_at_entry, &id);
	if (!m0)
		return 0;
	m = BPF_CORE_READ(t, maj_flt);
	if (m > *m0) {
		c = vm_of_tgid(id >> 32);
		if (c)
			c->c[VMMEM_C_kvm_major_faults] += m - *m0;
	}
	bpf_map_delete_elem(&majflt_at_entry, &id);
	return 0;
}

static __always_inline void swapin(__u64 bytes)
{
	struct vmmem_vm_counters *c = current_vm();

	if (c)
		c->c[VMMEM_C_swapin_bytes] += bytes;
}

/* 6.1: int swap_readpage(struct page *page, bool synchronous, struct swap_iocb **plug) */
int BPF_PROG(swapin_page_fentry, struct page *page)
{
	swapin(4096);	/* swap entries are base pages before 6.10 (mm/page_io.c) */
	return 0;
}

/* void swap_read_folio(struct folio *folio, struct swap_iocb **plug) (mm/page_io.c, 6.10+) */
struct folio___sz {
	unsigned long flags;		/* memdesc_flags_t from 6.18: then this flavour does not match */
	unsigned long _flags_1;
} __attribute__((preserve_access_index));

int BPF_PROG(swapin_folio_fentry, struct folio___sz *folio)
{
	__u64 order = 0;

	/* a large folio (mTHP swap-in) is read whole; include/linux/mm.h folio_order(): the
	 * order is the low byte of _flags_1 when the folio's PG_head is set */
	if (bpf_core_field_exists(folio->flags) && bpf_core_field_exists(folio->_flags_1) &&
	    (BPF_CORE_READ(folio, flags) & (1UL << bpf_core_enum_value(enum pageflags, PG_head))))
		order = BPF_CORE_READ(folio, _flags_1) & 0xff;
	swapin(4096ull << (order & 31));
	return 0;
}
