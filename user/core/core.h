/* SPDX-License-Identifier: MIT */
/* The aggregation core: the one place that turns a backend's raw counters and /proc into
 * snapshots (per-VM deltas over an interval). Views only read what it produces. */
#ifndef VMMEM_CORE_H
#define VMMEM_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "qmp_poll.h"
#include "snapshot.h"

struct core;

struct core_options {
	const char *backend;		/* "auto" (default), "bpf", "kmod" */
	const char *proc_root;		/* "/proc" unless testing */
	pid_t track[64];		/* extra processes to count as VMMs (--track) */
	int nr_track;
	const char *qmp[QMP_POLL_MAX_PATHS];	/* QMP sockets given with --qmp */
	int nr_qmp;
	bool verbose;
	bool syscall_tracepoints;	/* --syscall-tracepoints: allow syscalls:* hooks (host-wide cost) */
	bool switch_tracepoints;	/* --switch-tracepoints: allow sched_switch/tlb_flush (every
					 * context switch of the host) where fentry is refused */
	/* Optional: called for every event record the backend delivers (recorder), of the
	 * types in stream_mask (VMMEM_EV_BIT(); 0 with on_event set: VMMEM_EV_RARE_MASK). */
	void (*on_event)(void *ctx, const struct vmmem_event *ev);
	void *event_ctx;
	uint64_t stream_mask;
	uint64_t slow_ns;		/* slow_fault/slow_exit threshold; 0: backend default */
	/* > 0: each VM's working set over a window of this many seconds (--working-set), by one
	 * kdamond per VM present at core_open() (user/core/ws_monitor.h); 0: off */
	double working_set_s;
};

/* Open the backend and start counting. Returns 0, or a negative errno with one line in err. */
int core_open(struct core **out, const struct core_options *opt, char *err, size_t errsz);

/* Count for interval_s seconds from the previous sample (or from core_open), then fill out.
 * Stops early (and still fills out) when *stop becomes true. Returns 0 or negative errno;
 * -ENODATA (and no snapshot) when a finite source (a recording) had nothing more. */
int core_next(struct core *c, double interval_s, const volatile int *stop, struct snapshot *out,
	      char *err, size_t errsz);

void core_close(struct core *c);

/* Name of the backend that opened ("bpf", "kmod", "replay"). */
const char *core_backend(const struct core *c);

/* Deliver the event records the backend holds now (after the last core_next, so that a
 * recording has every event of its last interval). Returns records delivered or -errno. */
int core_drain_events(struct core *c);

/* Replay speed of a source with its own clock (1, 10, INFINITY; 0 pauses).
 * Returns 0, or -EOPNOTSUPP for live backends. Safe from another thread. */
int core_set_speed(struct core *c, double speed);

/* cur - prev per counter; a counter below its base was reset and counts from zero. */
void core_counters_delta(const struct vmmem_vm_counters *cur, const struct vmmem_vm_counters *prev,
			 struct vmmem_vm_counters *out);

/* One-shot convenience: open with default options, sample interval_s, close. */
int core_sample(double interval_s, struct snapshot *out, char *err, size_t errsz);

#endif
