// SPDX-License-Identifier: MIT
/* The collector thread: core_next() in a loop, publishing each complete snapshot under a
 * mutex. Readers copy the snapshot out, so a slow reader never holds up sampling. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "collector.h"

struct collector {
	struct core *core;
	struct collector_options opt;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snapshot latest;
	bool have_latest;
	uint64_t generation;
	volatile int stop;
	bool paused;
	bool finished;			/* a replayed recording reached its end */
	double interval_s;
	char error[256];
};

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

static void *collector_main(void *arg)
{
	struct collector *c = arg;

	while (!c->stop) {
		struct snapshot s;
		char err[256];
		double interval;
		bool paused;
		int ret;

		pthread_mutex_lock(&c->lock);
		interval = c->interval_s;
		paused = c->paused;
		pthread_mutex_unlock(&c->lock);
		/* paused: the view freezes; samples taken meanwhile are not published */
		ret = core_next(c->core, interval, &c->stop, &s, err, sizeof(err));
		if (ret == -ENODATA) {
			/* a recording played to its end: the last sample stays on view */
			struct timespec ts = { 0, 100 * 1000000 };

			pthread_mutex_lock(&c->lock);
			c->finished = true;
			pthread_mutex_unlock(&c->lock);
			nanosleep(&ts, NULL);
			continue;
		}
		if (ret) {
			pthread_mutex_lock(&c->lock);
			snprintf(c->error, sizeof(c->error), "%s", err);
			pthread_mutex_unlock(&c->lock);
			struct timespec ts = { 0, 200 * 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		if (c->stop) {
			snapshot_free(&s);
			break;
		}
		pthread_mutex_lock(&c->lock);
		if (paused) {
			snapshot_free(&s);
		} else {
			if (c->opt.on_sample)
				c->opt.on_sample(c->opt.hook_ctx, &s);
			snapshot_free(&c->latest);
			c->latest = s;
			c->have_latest = true;
			c->generation++;
			c->error[0] = 0;
			pthread_cond_broadcast(&c->cond);
		}
		pthread_mutex_unlock(&c->lock);
	}
	return NULL;
}

int collector_start(struct collector **out, const struct collector_options *opt, char *err, size_t errsz)
{
	struct collector *c = calloc(1, sizeof(*c));
	int ret;

	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	c->opt = *opt;
	c->interval_s = opt->interval_s > 0 ? opt->interval_s : 1;
	ret = core_open(&c->core, &c->opt.core, err, errsz);
	if (ret) {
		free(c);
		return ret;
	}
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	ret = -pthread_create(&c->thread, NULL, collector_main, c);
	if (ret) {
		snprintf(err, errsz, "cannot start the collector thread: %s", strerror(-ret));
		core_close(c->core);
		free(c);
		return ret;
	}
	*out = c;
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

uint64_t collector_generation(struct collector *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->generation;
	pthread_mutex_unlock(&c->lock);
	return g;
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
	while (c->generation == gen && !c->stop)
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
	bool f;

	pthread_mutex_lock(&c->lock);
	f = c->finished;
	pthread_mutex_unlock(&c->lock);
	return f;
}

void collector_locked(struct collector *c, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&c->lock);
	fn(ctx);
	pthread_mutex_unlock(&c->lock);
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
	c->stop = 1;
	pthread_join(c->thread, NULL);
	core_close(c->core);
	snapshot_free(&c->latest);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}
