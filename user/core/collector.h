/* SPDX-License-Identifier: MIT */
/* The collector: a thread that samples the core every interval and keeps the last complete
 * snapshot (and the history) for long-running views, so that drawing and scraping never
 * block collection and always see a whole sample. */
#ifndef VMMEM_COLLECTOR_H
#define VMMEM_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>
#include "core.h"
#include "snapshot.h"

struct collector;

/* Called on the collector thread after each sample, with the collector's lock held;
 * must not block. Used to feed the history. */
typedef void (*collector_hook)(void *ctx, const struct snapshot *s);

struct collector_options {
	struct core_options core;
	double interval_s;		/* default 1 */
	collector_hook on_sample;	/* may be NULL */
	void *hook_ctx;
};

/* Open the core (counting starts) and start the thread. 0, or negative errno + err line. */
int collector_start(struct collector **out, const struct collector_options *opt, char *err, size_t errsz);

/* Deep copy of the last complete snapshot into out (caller frees with snapshot_free).
 * Returns 0, or -EAGAIN before the first sample completed. */
int collector_latest(struct collector *c, struct snapshot *out);

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

/* Run fn(ctx) with the collector's lock held (to read state the hook maintains). */
void collector_locked(struct collector *c, void (*fn)(void *ctx), void *ctx);

/* Last error of the sampling thread ("" if none). */
void collector_last_error(struct collector *c, char *buf, size_t sz);

/* Stop the thread and close the core. */
void collector_stop(struct collector *c);

/* Deep copy a snapshot (the vms array). Returns 0 or -ENOMEM. */
int snapshot_copy(struct snapshot *dst, const struct snapshot *src);

#endif
