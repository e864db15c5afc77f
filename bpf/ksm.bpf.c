// SPDX-License-Identifier: GPL-2.0
/* KSM: ksmd's full scans (count and duration, host-wide) and the pages it merges, per VM. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"
#include "latency.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vmmem_host_hists);
} host_hists SEC(".maps");

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

VMMEM_BTF_OR_TP(ksm_start, handle_ksm_start)

/* TP_PROTO(int seq, u32 rmap_entries), include/trace/events/ksm.h (6.4+) */
int BPF_PROG(ksm_stop_btf, int seq, __u32 rmap_entries)
{
	handle_ksm_stop(rmap_entries);
	return 0;
}

int ksm_stop_tp(void *ctx)
{
	struct trace_event_raw_ksm_scan_template *e = ctx;

	handle_ksm_stop(e->rmap_entries);
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
VMMEM_TWIN_ARGS(ksm_merge_ksm, _btf, void *ksm_page, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, rec);
	return 0;
}

/* the use_zero_pages path merges with the zero page without the one above */
VMMEM_TWIN_ARGS(ksm_merge_one, _btf, unsigned long pfn, void *rmap_item, void *mm, int err)
{
	ksm_merged(mm, err, rec);
	return 0;
}

VMMEM_TWIN_TP(ksm_merge_ksm, _tp, struct trace_event_raw_ksm_merge_with_ksm_page)
{
	ksm_merged(ctx->mm, ctx->err, rec);
	return 0;
}

VMMEM_TWIN_TP(ksm_merge_one, _tp, struct trace_event_raw_ksm_merge_one_page)
{
	ksm_merged(ctx->mm, ctx->err, rec);
	return 0;
}

/* ---------------- before 6.4: function hooks ---------------- */

/*
 * KSM on kernels without KSM tracepoints (before 6.4: 5.10, 5.14, 5.15, 6.1), as function
 * hooks. user/source/source_bpf.c loads these only where the
 * ksm:* tracepoints are absent and the functions are in BTF (not inlined).
 *
 * Merges: stable_tree_append() is where mm/ksm.c does mm->ksm_merging_pages++ (every
 * page that joins a stable node, the KSM page's own first mapping included), so fentry on
 * it counts exactly what /proc/PID/ksm_merging_pages adds up. On 6.1 the merge helpers
 * try_to_merge_with_ksm_page() and scan_get_next_rmap_item() are inlined; this one is not.
 *
 * Scans: ksmd's loop (ksm_scan_thread -> ksm_do_scan -> scan_get_next_rmap_item) is one
 * inlined function on 6.1. Two calls it makes are not inlined and mark the scan:
 * lru_add_drain_all() at the top of every full scan (scan_get_next_rmap_item, "slot ==
 * &ksm_mm_head"), and __msecs_to_jiffies() once per batch, when ksmd goes to sleep
 * (ksm_scan_thread: wait_event_interruptible_timeout(..., msecs_to_jiffies(sleep_ms))).
 * At the end of each batch the scan count is read from ksm_scan.seqnr, the variable
 * /sys/kernel/mm/ksm/full_scans prints, at its kallsyms address (user space sets it):
 * a batch that advanced it ended a full scan. Both functions are called by others too;
 * the handlers return at once unless current is ksmd.
 */
/* before 6.1 (e.g. 5.10) mm/ksm.c called it struct rmap_item */
struct rmap_item___old {
	struct mm_struct *mm;
} __attribute__((preserve_access_index));

struct ksm_scan___any {
	unsigned long seqnr;
} __attribute__((preserve_access_index));

/* &ksm_scan from /proc/kallsyms (static in mm/ksm.c); 0: scans are not counted this way */
const volatile __u64 ksm_scan_addr = 0;

static __u64 ksmfn_seqnr;
static bool ksmfn_seqnr_known;

static __always_inline bool current_is_ksmd(void)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	char comm[8];

	if (!(BPF_CORE_READ(t, flags) & PF_KTHREAD_FLAG))
		return false;
	bpf_get_current_comm(comm, sizeof(comm));
	return comm[0] == 'k' && comm[1] == 's' && comm[2] == 'm' && comm[3] == 'd' && comm[4] == 0;
}

VMMEM_TWIN_ARGS(ksm_append, _fentry, void *rmap_item)
{
	struct mm_struct *mm;

	if (bpf_core_type_exists(struct ksm_rmap_item))
		mm = BPF_CORE_READ((struct ksm_rmap_item *)rmap_item, mm);
	else
		mm = BPF_CORE_READ((struct rmap_item___old *)rmap_item, mm);
	ksm_merged(mm, 0, rec);
	return 0;
}

static __always_inline int ksm_read_seqnr(__u64 *out)
{
	unsigned long v;

	if (!ksm_scan_addr)
		return -1;
	if (bpf_probe_read_kernel(&v, sizeof(v),
				  (void *)(ksm_scan_addr + bpf_core_field_offset(struct ksm_scan___any, seqnr))))
		return -1;
	*out = v;
	return 0;
}

/* lru_add_drain_all(): ksmd starts a full scan */
int BPF_PROG(ksm_scan_start_fentry)
{
	if (current_is_ksmd())
		handle_ksm_start();
	return 0;
}

/* __msecs_to_jiffies(): ksmd ends a batch; did it end a full scan? */
int BPF_PROG(ksm_batch_end_fentry)
{
	__u64 seq;

	if (!current_is_ksmd() || ksm_read_seqnr(&seq))
		return 0;
	if (!ksmfn_seqnr_known) {
		/* the first batch seen: the base to count from */
		ksmfn_seqnr = seq;
		ksmfn_seqnr_known = true;
		return 0;
	}
	if (seq == ksmfn_seqnr)
		return 0;
	if (seq < ksmfn_seqnr) {
		/* run=2 (unmerge) resets ksm_scan.seqnr (unmerge_and_remove_all_rmap_items) */
		ksmfn_seqnr = seq;
		return 0;
	}
	/* one batch ends at most one full scan (scan_get_next_rmap_item returns NULL) */
	ksmfn_seqnr = seq;
	handle_ksm_stop(0);
	return 0;
}
