/* SPDX-License-Identifier: MIT */
/* Reading one VMM's resident anonymous memory for the KSM forecast: which areas KSM may
 * merge (/proc/PID/smaps), which pages are present (/proc/PID/pagemap), their contents
 * (process_vm_readv, present pages only) reduced at once to a hash key. */
#ifndef VMMEM_KSM_SCAN_H
#define VMMEM_KSM_SCAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct ksm_area {
	uint64_t start, end;
	bool mergeable;		/* VmFlags "mg": VM_MERGEABLE (MADV_MERGEABLE or PR_SET_MEMORY_MERGE) */
	bool eligible;		/* a private mapping KSM may scan at all (mm/ksm.c vma_ksm_compatible) */
	uint64_t anon_kb;	/* smaps "Anonymous:" */
};

/* Parse smaps text from f into at most max areas. Returns the number of areas parsed (more
 * than max means some were left out), or -EINVAL on a malformed header or VmFlags line. */
int smaps_areas_parse(FILE *f, struct ksm_area *areas, int max);

/* The scan's keys: 8 bytes per scanned non-zero page, grown as needed. */
struct ksm_keys {
	uint64_t *v;
	size_t n, cap;
};

/* Rate limit shared by all VMs of one forecast. */
struct ksm_rate {
	double bytes_per_s;	/* 0: unlimited */
	double start_s;
	uint64_t bytes;
};

struct ksm_scan_vm {
	uint64_t scanned_pages;		/* present anonymous pages read in areas that count */
	uint64_t zero_pages;		/* of which all zero (THP subpages included) */
	uint64_t thp_zero_pages;	/* of which zero subpages of THPs a split frees (>= 6.12) */
	uint64_t swapped_pages;		/* in swap: never read */
	uint64_t zero_mapped_pages;	/* mapped to the kernel's (huge) zero page: use no memory */
	uint64_t unmergeable_anon_kb;	/* anonymous memory in areas that do not count */
	int areas;			/* areas that count */
	double seconds, cpu_seconds;
};

/* True when splitting an anonymous THP maps its zero-filled subpages to the zero page (Linux
 * 6.12 and later: mm/huge_memory.c, remap_page with RMP_USE_SHARED_ZEROPAGE). */
bool ksm_thp_split_frees_zero(void);

/* Scan pid as VM number idx (< KF_MAX_VMS). all_anon: count every eligible private area,
 * not only the mergeable ones. Returns 0 or negative errno with err filled. */
int ksm_scan_vm(pid_t pid, int idx, bool all_anon, uint64_t seed, struct ksm_keys *keys,
		struct ksm_rate *rate, struct ksm_scan_vm *out, char *err, size_t errsz);

/* CLOCK_MONOTONIC in seconds. */
double ksm_now(void);

#endif
