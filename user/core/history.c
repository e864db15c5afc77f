// SPDX-License-Identifier: MIT
/* History rings. A finer ring rolls up into the next one by averaging: ten 1 s points make
 * one 10 s point, six 10 s points one 60 s point. Rates come from the core's deltas, which
 * already treat a counter reset as a restart from zero. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "history.h"

#define HC(n) VMMEM_C_##n,
const int history_metric_counter[HISTORY_NR_METRICS] = { HISTORY_METRICS(HC) };
const int history_res_len[HISTORY_NR_RES] = { 300, 360, 1440 };
const int history_res_seconds[HISTORY_NR_RES] = { 1, 10, 60 };

#define MAX_VMS VMMEM_MAX_VMS
#define TOTAL_SLOTS (300 + 360 + 1440)

struct ring {
	int head;		/* next slot to write */
	int count;
	double acc[HISTORY_NR_METRICS];	/* roll-up accumulator of the finer points */
	int acc_n;
	double acc_t;		/* seconds accumulated */
};

struct vm_history {
	bool used;
	pid_t pid;
	uint64_t seq;
	double exited_at;	/* 0 while alive */
	double last_push;
	struct ring ring[HISTORY_NR_RES];
	float *data;		/* [res][metric][slot], one allocation of TOTAL_SLOTS * metrics */
};

struct history {
	struct vm_history vms[MAX_VMS];
	int nr;
};

static const int res_offset[HISTORY_NR_RES] = { 0, 300, 660 };

size_t history_bytes_per_vm(void)
{
	return sizeof(float) * TOTAL_SLOTS * HISTORY_NR_METRICS + sizeof(struct vm_history);
}

struct history *history_new(void)
{
	return calloc(1, sizeof(struct history));
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (int i = 0; i < MAX_VMS; i++)
		free(h->vms[i].data);
	free(h);
}

static float *slot_ptr(struct vm_history *v, int res, int metric, int slot)
{
	return v->data + (size_t)HISTORY_NR_METRICS * res_offset[res] + (size_t)metric * history_res_len[res] + slot;
}

static void ring_put(struct vm_history *v, int res, const double *rates)
{
	struct ring *r = &v->ring[res];

	for (int m = 0; m < HISTORY_NR_METRICS; m++)
		*slot_ptr(v, res, m, r->head) = rates[m];
	r->head = (r->head + 1) % history_res_len[res];
	if (r->count < history_res_len[res])
		r->count++;
}

/* Add a point at resolution res; when the next ring's period is covered, roll up. */
static void add_point(struct vm_history *v, int res, const double *rates, double seconds)
{
	struct ring *next;

	ring_put(v, res, rates);
	if (res + 1 >= HISTORY_NR_RES)
		return;
	next = &v->ring[res + 1];
	for (int m = 0; m < HISTORY_NR_METRICS; m++)
		next->acc[m] += rates[m] * seconds;
	next->acc_t += seconds;
	if (next->acc_t + 1e-6 >= history_res_seconds[res + 1]) {
		double avg[HISTORY_NR_METRICS];

		for (int m = 0; m < HISTORY_NR_METRICS; m++)
			avg[m] = next->acc[m] / next->acc_t;
		memset(next->acc, 0, sizeof(next->acc));
		next->acc_t = 0;
		add_point(v, res + 1, avg, history_res_seconds[res + 1]);
	}
}

static struct vm_history *find(struct history *h, pid_t pid, uint64_t seq, bool create)
{
	struct vm_history *free_slot = NULL;

	for (int i = 0; i < MAX_VMS; i++) {
		struct vm_history *v = &h->vms[i];

		if (v->used && v->pid == pid && v->seq == seq)
			return v;
		if (!v->used && !free_slot)
			free_slot = v;
	}
	if (!create || !free_slot)
		return NULL;
	if (!free_slot->data) {
		free_slot->data = malloc(sizeof(float) * TOTAL_SLOTS * HISTORY_NR_METRICS);
		if (!free_slot->data)
			return NULL;
	}
	{
		float *data = free_slot->data;

		memset(free_slot, 0, sizeof(*free_slot));
		free_slot->data = data;
	}
	free_slot->used = true;
	free_slot->pid = pid;
	free_slot->seq = seq;
	h->nr++;
	return free_slot;
}

void history_push(struct history *h, const struct snapshot *s, double now_s)
{
	for (int i = 0; i < s->nr_vms; i++) {
		const struct vm_snapshot *vs = &s->vms[i];
		struct vm_history *v = find(h, vs->info.pid, vs->seq, true);
		double rates[HISTORY_NR_METRICS];
		double secs = s->interval_s > 0 ? s->interval_s : 1;
		int steps;

		if (!v)
			continue;
		for (int m = 0; m < HISTORY_NR_METRICS; m++)
			rates[m] = vm_counter_available(s, vs, history_metric_counter[m]) ?
				vs->delta.c[history_metric_counter[m]] / secs : NAN;
		/* one 1 s point per second of the interval: a 5 s interval gives 5 points */
		steps = (int)lround(secs);
		if (steps < 1)
			steps = 1;
		if (steps > history_res_len[0])
			steps = history_res_len[0];
		for (int k = 0; k < steps; k++)
			add_point(v, HISTORY_RES_1S, rates, secs / steps);
		v->last_push = now_s;
		if (vs->exited && !v->exited_at)
			v->exited_at = now_s;
	}
	for (int i = 0; i < MAX_VMS; i++) {
		struct vm_history *v = &h->vms[i];

		if (v->used && v->exited_at && now_s - v->exited_at > HISTORY_GRACE_S) {
			v->used = false;
			h->nr--;
		}
	}
}

int history_get(const struct history *h, pid_t pid, uint64_t seq, int metric, int res, float *out, int n)
{
	const struct vm_history *v = NULL;
	const struct ring *r;
	int len, count;

	if (metric < 0 || metric >= HISTORY_NR_METRICS || res < 0 || res >= HISTORY_NR_RES || n <= 0)
		return 0;
	for (int i = 0; i < MAX_VMS && !v; i++)
		if (h->vms[i].used && h->vms[i].pid == pid && h->vms[i].seq == seq)
			v = &h->vms[i];
	if (!v)
		return 0;
	r = &v->ring[res];
	len = history_res_len[res];
	count = r->count < n ? r->count : n;
	for (int k = 0; k < count; k++) {
		int slot = (r->head - count + k + len) % len;

		out[k] = *slot_ptr((struct vm_history *)v, res, metric, slot);
	}
	return count;
}

int history_nr_vms(const struct history *h)
{
	return h->nr;
}
