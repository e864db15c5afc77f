/* SPDX-License-Identifier: MIT */
/* Host and per-VM facts read from /proc, sysfs and QMP, declared once (as the counters are in
 * kmod/uapi/vmmem.h): the JSON writer and loader, the recording, the Prometheus renderer and the
 * view's detail walk these tables, so a fact has one JSON key and one Prometheus family. */
#ifndef VMMEM_FACT_TABLE_H
#define VMMEM_FACT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "host_state.h"
#include "vmm_info.h"

enum fact_type { FACT_U64, FACT_STR, FACT_FLAG };	/* struct opt_u64, char[], bool */

/* Unit of the stored value. Prometheus gets base units: KB x 1024 (bytes), MS / 1000
 * (seconds); UNIX_S is a wall-clock time in seconds. */
enum fact_unit { FU_COUNT, FU_PAGES, FU_KB, FU_BYTES, FU_MS, FU_UNIX_S };

enum fact_kind { FK_GAUGE, FK_COUNTER };		/* a counter's family gets _total */

/* Where a fact's JSON key lives: the host's or the VM's object, or one of its sub-objects. */
enum fact_group {
	FG_TOP,			/* .host / .vms[] */
	FG_KSM,			/* .host.ksm: /sys/kernel/mm/ksm */
	FG_THP,			/* .host.thp: /sys/kernel/mm/transparent_hugepage */
	FG_KSM_STAT,		/* .vms[].ksm_stat: null without /proc/PID/ksm_stat */
	FG_CGROUP,		/* .vms[].cgroup: null when the VMM shares its cgroup */
	FG_QMP,			/* .vms[].qmp: null without a known QMP socket */
	FG_NR
};

#define FF_SIGNED	1u	/* two's complement in .v (KSM profits are signed longs, mm/ksm.c) */
#define FF_REC		2u	/* in a recording's fixed layout (format version 1), in table order:
				 * never add, drop or reorder these (old recordings must replay) */
#define FF_REQUIRED	4u	/* `advise --from` refuses a snapshot without it */
#define FF_SHOW		8u	/* on the view's detail fact lines, labelled by its JSON key */
#define FF_RECN		16u	/* recorded by name (REC_NAMES_VM_FACTS, after a sample's VMs): a
				 * fact added after format version 1's fixed layout */

#define FACT_MAX_KB	(1ull << 50)	/* an exbibyte: beyond it a memory figure is garbage */
#define FACT_MAX_COUNT	(1ull << 62)

struct fact {
	const char *name;		/* the C name (what tests and messages call it) */
	enum fact_type type;
	size_t off, size;		/* in struct host_state / struct vmm_info */
	enum fact_unit unit;
	enum fact_kind kind;
	unsigned flags;			/* FF_* */
	enum fact_group group;
	const char *json;		/* key in its group; NULL: not in JSON */
	const char *prom;		/* family without _total; NULL: not exported */
	uint64_t max;			/* the largest value the JSON loader accepts */
	const char *const *modes;	/* a string exported as a state set: the values it knows */
	const char *help;
};

/*
 * U(name, field, unit, kind, flags, group, json, prom, max, help): a struct opt_u64
 * S(name, field, flags, group, json, prom, modes, help): a char array
 * F(name, field, flags): a bool (a presence flag, recorded, not exported)
 * Q(name, key, unit, kind, help): a QMP value (user/vmm_qmp.h): JSON .qmp.NAME, Prometheus
 *   vmmem_NAME; not FF_REC: recordings key them by name (REC_NAMES_QMP)
 * The order is the recording's for the FF_REC entries (record_writer.c).
 */
