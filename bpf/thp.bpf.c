// SPDX-License-Identifier: GPL-2.0
/* Transparent huge pages: khugepaged collapsing a VM's memory into huge pages. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"

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

int BPF_PROG(thp_collapse_btf, struct mm_struct *mm, int isolated, int status)
{
	handle_thp_collapse(mm, status);
	return 0;
}

int thp_collapse_tp(void *ctx)
{
	struct trace_event_raw_mm_collapse_huge_page *e = ctx;

	handle_thp_collapse(e->mm, e->status);
	return 0;
}
