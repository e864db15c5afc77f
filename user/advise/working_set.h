/* SPDX-License-Identifier: MIT */
/* Each VM's working set from the host: the bytes of its address space accessed within a
 * window, from DAMON's virtual-address monitoring (damon_sysfs.c). KVM's MMU notifier answers
 * DAMON's young-bit checks for guest accesses through EPT/NPT (virt/kvm/kvm_main.c
 * kvm_mmu_notifier_clear_young, test_young), so the guest's own accesses count. */
#ifndef VMMEM_WORKING_SET_H
#define VMMEM_WORKING_SET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "damon_sysfs.h"

#define WS_SCHEMA		"vmmemtop.working-set/1"
#define WS_WINDOW_DEFAULT_S	30

/* The attributes for a window of window_s seconds. Sampling every 200 ms within 1 s
 * aggregations keeps a region's nr_accesses at most 5, so DAMON's merge threshold (a tenth
 * of the largest nr_accesses, mm/damon/core.c kdamond_merge_regions) is 0: any change of a
 * region's access count resets its age, and an idle region's age is the time since it was
 * last seen accessed. At least 100 regions: no region larger than 1 % of the space. */
void ws_attrs(double window_s, struct damon_attrs *a);

struct ws_vm {
	pid_t pid;
	bool available;			/* working_set_bytes means something */
	uint64_t working_set_bytes;	/* hot + warm */
	uint64_t hot_bytes, warm_bytes;
	uint64_t cold_bytes;		/* idle longer than the window (small unmapped gaps inside
					 * the monitored ranges included: DAMON's vaddr regions span them) */
	char why[320];			/* when unavailable */
	pid_t kdamond_pid;
	double kdamond_cpu_s;		/* the kdamond's CPU time since it started */
};

/* What a VM's reading means: elapsed_s after its kdamond started, within window_s. Ages count
 * aggregations, which run late on a busy host, and an idle region's age only says "idle since
 * monitoring began" until a window of aggregations has passed; and DAMON's first regions are
 * large, spanning touched and untouched memory, so their access counts keep changing (and their
 * ages resetting) until splits separate the two. The figure is unavailable (warming up) until
 * WS_WARMUP_WINDOWS windows have passed and some region has aged past the window (the first
 * cold bytes: the monitored ranges' unmapped gaps, never accessed, are the first), rather than
 * too large; a space with no cold region at all is taken as warm after 3 windows. Measured in
 * the 6.12 rig (TCG, window 15 s) with only the one-window rule: a process's first figure, at
 * 1.25 windows, read 6.2 x its touched set, and a KVM guest's first ones +30 % and +18 %, its
 * later ones +2.4 % and +1.6 %.
 * err from damon_session_read. */
#define WS_WARMUP_WINDOWS	2
void ws_vm_fill(struct ws_vm *v, int err, const uint64_t bytes[DAMON_NR_SCHEMES], double elapsed_s,
		double window_s);

#endif
