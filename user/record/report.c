// SPDX-License-Identifier: MIT
/* Aggregates a recording for `vmmemtop report` (see report.h). Events name only a tgid; the VM
 * (pid, seq) an event belongs to is the one with that pid that is live when it comes, or the
 * next one sampled with that pid, so a pid reused inside a recording stays two VMs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "events.h"
#include "report.h"

#define PID_SLOTS	(2 * REPORT_MAX_VMS)	/* open addressing, at most half full */

struct pid_index {
	uint32_t pid[PID_SLOTS];	/* 0 = empty */
	int vm[PID_SLOTS];		/* the pid's live VM, -1 when none */
};

int report_event_counter(int type)
{
	switch (type) {
	case VMMEM_EV_tdp_fault: return VMMEM_C_tdp_faults;
	case VMMEM_EV_exit: return VMMEM_C_exits;
	case VMMEM_EV_tlb_shootdown: return VMMEM_C_tlb_shootdown_ipis;
	case VMMEM_EV_ksm_merge: return VMMEM_C_ksm_merged_pages;
	case VMMEM_EV_flush_recv: return VMMEM_C_kvm_remote_tlb_flushes;
	}
	return -1;
}

static int *pid_slot(struct pid_index *ix, uint32_t pid, bool create)
{
	uint32_t h = (pid * 2654435761u) & (PID_SLOTS - 1);

	for (int n = 0; n < PID_SLOTS; n++, h = (h + 1) & (PID_SLOTS - 1)) {
		if (ix->pid[h] == pid)
			return &ix->vm[h];
		if (!ix->pid[h]) {
			if (!create)
				return NULL;
			ix->pid[h] = pid;
			ix->vm[h] = -1;
			return &ix->vm[h];
		}
	}
	return NULL;
}

static int vm_new(struct report *rp, pid_t pid)
{
	struct report_vm *v;

	if (rp->nr_vms >= REPORT_MAX_VMS) {
		rp->vms_truncated = true;
		return -1;
	}
	if (rp->nr_vms == rp->vms_cap) {
		int cap = rp->vms_cap ? 2 * rp->vms_cap : 16;

		v = realloc(rp->vms, cap * sizeof(*v));
		if (!v) {
			rp->vms_truncated = true;
			return -1;
		}
		rp->vms = v;
		rp->vms_cap = cap;
	}
	v = &rp->vms[rp->nr_vms];
	memset(v, 0, sizeof(*v));
	v->pid = pid;
	v->info.pid = pid;
	return rp->nr_vms++;
}

/* The VM an event of tgid belongs to: its live one, else a new one awaiting its sample. */
static int vm_of_event(struct report *rp, struct pid_index *ix, uint32_t tgid)
{
	int *slot;

	if (!tgid || tgid > INT32_MAX)
		return -1;
	slot = pid_slot(ix, tgid, rp->nr_vms < REPORT_MAX_VMS);
	if (!slot)
		return -1;
	if (*slot < 0)
		*slot = vm_new(rp, tgid);
	return *slot;
}

static void hist_add(struct vmmem_hist *to, const struct vmmem_hist *d)
{
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		to->slot[i] += d->slot[i];
	to->sum_ns += d->sum_ns;
}

static void add_sample(struct report *rp, struct pid_index *ix, const struct rec_sample *s)
{
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		rp->host_increase.c[k] += s->host_delta.c[k];
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		hist_add(&rp->host_hists.h[k], &s->host_hist_delta.h[k]);
	rp->available = s->available;
	rp->host = s->host;
	rp->wall_end = s->wall_time;
	rp->samples++;
	for (int i = 0; i < s->nr_vms; i++) {
		const struct rec_vm *sv = &s->vms[i];
		int *slot = pid_slot(ix, sv->pid, rp->nr_vms < REPORT_MAX_VMS);
		struct report_vm *v = NULL;
		int idx = -1;

		if (!slot) {
			rp->vms_truncated = true;
			continue;
		}
		if (*slot >= 0 && (!rp->vms[*slot].seq_known || rp->vms[*slot].seq == sv->seq))
			idx = *slot;
		else
			idx = *slot = vm_new(rp, sv->pid);
		if (idx < 0)
			continue;
		v = &rp->vms[idx];
		v->seq = sv->seq;
		v->seq_known = true;
		v->exited = sv->exited;
		v->info = sv->info;
		v->samples++;
		v->lost = sv->lost;
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			v->increase.c[k] += sv->delta.c[k];
		for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
			hist_add(&v->hists.h[k], &sv->hist_delta.h[k]);
		if (sv->exited) {
			v->closed = true;
			*slot = -1;
		}
	}
}

