// SPDX-License-Identifier: MIT
/* The collector: core_next() in a loop on its own thread, publishing each complete snapshot
 * under a mutex (readers copy it out, so a slow reader never holds up sampling), or one
 * sample per call for the printing commands. Either way each sample feeds the history and
 * the advisor here, and nowhere else. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"
#include "history.h"
#include "worker.h"

struct collector {
	struct core *core;
	struct collector_options opt;
	struct worker worker;		/* collector_main() */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snapshot latest;
	bool have_latest;
	bool healthy;			/* the last attempt produced a sample */
	double published_s;		/* CLOCK_MONOTONIC of the last publication */
	uint64_t generation;
	bool paused;
	bool finished;			/* a replayed recording reached its end */
	double interval_s;
	char error[256];
	struct history *history;	/* NULL unless opt.history */
	struct advise_state advise;	/* hysteresis across samples (opt.advise) */
	struct advice advice[ADVISE_MAX];	/* the last evaluation, in full (under the lock) */
	int nr_advice;
	struct advice fresh[ADVISE_MAX];	/* the one being made (the sampling side's own) */
	int nr_fresh;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int snapshot_copy(struct snapshot *dst, const struct snapshot *src)
{
	*dst = *src;
	dst->vms = NULL;
	if (src->nr_vms > 0) {
		dst->vms = malloc(sizeof(*dst->vms) * src->nr_vms);
		if (!dst->vms) {
			dst->nr_vms = 0;
			return -ENOMEM;
		}
		memcpy(dst->vms, src->vms, sizeof(*dst->vms) * src->nr_vms);
	}
	return 0;
}

/* What every sample feeds, whoever asked for it. The advice is evaluated before the lock is
 * taken (1000 VMs: a scrape must not wait for it); the history and the advice in force are
 * swapped in under it. Only the sampling side calls this. */
static void fold_sample(struct collector *c, struct snapshot *s, bool publish)
{
	if (c->opt.advise)
		advise_annotate(s, &c->advise, c->fresh, &c->nr_fresh);
	pthread_mutex_lock(&c->lock);
	/* the sample's own clock: a replayed recording keeps its exited VMs as long as live */
	if (c->history)
		history_push(c->history, s, s->ts_ns ? s->ts_ns / 1e9 : mono_s());
	if (c->opt.advise) {
		memcpy(c->advice, c->fresh, sizeof(*c->advice) * c->nr_fresh);
		c->nr_advice = c->nr_fresh;
	}
	if (publish) {
		snapshot_free(&c->latest);
		c->latest = *s;
		c->have_latest = true;
		c->healthy = true;
		c->published_s = mono_s();
		c->error[0] = 0;
	}
	c->generation++;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void *collector_main(void *arg)
{
	struct collector *c = arg;

	while (!c->worker.stop) {
		struct snapshot s;
		char err[256] = "";
		double interval;
		bool paused;
		int ret;

		pthread_mutex_lock(&c->lock);
		interval = c->interval_s;
		paused = c->paused;
		pthread_mutex_unlock(&c->lock);
		/* paused: the view freezes; samples taken meanwhile are not published */
		ret = core_next(c->core, interval, &c->worker.stop, &s, err, sizeof(err));
		if (ret == -ENODATA) {
			/* a recording played to its end: the last sample stays on view */
			pthread_mutex_lock(&c->lock);
			c->finished = true;
			c->healthy = false;
			pthread_mutex_unlock(&c->lock);
			nap_ms(100);
			continue;
		}
		if (ret) {
			pthread_mutex_lock(&c->lock);
			c->healthy = false;
			snprintf(c->error, sizeof(c->error), "%s", err[0] ? err : strerror(-ret));
			pthread_mutex_unlock(&c->lock);
			if (c->opt.log_errors)
				fprintf(stderr, "vmmemtop: sampling failed: %s\n", err[0] ? err : strerror(-ret));
			nap_ms(500);
			continue;
		}
		if (c->worker.stop) {
			snapshot_free(&s);
			break;
		}
		if (paused)
			snapshot_free(&s);
		else
			fold_sample(c, &s, true);
	}
	return NULL;
}

int collector_open(struct collector **out, const struct collector_options *opt, char *err, size_t errsz)
{
	struct collector *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (!c || (opt->history && !(c->history = history_new()))) {
		snprintf(err, errsz, "out of memory");
		goto out_free;
	}
	c->opt = *opt;
	c->interval_s = opt->interval_s > 0 ? opt->interval_s : 1;
	ret = core_open(&c->core, &c->opt.core, err, errsz);
	if (ret)
		goto out_free;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	*out = c;
	return 0;

out_free:
	if (c)
		history_free(c->history);
	free(c);
	return ret;
}

int collector_run(struct collector *c, char *err, size_t errsz)
{
	int ret = -worker_start(&c->worker, collector_main, c);

	if (ret)
		snprintf(err, errsz, "cannot start the collector thread: %s", strerror(-ret));
	return ret;
}

int collector_start(struct collector **out, const struct collector_options *opt, char *err, size_t errsz)
{
	int ret = collector_open(out, opt, err, errsz);

	if (ret)
		return ret;
	ret = collector_run(*out, err, errsz);
	if (ret) {
		collector_stop(*out);
		*out = NULL;
	}
	return ret;
}

int collector_next(struct collector *c, double interval_s, const volatile int *stop, struct snapshot *out,
		   char *err, size_t errsz)
{
	int ret = core_next(c->core, interval_s > 0 ? interval_s : c->interval_s, stop, out, err, errsz);

	if (ret)
		return ret;
	fold_sample(c, out, false);
	return 0;
}

int collector_latest(struct collector *c, struct snapshot *out)
{
	int ret = -EAGAIN;

	pthread_mutex_lock(&c->lock);
	if (c->have_latest)
		ret = snapshot_copy(out, &c->latest);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

int collector_status(struct collector *c, struct snapshot *out, bool *up, uint64_t *gen)
{
	int ret = -EAGAIN;

	pthread_mutex_lock(&c->lock);
	if (c->have_latest)
		ret = out ? snapshot_copy(out, &c->latest) : 0;
	*gen = c->generation;
	/* a sampling thread that stopped publishing is as bad as one that failed */
	*up = c->have_latest && c->healthy && mono_s() - c->published_s < 3 * c->interval_s + 5;
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* FIELD of collector C, read under its lock (GNU C statement expression) */
#define LOCKED_READ(c, field) ({				\
	__typeof__((c)->field) v_;				\
								\
	pthread_mutex_lock(&(c)->lock);				\
	v_ = (c)->field;					\
	pthread_mutex_unlock(&(c)->lock);			\
	v_;							\
})

uint64_t collector_generation(struct collector *c)
{
	return LOCKED_READ(c, generation);
}

uint64_t collector_wait(struct collector *c, uint64_t gen, int timeout_ms)
{
	struct timespec ts;
	uint64_t g;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->lock);
	while (c->generation == gen && !c->worker.stop)
		if (pthread_cond_timedwait(&c->cond, &c->lock, &ts) == ETIMEDOUT)
			break;
	g = c->generation;
	pthread_mutex_unlock(&c->lock);
	return g;
}

