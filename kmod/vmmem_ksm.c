// SPDX-License-Identifier: GPL-2.0
/*
 * KSM: per-VM merges and ksmd's full scans with their duration.
 *
 * 6.4 and later: the ksm:* tracepoints (include/trace/events/ksm.h), attached by
 * vmmem_probes.c, call vmmem_ksm_merged() and vmmem_ksm_scan_{start,stop}().
 * Before 6.4 (no KSM tracepoints), kprobes on the mm/ksm.c functions that are not inlined
 * (checked on Debian's 6.1 and 5.10 builds):
 *  - stable_tree_append(rmap_item, ...): where mm->ksm_merging_pages++ happens, for every
 *    page that joins a stable node; rmap_item->mm is the VM.
 *  - lru_add_drain_all(), called by ksmd at the top of each full scan
 *    (scan_get_next_rmap_item, "slot == &ksm_mm_head").
 *  - __msecs_to_jiffies(), called by ksmd once per batch as it goes to sleep
 *    (ksm_scan_thread); a batch that advanced ksm_scan.seqnr (what full_scans prints)
 *    ended a full scan.  ksm_scan's address comes from kallsyms (CONFIG_KALLSYMS_ALL).
 * The last two are called by other tasks too: the handlers return unless current is ksmd.
 */
#include <linux/kprobes.h>
#include <linux/mm_types.h>
#include <linux/ptrace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include "vmmem_internal.h"

static u64 scan_start_ns;		/* written by ksmd only */

void vmmem_ksm_merged(struct mm_struct *mm)
{
	struct vmmem_slot *s;
	pid_t tgid;

	if (!vmmem_table_busy())
		return;
	tgid = vmmem_mm_owner_tgid(mm);
	s = vmmem_slot_find(tgid);
	if (!s)
		return;
	vmmem_vm_add(s, VMMEM_C_ksm_merged_pages, 1);
	vmmem_event_emit(VMMEM_EV_ksm_merge, tgid, 0, 0, 0);
}

void vmmem_ksm_scan_start(void)
{
	WRITE_ONCE(scan_start_ns, ktime_get_ns());
}

void vmmem_ksm_scan_stop(u32 rmap_entries)
{
	u64 start = READ_ONCE(scan_start_ns), d;
	struct vmmem_hist *h;
	unsigned int i;

	vmmem_host_add(VMMEM_H_ksm_scans, 1);
	/* a scan paused by run=0 before we loaded has no start we saw: no duration */
	if (!start)
		return;
	d = ktime_get_ns() - start;
	WRITE_ONCE(scan_start_ns, 0);
	h = this_cpu_ptr(&vmmem_host->h.h[VMMEM_HHIST_ksm_scan_ns]);
	i = d ? ilog2(d) : 0;
	h->slot[min_t(unsigned int, i, VMMEM_HIST_SLOTS - 1)]++;
	h->sum_ns += d;
	vmmem_event_emit(VMMEM_EV_ksm_scan, 0, d, rmap_entries, 0);
}

/* ---- kprobes, before 6.4 ---- */

/* The leading fields of mm/ksm.c's struct ksm_rmap_item (struct rmap_item before 6.1),
 * unchanged from 4.13 to 6.12: the mm follows the list link and a pointer-sized union. */
struct rmap_item_head {
	void *rmap_list;
	void *anon_vma_or_nid;
	struct mm_struct *mm;
};

static unsigned long *ksm_seqnr;	/* &ksm_scan.seqnr */
static unsigned long last_seqnr;
static bool seqnr_known;

static bool current_is_ksmd(void)
{
	return (current->flags & PF_KTHREAD) && !strcmp(current->comm, "ksmd");
}

static int append_pre(struct kprobe *p, struct pt_regs *regs)
{
	const struct rmap_item_head *r = (const void *)regs_get_kernel_argument(regs, 0);

	vmmem_ksm_merged(r->mm);
	return 0;
}

static int drain_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (current_is_ksmd())
		vmmem_ksm_scan_start();
	return 0;
}

static int batch_end_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long seq;

	if (!current_is_ksmd())
		return 0;
	seq = READ_ONCE(*ksm_seqnr);
	if (seqnr_known && seq > last_seqnr)
		vmmem_ksm_scan_stop(0);	/* one batch ends at most one full scan */
	/* run=2 resets seqnr (unmerge_and_remove_all_rmap_items): follow it down too */
	last_seqnr = seq;
	seqnr_known = true;
	return 0;
}

static struct vmmem_hook append_hook =
	VMMEM_KPROBE("stable_tree_append", append_pre, BIT_ULL(VMMEM_C_ksm_merged_pages));
/* a full scan is told by both: its start, and the batch that ends it */
static struct vmmem_hook scan_hooks[] = {
	VMMEM_KPROBE("lru_add_drain_all", drain_pre),
	VMMEM_KPROBE("__msecs_to_jiffies", batch_end_pre, 0, BIT_ULL(VMMEM_H_ksm_scans), 0,
		     BIT_ULL(VMMEM_HHIST_ksm_scan_ns)),
};

/* kallsyms_lookup_name() is not exported (since 5.7); a kprobe on it gives its address. */
static unsigned long lookup_symbol(const char *name)
{
	typedef unsigned long (*lookup_fn)(const char *name);
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	lookup_fn fn;

	if (register_kprobe(&kp))
		return 0;
	fn = (lookup_fn)kp.addr;
	unregister_kprobe(&kp);
	return fn ? fn(name) : 0;
}

void vmmem_ksm_kprobes_init(bool merges, bool scans)
{
	unsigned long addr;
	size_t i;
	int ret;

	if (merges) {
		ret = vmmem_hook_register(&append_hook);
		if (ret)
			pr_info(VMMEM_PFX "no KSM tracepoints and no stable_tree_append (%d): ksm_merged_pages unavailable\n", ret);
	}
	if (!scans)
		return;
	addr = lookup_symbol("ksm_scan");
	if (!addr) {
		pr_info(VMMEM_PFX "no KSM tracepoints and no ksm_scan in kallsyms: ksm_scans unavailable\n");
		return;
	}
	/* struct ksm_scan { mm_slot *; unsigned long address; rmap_list **; unsigned long seqnr; } */
	ksm_seqnr = (unsigned long *)addr + 3;
	for (i = 0; i < ARRAY_SIZE(scan_hooks); i++) {
		ret = vmmem_hook_register(&scan_hooks[i]);
		if (ret) {
			pr_info(VMMEM_PFX "cannot hook %s (%d): ksm_scans unavailable\n",
				vmmem_hook_name(&scan_hooks[i]), ret);
			vmmem_hooks_unregister(scan_hooks, ARRAY_SIZE(scan_hooks));
			return;
		}
	}
}

void vmmem_ksm_kprobes_exit(void)
{
	vmmem_hook_unregister(&append_hook);
	vmmem_hooks_unregister(scan_hooks, ARRAY_SIZE(scan_hooks));
}

void vmmem_ksm_kprobes_available(u64 avail[4])
{
	vmmem_hooks_available(&append_hook, 1, avail);
	vmmem_hooks_available(scan_hooks, ARRAY_SIZE(scan_hooks), avail);
}

u64 vmmem_ksm_kprobes_missed(void)
{
	return vmmem_hooks_missed(&append_hook, 1) + vmmem_hooks_missed(scan_hooks, ARRAY_SIZE(scan_hooks));
}
