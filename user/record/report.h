/* SPDX-License-Identifier: MIT */
/* What a recording says, aggregated (vmmemtop report): per VM, the events recorded by type
 * beside the counters' increase over the same window, the lost records, the latency
 * histograms, and the slowest events. Built in two passes over the file: the first finds the
 * window (first sample's start .. last sample's end), the second counts the events in it. */
#ifndef VMMEM_REPORT_H
#define VMMEM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record_reader.h"

#define REPORT_MAX_VMS		4096	/* distinct VMs (pid, seq) one report keeps apart */
#define REPORT_MAX_TOP		100
#define REPORT_MAX_THREADS	8192

#define REPORT_FLUSH_TASKS	8
#define REPORT_IPI_TARGETS	16	/* target vCPU threads of slow IPIs kept apart per VM */

/* Slow IPI deliveries recorded to one target vCPU thread (slow_ipi: a = target, b = sender). */
struct report_ipi_target {
	pid_t tid;
	pid_t slowest_from;		/* the sender of the slowest */
	uint64_t n;
	uint64_t max_ns;
};

struct report_vm {
	pid_t pid;
	uint64_t seq;
	bool seq_known;			/* seen in a sample (events can come first) */
	bool closed;			/* its exit was sampled: a later event with its pid is a new VM */
	bool exited;
	struct vmm_info info;		/* as last sampled */
	uint64_t samples;
	struct vmmem_vm_counters increase;	/* sum of the sampled deltas: the window's increase */
	struct vmmem_vm_hists hists;		/* likewise */
	struct vmmem_ev_lost lost;		/* lost since the recording began (its last sample) */
	uint64_t events[VMMEM_EV_LOST_TYPES];	/* recorded inside the window, by type */
	uint64_t inflate_bytes, deflate_bytes;	/* a of balloon events inside the window */
	uint64_t events_outside;		/* recorded before or after the window */
	/* flush_recv records: the tasks that caused the most KVM flushes of this VM (the first
	 * REPORT_FLUSH_TASKS distinct ones; later ones add to flush_tasks_more) */
	struct report_flush_task {
		uint32_t pid, cause;
		uint64_t n;
	} flush_tasks[REPORT_FLUSH_TASKS];
	int nr_flush_tasks;
	uint64_t flush_tasks_more;
	struct report_ipi_target ipi_targets[REPORT_IPI_TARGETS];	/* slow_ipi inside the window */
	int nr_ipi_targets;
	uint64_t ipi_targets_other;		/* slow_ipi to threads beyond REPORT_IPI_TARGETS */
};

struct report_top {
	struct vmmem_event ev;
	int vm;				/* index in vms, or -1 */
};

struct report_thread {
	pid_t pid, tid;
	char comm[16];
};

struct report {
	struct rec_meta meta;
	char ev_names[VMMEM_EV_LOST_TYPES][REC_MAX_NAME_LEN + 1];
	uint64_t event_mask;		/* the types the recording asked for */
	uint64_t slow_event_ns;
	uint64_t start_mono_ns, start_real_ns;	/* for wall-clock times; 0 if unknown */
	bool have_window;
	uint64_t window_start_ns, window_end_ns;
	int64_t wall_end;
	uint64_t samples, events, events_outside, events_unattributed;
	uint64_t host_events[VMMEM_EV_LOST_TYPES];	/* events of no VM (ksm_scan) in the window */
	struct vmmem_host_counters host_increase;
	struct vmmem_host_hists host_hists;
	struct counter_mask available;
	struct host_state host;
	int nr_vms;
	bool vms_truncated;		/* more than REPORT_MAX_VMS: the rest is unattributed */
	struct report_vm *vms;
	int vms_cap;
	int top_n, nr_top;
	struct report_top top[REPORT_MAX_TOP];	/* a min-heap on dur_ns while building */
	int nr_threads;
	struct report_thread *threads;
	int threads_cap;
	bool have_end;
	struct rec_end end;
	int err;			/* 0, or the reader's error: everything before it is counted */
	char error[320];
};

/* Build from a file (read twice: not "-") or memory. Returns 0 when the recording is complete,
 * the reader's negative errno when it is damaged (rp holds everything before the damage and
 * rp->error says what), or another negative errno with err set when nothing could be read. */
int report_build_file(struct report *rp, const char *path, int top_n, char *err, size_t errsz);
int report_build_mem(struct report *rp, const void *data, size_t len, int top_n, char *err, size_t errsz);
void report_free(struct report *rp);

/* The counter a per-event type is checked against, or -1 (balloon: two, by bytes). */
int report_event_counter(int type);

/* The slowest events, slowest first (sorts rp->top in place). */
void report_sort_top(struct report *rp);

/* Thread name of tid in pid ("" if the recording has none). */
const char *report_thread_name(const struct report *rp, pid_t pid, pid_t tid);

#endif
