/* SPDX-License-Identifier: MIT */
/* Host-wide memory state read from /proc/meminfo and /sys/kernel/mm (no tracing needed). */
#ifndef VMMEM_HOST_STATE_H
#define VMMEM_HOST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A value read from outside; present=false means the file or field was absent. */
struct opt_u64 {
	uint64_t v;
	bool present;
};

struct host_meminfo {
	struct opt_u64 mem_total_kb, mem_free_kb, mem_available_kb, buffers_kb, cached_kb;
	struct opt_u64 swap_total_kb, swap_free_kb, anon_huge_kb;
};

struct host_ksm {
	bool present;			/* /sys/kernel/mm/ksm exists */
	struct opt_u64 run, pages_to_scan, sleep_millisecs, pages_shared, pages_sharing;
	struct opt_u64 pages_unshared, pages_volatile, full_scans, general_profit;
	struct opt_u64 ksm_zero_pages, merge_across_nodes, use_zero_pages;
	char advisor_mode[32];		/* "" when the kernel has no KSM advisor */
	struct opt_u64 ksmd_cpu_ticks;	/* utime+stime of the ksmd kthread (clock ticks) */
};

struct host_thp {
	bool present;
	char enabled[16];		/* the bracketed choice: always, madvise, never */
	char defrag[16];		/* always, defer, defer+madvise, madvise, never */
	struct opt_u64 khugepaged_scan_sleep_ms, khugepaged_pages_collapsed;
};

/* The last `vmmemtop ksm-forecast` result (its saved file): what KSM would save. */
struct host_ksm_forecast {
	bool present;
	int64_t time;			/* wall clock when it was made */
	uint64_t scanned_bytes, saved_bytes, saved_bytes_uzp;	/* saved: use_zero_pages=0 / =1 */
	uint64_t vms;
	double seconds, cpu_seconds, rate_mib;
};

struct host_state {
	struct host_meminfo mem;
	struct host_ksm ksm;
	struct host_ksm_forecast ksm_forecast;
	struct host_thp thp;
	char cpu_vendor[16];		/* "intel", "amd" or "" */
};

/* Parse /proc/meminfo text. Returns 0, or -EINVAL if no field could be read. */
int meminfo_parse(const char *text, struct host_meminfo *out);

/* Pick the bracketed word of a sysfs choice file ("always [madvise] never").
 * Returns 0, or -EINVAL when there is no well-formed [word] that fits in outsz. */
int sysfs_choice_parse(const char *text, char *out, size_t outsz);

/* Parse a sysfs number: a decimal integer (optionally negative: KSM's general_profit is
 * signed, kept as two's complement) that makes up the whole text up to whitespace.
 * Returns 0 and sets *out, or -EINVAL. */
int sysfs_num_parse(const char *text, struct opt_u64 *out);

/* The CPU vendor ("intel", "amd" or "") from /proc/cpuinfo text. */
void cpuinfo_vendor_parse(const char *text, char *out, size_t outsz);

/* utime+stime (clock ticks) from /proc/PID/stat text if it is the ksmd kthread's.
 * Returns 0 and sets *out, -ENOENT if it is another process, or -EINVAL. */
int ksmd_stat_parse(const char *text, struct opt_u64 *out);

/* Read everything below root ("" or "/" for the live system; tests pass a fake tree). */
int host_state_read(const char *root, struct host_state *out);

/* Name of a TDP fault for this vendor: "EPT violations" (intel), "NPT violations" (amd),
 * "TDP faults" otherwise. */
const char *tdp_fault_name(const char *cpu_vendor);

#endif
