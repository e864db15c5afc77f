/* SPDX-License-Identifier: MIT */
/* Bounded, multi-resolution history of each VM's rates: 1 s × 300 (5 min), 10 s × 360 (1 h),
 * 60 s × 1440 (24 h). Memory is allocated once per VM; VMs that exit are kept for a grace
 * period, then freed. Fed from snapshots; read by the TUI (sparklines, drill-down graphs). */
#ifndef VMMEM_HISTORY_H
#define VMMEM_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include "snapshot.h"

/* The metrics kept over time: rates per second of these VM counters (kmod/uapi/vmmem.h), by
 * their counter names (a name that is not a counter does not compile: VMMEM_C_name). Their
 * names and units are the counters'; only the choice is here: the view's sparkline columns and
 * exits, since 2100 points of every counter would be ~250 KiB per VM. */
#define HISTORY_METRICS(X)		\
	X(tdp_faults)			\
	X(exits)			\
	X(tlb_shootdown_ipis)		\
	X(ksm_merged_pages)		\
	X(balloon_inflate_bytes)	\
	X(balloon_deflate_bytes)	\
	X(tdp_map_2m)

#define HM_ENTRY(n) HM_##n,
enum history_metric { HISTORY_METRICS(HM_ENTRY) HISTORY_NR_METRICS };
#undef HM_ENTRY

extern const int history_metric_counter[HISTORY_NR_METRICS];	/* VMMEM_C_* */

static inline const char *history_metric_name(int m)
{
	return vm_counter_names[history_metric_counter[m]];
}

enum { HISTORY_RES_1S, HISTORY_RES_10S, HISTORY_RES_60S, HISTORY_NR_RES };
extern const int history_res_len[HISTORY_NR_RES];	/* 300, 360, 1440 */
extern const int history_res_seconds[HISTORY_NR_RES];	/* 1, 10, 60 */

#define HISTORY_GRACE_S	300	/* exited VMs keep their history this long */

struct history;

struct history *history_new(void);
void history_free(struct history *h);

/* Fold one snapshot in: each VM's rates over s->interval_s, at time now_s (monotonic). */
void history_push(struct history *h, const struct snapshot *s, double now_s);

/* Copy up to n most recent points (oldest first) of one VM's metric at one resolution
 * into out; returns how many. NaN marks a slot with no data. */
int history_get(const struct history *h, pid_t pid, uint64_t seq, int metric, int res, float *out, int n);

/* Number of VMs held (live and within their grace period). */
int history_nr_vms(const struct history *h);

/* Bytes allocated for the history of one VM. */
size_t history_bytes_per_vm(void);

#endif