static void top_sift_down(struct report_top *h, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		struct report_top t;

		if (l < n && h[l].ev.dur_ns < h[m].ev.dur_ns)
			m = l;
		if (r < n && h[r].ev.dur_ns < h[m].ev.dur_ns)
			m = r;
		if (m == i)
			return;
		t = h[i], h[i] = h[m], h[m] = t;
		i = m;
	}
}

static void top_offer(struct report *rp, const struct vmmem_event *ev, int vm)
{
	struct report_top *h = rp->top;

	if (!rp->top_n || !ev->dur_ns)
		return;
	if (rp->nr_top < rp->top_n) {
		int i = rp->nr_top++;

		h[i] = (struct report_top){ *ev, vm };
		while (i > 0 && h[(i - 1) / 2].ev.dur_ns > h[i].ev.dur_ns) {
			struct report_top t = h[i];

			h[i] = h[(i - 1) / 2];
			h[(i - 1) / 2] = t;
			i = (i - 1) / 2;
		}
		return;
	}
	if (ev->dur_ns <= h[0].ev.dur_ns)
		return;
	h[0] = (struct report_top){ *ev, vm };
	top_sift_down(h, rp->nr_top, 0);
}

static int cmp_top(const void *a, const void *b)
{
	const struct report_top *x = a, *y = b;

	return x->ev.dur_ns < y->ev.dur_ns ? 1 : x->ev.dur_ns > y->ev.dur_ns ? -1 :
	       x->ev.ts_ns < y->ev.ts_ns ? -1 : x->ev.ts_ns > y->ev.ts_ns;
}

void report_sort_top(struct report *rp)
{
	qsort(rp->top, rp->nr_top, sizeof(rp->top[0]), cmp_top);
}

/* A slow IPI delivery, tallied by its target vCPU thread (the first REPORT_IPI_TARGETS). */
static void add_slow_ipi(struct report_vm *v, const struct vmmem_event *ev)
{
	pid_t tid = (pid_t)ev->a;
	struct report_ipi_target *t = NULL;

	for (int i = 0; i < v->nr_ipi_targets && !t; i++)
		if (v->ipi_targets[i].tid == tid)
			t = &v->ipi_targets[i];
	if (!t && v->nr_ipi_targets < REPORT_IPI_TARGETS) {
		t = &v->ipi_targets[v->nr_ipi_targets++];
		*t = (struct report_ipi_target){ .tid = tid };
	}
	if (!t) {
		v->ipi_targets_other++;
		return;
	}
	t->n++;
	if (ev->dur_ns >= t->max_ns) {
		t->max_ns = ev->dur_ns;
		t->slowest_from = (pid_t)ev->b;
	}
}

static void add_event(struct report *rp, struct pid_index *ix, const struct vmmem_event *ev)
{
	bool inside = rp->have_window && ev->ts_ns > rp->window_start_ns && ev->ts_ns <= rp->window_end_ns;
	int idx = vm_of_event(rp, ix, ev->tgid);
	struct report_vm *v = idx >= 0 ? &rp->vms[idx] : NULL;

	rp->events++;
	top_offer(rp, ev, idx);
	if (!inside) {
		rp->events_outside++;
		if (v)
			v->events_outside++;
		return;
	}
	if (!v) {
		if (ev->tgid)
			rp->events_unattributed++;
		else if (ev->type < VMMEM_EV_LOST_TYPES)
			rp->host_events[ev->type]++;
		return;
	}
	if (ev->type < VMMEM_EV_LOST_TYPES)
		v->events[ev->type]++;
	if (ev->type == VMMEM_EV_slow_ipi)
		add_slow_ipi(v, ev);
	if (ev->type == VMMEM_EV_balloon) {
		/* b: the madvise behaviour, or 0x100 | fallocate mode (bpf/balloon.bpf.c) */
		if (ev->b == 3)	/* MADV_WILLNEED */
			v->deflate_bytes += ev->a;
		else
			v->inflate_bytes += ev->a;
	}
	if (ev->type == VMMEM_EV_flush_recv) {
		int i;

		/* a = cause, b = the causing task's pid (bpf/tlb.bpf.c) */
		for (i = 0; i < v->nr_flush_tasks; i++)
			if (v->flush_tasks[i].pid == ev->b && v->flush_tasks[i].cause == ev->a)
				break;
		if (i < v->nr_flush_tasks)
			v->flush_tasks[i].n++;
		else if (i < REPORT_FLUSH_TASKS)
			v->flush_tasks[v->nr_flush_tasks++] = (struct report_flush_task){ (uint32_t)ev->b,
											  (uint32_t)ev->a, 1 };
		else
			v->flush_tasks_more++;
	}
}