#define HOST_FACTS(U, S, F)									\
	U(mem_total_kb, mem.mem_total_kb, FU_KB, FK_GAUGE, FF_REC | FF_REQUIRED, FG_TOP,	\
	  "mem_total_kb", "vmmem_host_mem_total_bytes", FACT_MAX_KB, "MemTotal (/proc/meminfo)")	\
	U(mem_free_kb, mem.mem_free_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,			\
	  "mem_free_kb", "vmmem_host_mem_free_bytes", FACT_MAX_KB, "MemFree (/proc/meminfo)")	\
	U(mem_available_kb, mem.mem_available_kb, FU_KB, FK_GAUGE, FF_REC | FF_REQUIRED, FG_TOP,\
	  "mem_available_kb", "vmmem_host_mem_available_bytes", FACT_MAX_KB,			\
	  "MemAvailable (/proc/meminfo)")							\
	U(buffers_kb, mem.buffers_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,				\
	  "buffers_kb", "vmmem_host_buffers_bytes", FACT_MAX_KB, "Buffers (/proc/meminfo)")	\
	U(cached_kb, mem.cached_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,				\
	  "cached_kb", "vmmem_host_cached_bytes", FACT_MAX_KB, "Cached (/proc/meminfo)")	\
	U(swap_total_kb, mem.swap_total_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,			\
	  "swap_total_kb", "vmmem_host_swap_total_bytes", FACT_MAX_KB, "SwapTotal (/proc/meminfo)") \
	U(swap_free_kb, mem.swap_free_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,			\
	  "swap_free_kb", "vmmem_host_swap_free_bytes", FACT_MAX_KB, "SwapFree (/proc/meminfo)") \
	U(anon_huge_kb, mem.anon_huge_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,			\
	  "anon_huge_kb", "vmmem_host_anon_huge_bytes", FACT_MAX_KB,				\
	  "AnonHugePages (/proc/meminfo)")							\
	F(ksm_present, ksm.present, FF_REC)							\
	U(ksm_run, ksm.run, FU_COUNT, FK_GAUGE, FF_REC, FG_KSM, "run", "vmmem_ksm_run", 2,	\
	  "KSM run state: 0 stopped, 1 running, 2 unmerging (/sys/kernel/mm/ksm/run)")		\
	U(ksm_pages_to_scan, ksm.pages_to_scan, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "pages_to_scan", "vmmem_ksm_pages_to_scan", FACT_MAX_COUNT, "pages ksmd scans per batch") \
	U(ksm_sleep_millisecs, ksm.sleep_millisecs, FU_MS, FK_GAUGE, FF_REC, FG_KSM,		\
	  "sleep_millisecs", "vmmem_ksm_sleep_seconds", FACT_MAX_COUNT,				\
	  "ksmd sleep between batches")								\
	U(ksm_pages_shared, ksm.pages_shared, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "pages_shared", "vmmem_ksm_pages_shared", FACT_MAX_COUNT,				\
	  "KSM pages in use (shared copies)")							\
	U(ksm_pages_sharing, ksm.pages_sharing, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "pages_sharing", "vmmem_ksm_pages_sharing", FACT_MAX_COUNT,				\
	  "pages deduplicated into KSM pages (memory saved)")					\
	U(ksm_pages_unshared, ksm.pages_unshared, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "pages_unshared", "vmmem_ksm_pages_unshared", FACT_MAX_COUNT,				\
	  "unique pages KSM keeps checking")							\
	U(ksm_pages_volatile, ksm.pages_volatile, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "pages_volatile", "vmmem_ksm_pages_volatile", FACT_MAX_COUNT,				\
	  "pages changing too fast for KSM")							\
	U(ksm_full_scans, ksm.full_scans, FU_COUNT, FK_COUNTER, FF_REC, FG_KSM,			\
	  "full_scans", "vmmem_ksm_full_scans", FACT_MAX_COUNT,					\
	  "full KSM scans since boot, as the kernel counts them (/sys/kernel/mm/ksm/full_scans; " \
	  "vmmem_ksm_scans_total counts them from ksmd's scan hooks since vmmemtop started)")	\
	U(ksm_general_profit, ksm.general_profit, FU_BYTES, FK_GAUGE, FF_REC | FF_SIGNED, FG_KSM,\
	  "general_profit", "vmmem_ksm_general_profit_bytes", FACT_MAX_COUNT,			\
	  "KSM memory saved minus its rmap_item cost (negative: KSM costs memory)")		\
	U(ksm_zero_pages, ksm.ksm_zero_pages, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM,		\
	  "ksm_zero_pages", "vmmem_ksm_zero_pages", FACT_MAX_COUNT,				\
	  "empty pages KSM merged with the zero page")						\
	U(ksm_merge_across_nodes, ksm.merge_across_nodes, FU_COUNT, FK_GAUGE, FF_REC, FG_KSM,	\
	  "merge_across_nodes", "vmmem_ksm_merge_across_nodes", 1,				\
	  "KSM merges pages of different NUMA nodes (1) or not (0)")				\
	U(ksm_use_zero_pages, ksm.use_zero_pages, FU_COUNT, FK_GAUGE, FF_REC, FG_KSM,		\
	  "use_zero_pages", "vmmem_ksm_use_zero_pages", 1,					\
	  "KSM merges empty pages with the zero page (1) or not (0)")				\
	S(ksm_advisor_mode, ksm.advisor_mode, FF_REC, FG_KSM, "advisor_mode", "vmmem_ksm_advisor",\
	  fact_no_modes, "KSM advisor mode (/sys/kernel/mm/ksm/advisor_mode)")			\
	U(ksmd_cpu_ticks, ksm.ksmd_cpu_ticks, FU_COUNT, FK_COUNTER, FF_REC, FG_KSM, NULL, NULL,	\
	  FACT_MAX_COUNT, "utime+stime of ksmd (clock ticks; JSON ksmd_cpu is its share of a CPU)") \
	F(thp_present, thp.present, FF_REC)							\
	S(thp_enabled, thp.enabled, FF_REC, FG_THP, "enabled", "vmmem_thp_enabled",		\
	  fact_thp_enabled_modes,								\
	  "transparent huge pages mode (/sys/kernel/mm/transparent_hugepage/enabled)")		\
	S(thp_defrag, thp.defrag, FF_REC, FG_THP, "defrag", "vmmem_thp_defrag",			\
	  fact_thp_defrag_modes, "THP defrag mode (/sys/kernel/mm/transparent_hugepage/defrag)") \
	U(thp_khugepaged_scan_sleep_ms, thp.khugepaged_scan_sleep_ms, FU_MS, FK_GAUGE, FF_REC,	\
	  FG_THP, "khugepaged_scan_sleep_millisecs", "vmmem_thp_khugepaged_scan_sleep_seconds",	\
	  FACT_MAX_COUNT, "khugepaged sleep between scans")					\
	U(thp_khugepaged_pages_collapsed, thp.khugepaged_pages_collapsed, FU_COUNT, FK_COUNTER,	\
	  FF_REC, FG_THP, "khugepaged_pages_collapsed", "vmmem_thp_khugepaged_pages_collapsed",	\
	  FACT_MAX_COUNT, "huge pages khugepaged collapsed on the host")			\
	S(cpu_vendor, cpu_vendor, FF_REC, FG_TOP, "cpu_vendor", NULL, NULL,			\
	  "CPU vendor (/proc/cpuinfo): names TDP faults EPT (intel) or NPT (amd) violations")

