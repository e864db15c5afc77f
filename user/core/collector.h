/* SPDX-License-Identifier: MIT */
/* The collector: the one sampler every command takes its snapshots from. It owns the core
 * (the backend, and with it the QMP and libvirt pollers), the history and the advisor's
 * hysteresis. Long-running views (the interactive view, export) run it as a thread and read
 * the last complete snapshot, so drawing and scraping never block collection; one-shot and
 * printing commands (snapshot, -b, advise, record) take each sample in turn with
 * collector_next(), so none is skipped. */
#ifndef VMMEM_COLLECTOR_H
#define VMMEM_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "advise.h"
#include "core.h"
#include "snapshot.h"

struct collector;

struct collector_options {
	struct core_options core;
	double interval_s;		/* default 1 */
	bool history;			/* keep every VM's history (the view's sparklines) */
	bool advise;			/* evaluate the advice with hysteresis on each sample and
					 * annotate the snapshot with it (continuous views) */
	bool log_errors;		/* thread: print each failed sample to stderr (not under
					 * ncurses) */
};

/* Open the core (counting starts): the backend loads here, while the process still has its
 * privileges. 0, or negative errno + one line in err. */
int collector_open(struct collector **out, const struct collector_options *opt, char *err, size_t errsz);

/* Start the sampling thread. Call after dropping privileges: the thread inherits the
 * credentials of the moment. 0, or negative errno + one line in err. */
int collector_run(struct collector *c, char *err, size_t errsz);

/* collector_open() then collector_run(). */
int collector_start(struct collector **out, const struct collector_options *opt, char *err, size_t errsz);

/* Without the thread: count interval_s seconds (<= 0: the collector's interval), apply the
 * history and advice, fill out. Returns core_next()'s 0 / negative errno (-ENODATA at the
 * end of a recording), with one line in err. */
int collector_next(struct collector *c, double interval_s, const volatile int *stop, struct snapshot *out,
		   char *err, size_t errsz);

/* Deep copy of the last complete snapshot into out (caller frees with snapshot_free).
 * Returns 0, or -EAGAIN before the first sample completed. */
int collector_latest(struct collector *c, struct snapshot *out);

/* One consistent look for servers: the generation, whether sampling is healthy (the last
 * attempt produced a sample, recently: 3 intervals + 5 s), and when out is not NULL the
 * last snapshot. Returns 0, or -EAGAIN before the first sample. */
int collector_status(struct collector *c, struct snapshot *out, bool *up, uint64_t *gen);

/* Number of samples completed so far (changes when a new snapshot is available). */
uint64_t collector_generation(struct collector *c);

/* Wait up to timeout_ms for a sample newer than gen; returns the current generation. */
uint64_t collector_wait(struct collector *c, uint64_t gen, int timeout_ms);

void collector_set_interval(struct collector *c, double interval_s);
void collector_set_paused(struct collector *c, bool paused);

/* Replay speed (1, 10, INFINITY; 0 pauses the recording's clock): 0 or -EOPNOTSUPP (live). */
int collector_set_speed(struct collector *c, double speed);

/* True once a replayed recording has no more samples. */
bool collector_finished(struct collector *c);

/* Up to n most recent history points of one VM's metric (history.h); 0 without history. */
int collector_history(struct collector *c, pid_t pid, uint64_t seq, int metric, int res, float *out, int n);

/* The full advice of the last evaluation (with its hysteresis) into out; returns how many. */
int collector_advice(struct collector *c, struct advice *out, int max);

/* Name of the backend that opened ("bpf", "kmod", "replay(...)", "synthetic"). */
const char *collector_backend(struct collector *c);

/* Deliver the event records the backend still holds (core_drain_events()). */
int collector_drain_events(struct collector *c);

/* Last error of the sampling thread ("" if none). */
void collector_last_error(struct collector *c, char *buf, size_t sz);

/* Stop the thread (if running) and close the core. NULL is fine. */
void collector_stop(struct collector *c);

/* Deep copy a snapshot (the vms array). Returns 0 or -ENOMEM. */
int snapshot_copy(struct snapshot *dst, const struct snapshot *src);

#endif
