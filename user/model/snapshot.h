/* SPDX-License-Identifier: MIT */
/* The aggregation core's product: one complete sample of the host and every VM over an
 * interval. Every view (table, JSON, advisor, exporter, TUI) reads only this. */
#ifndef VMMEM_SNAPSHOT_H
#define VMMEM_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include "vmmem.h"
#include "host_state.h"
#include "vmm_info.h"

#define SNAPSHOT_SCHEMA "vmmemtop.snapshot/1"

/* Per-counter availability: a counter whose kernel hook is missing is "unavailable"
 * (TUI "-", JSON null, absent from /metrics), never 0. */
struct counter_mask {
	bool vm[VMMEM_NR_VM_COUNTERS];
	bool host[VMMEM_NR_HOST_COUNTERS];
	bool vm_hist[VMMEM_NR_VM_HISTS];
	bool host_hist[VMMEM_NR_HOST_HISTS];
};

struct vm_snapshot {
	struct vmm_info info;		/* pid, name, comm, vcpus, memory, ksm_stat */
	uint64_t seq;			/* kernel slot sequence: new for every new VMM */
	bool exited;			/* exited during the interval; counters are final */
	struct vmmem_vm_counters delta;	/* counted over the interval */
	struct vmmem_vm_counters total;	/* counted since vmmemtop first saw this VM */
	struct vmmem_vm_hists hist_delta;	/* latency histograms over the interval */
	struct vmmem_vm_hists hist_total;	/* since first seen (Prometheus histograms) */
	struct vmmem_ev_lost ev_lost;	/* event records lost since first seen (recorder) */
	uint64_t unavailable;		/* bit k: VM counter k is unavailable for this VM only
					 * (e.g. balloon bytes while its guest RAM is unknown) */
};

/* A recommendation in force (from the advisor, with its hysteresis) as views export it. */
struct advice_gauge {
	char id[24];
	char target[VMM_NAME_MAX + 8];
	int severity;			/* 0 info, 1 warn, 2 crit */
};

#define SNAPSHOT_MAX_ADVICE 32

/* Where a sample's data comes from, each reported by the exporter as
 * vmmem_scrape_source_{success,duration_seconds}{source}. Adding a source is one X() here
 * and filling its entry where core_next() reads it. */
#define SNAPSHOT_SOURCES(X) X(bpf) X(kmod) X(proc) X(sysfs) X(qmp)
#define SNAP_SRC_ENTRY(name) SNAP_SRC_##name,
enum snap_source { SNAPSHOT_SOURCES(SNAP_SRC_ENTRY) SNAP_NR_SOURCES };
#undef SNAP_SRC_ENTRY
extern const char *const snap_source_names[SNAP_NR_SOURCES];

struct source_status {
	bool used;			/* read for this sample (a backend not loaded is not) */
	bool ok;			/* everything asked of it answered */
	double seconds;			/* time spent reading it */
};

struct snapshot {
	double interval_s;
	uint64_t ts_ns;			/* CLOCK_MONOTONIC at the end of the interval */
	uint64_t start_ts_ns;		/* and at its start (the previous sample's ts_ns) */
	int64_t wall_time;		/* time(NULL) at the end */
	const char *backend;		/* "bpf" or "kmod" */
	struct host_state host;
	struct vmmem_host_counters host_delta, host_total;
	struct vmmem_host_hists host_hist_delta, host_hist_total;
	struct counter_mask available;
	uint64_t dropped_events;	/* over the interval */
	double ksmd_cpu;		/* share of one CPU ksmd used over the interval; NAN if unknown */
	int nr_vms;
	struct vm_snapshot *vms;	/* nr_vms entries, owned by the snapshot */
	struct source_status sources[SNAP_NR_SOURCES];
	int nr_advice;			/* filled by long-running views that run the advisor */
	struct advice_gauge advice[SNAPSHOT_MAX_ADVICE];
};

void snapshot_free(struct snapshot *s);

/* The view filters (-p PID, -N TEXT, the view's /): pid 0 and an empty or NULL text match
 * any VM; text matches anywhere in the VM's name, libvirt domain or UUID. */
bool snapshot_vm_matches(const struct vm_snapshot *v, pid_t pid, const char *text);

/* Counter k of VM v means something: its hook is attached and it applies to this VM. */
static inline bool vm_counter_available(const struct snapshot *s, const struct vm_snapshot *v, int k)
{
	return s->available.vm[k] && !(v && (v->unavailable >> k & 1));
}

/* Counter names, units and help, generated from the ABI tables. */
extern const char *const vm_counter_names[VMMEM_NR_VM_COUNTERS];
/* VMMEM_FLUSH_* cause names: flush_cause_names[i] is counter VMMEM_C_flushes_recv_ksmd + i */
extern const char *const flush_cause_names[VMMEM_NR_FLUSH_CAUSES];
extern const char *const vm_counter_units[VMMEM_NR_VM_COUNTERS];
extern const char *const vm_counter_help[VMMEM_NR_VM_COUNTERS];
extern const char *const host_counter_names[VMMEM_NR_HOST_COUNTERS];
extern const char *const host_counter_units[VMMEM_NR_HOST_COUNTERS];
extern const char *const host_counter_help[VMMEM_NR_HOST_COUNTERS];

extern const char *const vm_hist_names[VMMEM_NR_VM_HISTS];
extern const char *const vm_hist_help[VMMEM_NR_VM_HISTS];
extern const char *const host_hist_names[VMMEM_NR_HOST_HISTS];
extern const char *const host_hist_help[VMMEM_NR_HOST_HISTS];

/* Events in a histogram, and an estimate of quantile q (0..1) in ns from its log2 slots
 * (upper bound of the slot holding it); 0 when empty. */
uint64_t hist_count(const struct vmmem_hist *h);
uint64_t hist_quantile_ns(const struct vmmem_hist *h, double q);

/* Index of a counter by name, or -1. */
/* NAME's index among the N names of a table, or -1 */
int name_index(const char *const *names, int n, const char *name);
int vm_counter_index(const char *name);
int host_counter_index(const char *name);

#endif