#define VM_FACTS(U, S, F, Q)								\
	U(vcpus, vcpus, FU_COUNT, FK_GAUGE, FF_REC, FG_TOP, "vcpus", "vmmem_vm_vcpus", 1 << 20,	\
	  "virtual CPUs of the VM (command line or kvm-vcpu fds)")				\
	U(mem_configured_kb, mem_configured_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP,		\
	  "mem_configured_kb", "vmmem_vm_mem_configured_bytes", FACT_MAX_KB,			\
	  "guest RAM the VMM was started with (-m)")						\
	U(rss_kb, rss_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP, "rss_kb", "vmmem_vm_rss_bytes",	\
	  FACT_MAX_KB, "resident memory of the VMM process (/proc/PID/status VmRSS)")		\
	U(swap_kb, swap_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP, "swap_kb", "vmmem_vm_swap_bytes",	\
	  FACT_MAX_KB, "swapped-out memory of the VMM process (/proc/PID/status VmSwap)")	\
	U(anon_huge_kb, anon_huge_kb, FU_KB, FK_GAUGE, FF_REC, FG_TOP, "anon_huge_kb",		\
	  "vmmem_vm_anon_huge_bytes", FACT_MAX_KB,						\
	  "memory of the VMM process backed by THP (smaps_rollup AnonHugePages, read about once a minute per VM)") \
	U(anon_huge_time, anon_huge_time, FU_UNIX_S, FK_GAUGE, 0, FG_TOP, NULL,			\
	  "vmmem_vm_anon_huge_timestamp_seconds", FACT_MAX_COUNT,				\
	  "when vmmem_vm_anon_huge_bytes was read (unix time): smaps_rollup walks page tables, so it is read rarely") \
	F(ksm_stat_present, ksm.present, FF_REC)						\
	U(ksm_rmap_items, ksm.ksm_rmap_items, FU_COUNT, FK_GAUGE, FF_REC, FG_KSM_STAT,		\
	  "ksm_rmap_items", "vmmem_vm_ksm_rmap_items", FACT_MAX_COUNT,				\
	  "KSM rmap_items of the VMM process (/proc/PID/ksm_stat)")				\
	U(ksm_zero_pages, ksm.ksm_zero_pages, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM_STAT,		\
	  "ksm_zero_pages", "vmmem_vm_ksm_zero_pages", FACT_MAX_COUNT,				\
	  "pages of the VM KSM merged with the zero page")					\
	U(ksm_merging_pages, ksm.ksm_merging_pages, FU_PAGES, FK_GAUGE, FF_REC, FG_KSM_STAT,	\
	  "ksm_merging_pages", "vmmem_vm_ksm_merging_pages", FACT_MAX_COUNT,			\
	  "pages of the VM currently merged by KSM")						\
	U(ksm_process_profit, ksm.ksm_process_profit, FU_BYTES, FK_GAUGE, FF_REC | FF_SIGNED,	\
	  FG_KSM_STAT, "ksm_process_profit", "vmmem_vm_ksm_process_profit_bytes", FACT_MAX_COUNT,\
	  "KSM memory saved in the VM minus its rmap_item cost (negative: KSM costs memory)")	\
	U(majflt, majflt, FU_COUNT, FK_COUNTER, FF_SHOW, FG_TOP, "majflt", "vmmem_vm_major_faults",\
	  FACT_MAX_COUNT,									\
	  "major faults of the VMM's threads, KVM's faults on evicted guest memory included (/proc/PID/stat majflt)") \
	F(cgroup_own, cgroup.own, 0)								\
	S(cgroup_path, cgroup.path, FF_SHOW, FG_CGROUP, "path", NULL, NULL,			\
	  "the VMM's own cgroup v2, relative to the cgroup2 mount")				\
	U(cgroup_pswpin, cgroup.pswpin, FU_PAGES, FK_COUNTER, FF_SHOW, FG_CGROUP, "pswpin",	\
	  "vmmem_vm_cgroup_swapin_pages", FACT_MAX_COUNT,					\
	  "pages of the VM's cgroup swapped in (memory.stat pswpin)")				\
	U(cgroup_pswpout, cgroup.pswpout, FU_PAGES, FK_COUNTER, FF_SHOW, FG_CGROUP, "pswpout",	\
	  "vmmem_vm_cgroup_swapout_pages", FACT_MAX_COUNT,					\
	  "pages of the VM's cgroup swapped out (memory.stat pswpout)")				\
	U(cgroup_pgmajfault, cgroup.pgmajfault, FU_COUNT, FK_COUNTER, FF_SHOW, FG_CGROUP,	\
	  "pgmajfault", "vmmem_vm_cgroup_major_faults", FACT_MAX_COUNT,				\
	  "major faults charged to the VM's cgroup (memory.stat pgmajfault)")			\
	U(cgroup_workingset_refault_anon, cgroup.workingset_refault_anon, FU_PAGES, FK_COUNTER,	\
	  FF_SHOW, FG_CGROUP, "workingset_refault_anon", "vmmem_vm_cgroup_workingset_refault_anon",\
	  FACT_MAX_COUNT,									\
	  "evicted anonymous pages of the VM's cgroup faulted back soon after (memory.stat)")	\
	U(cgroup_swap_current, cgroup.swap_current, FU_BYTES, FK_GAUGE, 0, FG_CGROUP,		\
	  "swap_current_bytes", "vmmem_vm_cgroup_swap_bytes", FACT_MAX_COUNT,			\
	  "swap used by the VM's cgroup (memory.swap.current)")					\
	U(working_set_bytes, working_set_bytes, FU_BYTES, FK_GAUGE, FF_RECN, FG_TOP,		\
	  "working_set_bytes", "vmmem_vm_working_set_bytes", FACT_MAX_COUNT,			\
	  "bytes of the VMM's memory accessed within the working-set window, guest accesses "	\
	  "through EPT/NPT included (DAMON vaddr; only with vmmemtop --working-set)")		\
	S(working_set_reason, working_set_why, 0, FG_TOP, "working_set_reason", NULL, NULL,	\
	  "why working_set_bytes is null (off, DAMON busy or absent, warming up)")		\
	VMM_QMP_FIELDS(Q)

