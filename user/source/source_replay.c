// SPDX-License-Identifier: MIT
/* Replay backend (--backend replay:FILE, vmmemtop replay): serves a recording's counter samples
 * as if they were read live, on the recording's own clock, so the core and every view work
 * unchanged. The clock runs at 1x or 10x the host's, or at "max" (one recorded sample per read),
 * and stops while paused. The first read serves the state just before the first sample (its
 * totals minus its deltas), so the first interval shown is the first recorded one. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "record_reader.h"
#include "source.h"

#define MAX_REAPED	4096

struct replay_sample {
	struct rec_sample s;
	struct rec_vm *vms;		/* s.vms points here */
	int cap;
};

struct replay {
	struct rec_reader *r;
	pthread_mutex_t lock;
	double speed;			/* 0 paused, INFINITY: a sample per read */
	uint64_t rec_base, wall_base, rec_now;
	struct replay_sample cur, next;
	bool have_next;
	struct source_reaped reaped[MAX_REAPED];
	int nr_reaped;
	char name[40];
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int sample_copy(struct replay_sample *dst, const struct rec_sample *src)
{
	if (src->nr_vms > dst->cap) {
		struct rec_vm *v = realloc(dst->vms, src->nr_vms * sizeof(*v));

		if (!v)
			return -ENOMEM;
		dst->vms = v;
		dst->cap = src->nr_vms;
	}
	dst->s = *src;
	if (src->nr_vms)
		memcpy(dst->vms, src->vms, src->nr_vms * sizeof(*dst->vms));
	dst->s.vms = dst->vms;
	return 0;
}

/* Read ahead to the next SAMPLE; at the end of the file (or at damage, which `vmmemtop replay`
 * reports before it starts) there is none. */
static void load_next(struct replay *p)
{
	struct rec_item it;

	p->have_next = false;
	while (rec_reader_next(p->r, &it) > 0) {
		if (it.kind != REC_ITEM_SAMPLE)
			continue;
		p->have_next = sample_copy(&p->next, &it.sample) == 0;
		return;
	}
}

static void step(struct replay *p)
{
	struct replay_sample t = p->cur;

	p->cur = p->next;
	p->next = t;
	p->next.s.vms = p->next.vms;
	load_next(p);
}

static void hist_sub(struct vmmem_hist *h, const struct vmmem_hist *d)
{
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		h->slot[i] -= h->slot[i] >= d->slot[i] ? d->slot[i] : h->slot[i];
	h->sum_ns -= h->sum_ns >= d->sum_ns ? d->sum_ns : h->sum_ns;
}

/* cur := the state at the start of the first sample: its totals minus its deltas */
static void make_base(struct replay *p)
{
	struct rec_sample *s = &p->cur.s;

	s->ts_ns = s->start_ts_ns;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		s->host_total.c[k] -= s->host_delta.c[k] <= s->host_total.c[k] ? s->host_delta.c[k] : s->host_total.c[k];
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		hist_sub(&s->host_hist_total.h[k], &s->host_hist_delta.h[k]);
	for (int i = 0; i < s->nr_vms; i++) {
		struct rec_vm *v = &s->vms[i];

		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			v->total.c[k] -= v->delta.c[k] <= v->total.c[k] ? v->delta.c[k] : v->total.c[k];
		for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
			hist_sub(&v->hist_total.h[k], &v->hist_delta.h[k]);
		v->exited = false;
	}
}

/* under the lock */
static uint64_t clock_locked(struct replay *p)
{
	if (p->speed > 0 && !isinf(p->speed))
		p->rec_now = p->rec_base + (uint64_t)((mono_ns() - p->wall_base) * p->speed);
	return p->rec_now;
}

static int replay_read(struct source *src, struct source_read *out)
{
	struct replay *p = src->priv;
	const struct rec_sample *s;

	pthread_mutex_lock(&p->lock);
	if (isinf(p->speed)) {
		if (p->have_next) {
			step(p);
			p->rec_now = p->cur.s.ts_ns;
		}
	} else {
		uint64_t now = clock_locked(p);

		while (p->have_next && p->next.s.ts_ns <= now)
			step(p);
	}
	s = &p->cur.s;
	out->ts_ns = s->ts_ns;
	out->wall_time = s->wall_time;
	out->host = s->host_total;
	out->host_hists = s->host_hist_total;
	out->nr_vms = 0;
	for (int i = 0; i < s->nr_vms && out->nr_vms < VMMEM_MAX_VMS; i++) {
		const struct rec_vm *v = &s->vms[i];
		struct source_vm *o = &out->vms[out->nr_vms];

		if (source_reaped_has(p->reaped, p->nr_reaped, v->pid, v->seq))
			continue;
		o->tgid = v->pid;
		o->seq = v->seq;
		o->state = v->exited ? VMMEM_SLOT_EXITED : VMMEM_SLOT_LIVE;
		o->counters = v->total;
		o->hists = v->hist_total;
		o->lost = v->lost;
		out->nr_vms++;
	}
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int replay_reap(struct source *src, pid_t tgid, uint64_t seq)
{
	struct replay *p = src->priv;

	pthread_mutex_lock(&p->lock);
	if (p->nr_reaped == MAX_REAPED) {
		memmove(p->reaped, p->reaped + 1, sizeof(p->reaped[0]) * (MAX_REAPED - 1));
		p->nr_reaped--;
	}
	p->reaped[p->nr_reaped++] = (struct source_reaped){ tgid, seq };
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static int replay_track(struct source *src, pid_t tgid)
{
	(void)src;
	(void)tgid;
	return -EOPNOTSUPP;
}

static int replay_vm_info(struct source *src, pid_t tgid, uint64_t seq, struct vmm_info *out)
{
	struct replay *p = src->priv;
	int ret = -ENOENT;

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->cur.s.nr_vms; i++) {
		if (p->cur.s.vms[i].pid == tgid && p->cur.s.vms[i].seq == seq) {
			*out = p->cur.s.vms[i].info;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static int replay_host_state(struct source *src, struct host_state *out)
{
	struct replay *p = src->priv;

	pthread_mutex_lock(&p->lock);
	*out = p->cur.s.host;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static bool replay_finished(struct source *src)
{
	struct replay *p = src->priv;
	bool done;

	pthread_mutex_lock(&p->lock);
	done = !p->have_next;
	pthread_mutex_unlock(&p->lock);
	return done;
}

static uint64_t replay_clock(struct source *src)
{
	struct replay *p = src->priv;
	uint64_t t;

	pthread_mutex_lock(&p->lock);
	t = clock_locked(p);
	pthread_mutex_unlock(&p->lock);
	return t;
}

static void replay_set_speed(struct source *src, double speed)
{
	struct replay *p = src->priv;

	pthread_mutex_lock(&p->lock);
	p->rec_base = clock_locked(p);
	p->wall_base = mono_ns();
	p->speed = speed < 0 ? 0 : speed;
	pthread_mutex_unlock(&p->lock);
}

static void replay_close(struct source *src)
{
	struct replay *p = src->priv;

	if (!p)
		return;
	rec_reader_close(p->r);
	pthread_mutex_destroy(&p->lock);
	free(p->cur.vms);
	free(p->next.vms);
	free(p);
	src->priv = NULL;
}

static const struct source_ops replay_ops = {
	SOURCE_OPS_REQUIRED(replay),
	SOURCE_OPS_FACTS(replay),
	.finished = replay_finished,
	.clock_ns = replay_clock,
	.set_speed = replay_set_speed,
};

static int source_replay_open(struct source *src, const char *path, const struct source_options *opt,
			      char *err, size_t errsz)
{
	struct replay *p = calloc(1, sizeof(*p));
	int ret;

	(void)opt;
	memset(src, 0, sizeof(*src));
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (!*path) {
		free(p);
		snprintf(err, errsz, "replay needs a file: --backend replay:FILE");
		return -EINVAL;
	}
	ret = rec_reader_open_file(&p->r, path, err, errsz);
	if (ret) {
		free(p);
		return ret;
	}
	pthread_mutex_init(&p->lock, NULL);
	src->priv = p;
	load_next(p);
	if (!p->have_next) {
		snprintf(err, errsz, "%s: %s", path, *rec_reader_error(p->r) ? rec_reader_error(p->r) :
			 "the recording has no counter sample: nothing to replay");
		replay_close(src);
		return -ENODATA;
	}
	if (sample_copy(&p->cur, &p->next.s)) {
		snprintf(err, errsz, "out of memory");
		replay_close(src);
		return -ENOMEM;
	}
	make_base(p);
	p->rec_now = p->rec_base = p->cur.s.ts_ns;
	p->wall_base = mono_ns();
	p->speed = 1;
	src->available = p->next.s.available;
	snprintf(p->name, sizeof(p->name), "replay(%.24s)", rec_meta_get(rec_reader_meta(p->r), "backend"));
	src->name = p->name;
	src->ops = &replay_ops;
	return 0;
}

const struct source_factory source_replay_factory = {
	.prefix = "replay:",
	.open = source_replay_open,
};