static void add_thread(struct report *rp, const struct rec_thread *t)
{
	struct report_thread *th;

	if (rp->nr_threads >= REPORT_MAX_THREADS)
		return;
	if (rp->nr_threads == rp->threads_cap) {
		int cap = rp->threads_cap ? 2 * rp->threads_cap : 64;

		th = realloc(rp->threads, cap * sizeof(*th));
		if (!th)
			return;
		rp->threads = th;
		rp->threads_cap = cap;
	}
	th = &rp->threads[rp->nr_threads++];
	th->pid = t->pid;
	th->tid = t->tid;
	snprintf(th->comm, sizeof(th->comm), "%.15s", t->comm);
}

const char *report_thread_name(const struct report *rp, pid_t pid, pid_t tid)
{
	for (int i = rp->nr_threads - 1; i >= 0; i--)
		if (rp->threads[i].pid == pid && rp->threads[i].tid == tid)
			return rp->threads[i].comm;
	return "";
}

static uint64_t meta_u64(const struct rec_meta *m, const char *key)
{
	const char *v = rec_meta_get(m, key);
	char *end;
	unsigned long long x;

	if (!*v)
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	return errno || *end ? 0 : x;
}

typedef int (*open_fn)(void *ctx, struct rec_reader **r, char *err, size_t errsz);

/* pass 1: the window the counters cover */
static int find_window(struct report *rp, struct rec_reader *r)
{
	struct rec_item it;
	int ret;

	while ((ret = rec_reader_next(r, &it)) > 0) {
		if (it.kind != REC_ITEM_SAMPLE)
			continue;
		if (!rp->have_window)
			rp->window_start_ns = it.sample.start_ts_ns;
		rp->have_window = true;
		rp->window_end_ns = it.sample.ts_ns;
	}
	return ret;
}

static int build(struct report *rp, open_fn open, void *ctx, int top_n, char *err, size_t errsz)
{
	struct pid_index *ix = NULL;
	struct rec_reader *r;
	struct rec_item it;
	int ret;

	memset(rp, 0, sizeof(*rp));
	rp->top_n = top_n < 0 ? 0 : top_n > REPORT_MAX_TOP ? REPORT_MAX_TOP : top_n;
	ret = open(ctx, &r, err, errsz);
	if (ret)
		return ret;
	rp->meta = *rec_reader_meta(r);
	for (int t = 0; t < VMMEM_EV_LOST_TYPES; t++) {
		char buf[16];

		snprintf(rp->ev_names[t], sizeof(rp->ev_names[t]), "%s", rec_reader_event_name(r, t, buf, sizeof(buf)));
	}
	rp->event_mask = meta_u64(&rp->meta, "event_mask");
	rp->slow_event_ns = meta_u64(&rp->meta, "slow_event_ns");
	rp->start_mono_ns = meta_u64(&rp->meta, "start_monotonic_ns");
	rp->start_real_ns = meta_u64(&rp->meta, "start_realtime_ns");
	find_window(rp, r);
	rec_reader_close(r);

	ix = calloc(1, sizeof(*ix));
	if (!ix) {
		free(ix);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	ret = open(ctx, &r, err, errsz);
	if (ret) {
		free(ix);
		return ret;
	}
	while ((ret = rec_reader_next(r, &it)) > 0) {
		switch (it.kind) {
		case REC_ITEM_SAMPLE:
			add_sample(rp, ix, &it.sample);
			break;
		case REC_ITEM_EVENT:
			add_event(rp, ix, &it.event);
			break;
		case REC_ITEM_THREAD:
			add_thread(rp, &it.thread);
			break;
		case REC_ITEM_END:
			rp->have_end = true;
			rp->end = it.end;
			break;
		}
	}
	if (ret < 0) {
		rp->err = ret;
		snprintf(rp->error, sizeof(rp->error), "%s", rec_reader_error(r));
	}
	rec_reader_close(r);
	free(ix);
	return ret < 0 ? ret : 0;
}

static int open_path(void *ctx, struct rec_reader **r, char *err, size_t errsz)
{
	return rec_reader_open_file(r, ctx, err, errsz);
}

struct mem_ctx {
	const void *data;
	size_t len;
};

static int open_mem(void *ctx, struct rec_reader **r, char *err, size_t errsz)
{
	struct mem_ctx *m = ctx;

	return rec_reader_open_mem(r, m->data, m->len, err, errsz);
}

int report_build_file(struct report *rp, const char *path, int top_n, char *err, size_t errsz)
{
	if (!strcmp(path, "-")) {
		memset(rp, 0, sizeof(*rp));
		snprintf(err, errsz, "report reads its file twice: give a file, not '-'");
		return -EINVAL;
	}
	return build(rp, open_path, (void *)path, top_n, err, errsz);
}

int report_build_mem(struct report *rp, const void *data, size_t len, int top_n, char *err, size_t errsz)
{
	struct mem_ctx m = { data, len };

	return build(rp, open_mem, &m, top_n, err, errsz);
}

void report_free(struct report *rp)
{
	free(rp->vms);
	free(rp->threads);
	rp->vms = NULL;
	rp->threads = NULL;
}