void collector_set_interval(struct collector *c, double interval_s)
{
	pthread_mutex_lock(&c->lock);
	c->interval_s = interval_s;
	pthread_mutex_unlock(&c->lock);
}

void collector_set_paused(struct collector *c, bool paused)
{
	pthread_mutex_lock(&c->lock);
	c->paused = paused;
	pthread_mutex_unlock(&c->lock);
}

int collector_set_speed(struct collector *c, double speed)
{
	/* the source's set_speed is safe against the sampling thread (source.h) */
	return core_set_speed(c->core, speed);
}

bool collector_finished(struct collector *c)
{
	return LOCKED_READ(c, finished);
}

int collector_history(struct collector *c, pid_t pid, uint64_t seq, int metric, int res, float *out, int n)
{
	int got = 0;

	pthread_mutex_lock(&c->lock);
	if (c->history)
		got = history_get(c->history, pid, seq, metric, res, out, n);
	pthread_mutex_unlock(&c->lock);
	return got;
}

int collector_advice(struct collector *c, struct advice *out, int max)
{
	int n;

	pthread_mutex_lock(&c->lock);
	n = c->nr_advice < max ? c->nr_advice : max;
	memcpy(out, c->advice, sizeof(*out) * n);
	pthread_mutex_unlock(&c->lock);
	return n;
}

const char *collector_backend(struct collector *c)
{
	return core_backend(c->core);
}

int collector_drain_events(struct collector *c)
{
	return core_drain_events(c->core);
}

void collector_last_error(struct collector *c, char *buf, size_t sz)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, sz, "%s", c->error);
	pthread_mutex_unlock(&c->lock);
}

void collector_stop(struct collector *c)
{
	if (!c)
		return;
	worker_stop(&c->worker);
	core_close(c->core);
	history_free(c->history);
	snapshot_free(&c->latest);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