#define HF_ID(name, ...) HF_##name,
#define VF_ID(name, ...) VF_##name,
#define VF_QMP_ID(name, ...) VF_qmp_##name,
enum host_fact { HOST_FACTS(HF_ID, HF_ID, HF_ID) HOST_NR_FACTS };	/* HF_mem_total_kb ... */
enum vm_fact { VM_FACTS(VF_ID, VF_ID, VF_ID, VF_QMP_ID) VM_NR_FACTS };	/* VF_rss_kb ... */
#undef HF_ID
#undef VF_ID
#undef VF_QMP_ID

extern const struct fact host_facts[HOST_NR_FACTS];
extern const struct fact vm_facts[VM_NR_FACTS];
extern const char *const fact_group_json[FG_NR];	/* "", "ksm", "thp", "ksm_stat", ... */
extern const char *const fact_no_modes[];
extern const char *const fact_thp_enabled_modes[];
extern const char *const fact_thp_defrag_modes[];

/* The value of fact f in base (a struct host_state or struct vmm_info). */
static inline struct opt_u64 *fact_u64(const struct fact *f, const void *base)
{
	return (struct opt_u64 *)((char *)base + f->off);
}

static inline char *fact_str(const struct fact *f, const void *base)
{
	return (char *)base + f->off;
}

static inline bool *fact_flag(const struct fact *f, const void *base)
{
	return (bool *)((char *)base + f->off);
}

#endif
