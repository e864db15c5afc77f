/* The aggregation core: discovers VMMs, drives the backend, and turns cumulative kernel
 * counters into per-interval snapshots. Exited VMMs are reported once with their final
 * counters, then their kernel slots are reaped. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core.h"
#include "ksm_forecast_file.h"
#include "source.h"
#include "vmm_info.h"

#define DISCOVERY_PERIOD_NS	1000000000ull	/* /proc scan: new VMMs appear within 1 s */
#define TICK_MS			100
#define REPLAY_TICK_MS		10	/* a recording's clock may run fast: read it often */

struct core_vm {
	bool used;
	pid_t tgid;
	uint64_t seq;
	uint32_t state;
	bool gone;			/* user space saw the process vanish or its pid reused */
	bool have_info;
	struct vmm_info info;
	struct vmmem_vm_counters prev;	/* at the previous sample: the delta base */
	struct vmmem_vm_counters last;
	struct vmmem_vm_hists prev_hists, last_hists;
	struct vmmem_ev_lost lost;
};

struct core {
	struct source src;
	struct core_options opt;
	struct source_read rd;
	struct core_vm vms[VMMEM_MAX_VMS];
	struct vmmem_host_counters host_prev, host_last;
	struct vmmem_host_hists host_hists_prev, host_hists_last;
	uint64_t prev_ts_ns, last_scan_ns, last_qmp_ns;
	struct opt_u64 prev_ksmd_ticks;
	bool tracked_extra[64];
	struct qmp_poll *qmp;		/* guest-side balloon facts; NULL if it could not start */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* The clock intervals are measured on: the source's own (a recording's), else the host's. */
static uint64_t src_now(struct core *c)
{
	return c->src.ops->clock_ns ? c->src.ops->clock_ns(&c->src) : now_ns();
}

static const char *proc_root(const struct core *c)
{
	return c->opt.proc_root ? c->opt.proc_root : "/proc";
}

static void discover(struct core *c)
{
	pid_t pids[VMMEM_MAX_VMS];
	int n = vmm_scan(proc_root(c), pids, VMMEM_MAX_VMS);

	if (n > VMMEM_MAX_VMS)
		n = VMMEM_MAX_VMS;
	for (int i = 0; i < n; i++)
		c->src.ops->track(&c->src, pids[i]);
	for (int i = 0; i < c->opt.nr_track; i++)
		if (!c->tracked_extra[i] && c->src.ops->track(&c->src, c->opt.track[i]) != -EINVAL)
			c->tracked_extra[i] = true;
	c->last_scan_ns = now_ns();
}

static struct core_vm *vm_find(struct core *c, pid_t tgid, uint64_t seq)
{
	struct core_vm *free_vm = NULL;

	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		struct core_vm *v = &c->vms[i];

		if (v->used && v->tgid == tgid && v->seq == seq)
			return v;
		if (!v->used && !free_vm)
			free_vm = v;
	}
	if (free_vm) {
		memset(free_vm, 0, sizeof(*free_vm));
		free_vm->used = true;
		free_vm->tgid = tgid;
		free_vm->seq = seq;	/* prev stays zero: the kernel counted from the claim */
	}
	return free_vm;
}

/* Read the backend once and fold it into the VM table. */
static int tick(struct core *c)
{
	int err = c->src.ops->read(&c->src, &c->rd);

	if (err)
		return err;
	for (int i = 0; i < c->rd.nr_vms; i++) {
		const struct source_vm *sv = &c->rd.vms[i];
		struct core_vm *v = vm_find(c, sv->tgid, sv->seq);
		uint64_t start_time;

		if (!v)
			continue;
		v->last = sv->counters;
		v->last_hists = sv->hists;
		v->lost = sv->lost;
		v->state = sv->state;
		if (c->src.ops->vm_info) {
			v->have_info = c->src.ops->vm_info(&c->src, sv->tgid, sv->seq, &v->info) == 0;
			continue;
		}
		if (!v->have_info && sv->state == VMMEM_SLOT_LIVE &&
		    vmm_info_read(proc_root(c), sv->tgid, &v->info, false) == 0)
			v->have_info = true;
		/* a LIVE slot whose process vanished without the exit hook seeing it, or
		 * whose pid now belongs to another process */
		if (sv->state == VMMEM_SLOT_LIVE && v->have_info &&
		    (vmm_identity_read(proc_root(c), sv->tgid, &start_time) != 0 ||
		     start_time != v->info.start_time))
			v->gone = true;
	}
	c->host_last = c->rd.host;
	c->host_hists_last = c->rd.host_hists;
	return 0;
}

/* Name every VM's QMP socket to the poller about once a second, so its answers are there
 * by the time a sample is filled (fill_vm() looks them up again). */
static void qmp_register(struct core *c)
{
	for (int i = 0; i < VMMEM_MAX_VMS && c->qmp; i++) {
		struct core_vm *v = &c->vms[i];
		struct vmm_info info;

		if (!v->used || !v->have_info || v->gone || v->state != VMMEM_SLOT_LIVE)
			continue;
		info = v->info;
		qmp_poll_lookup(c->qmp, &info);
	}
	c->last_qmp_ns = now_ns();
}

static void deliver_event(void *ctx, const struct vmmem_event *ev)
{
	struct core *c = ctx;

	if (c->opt.on_event)
		c->opt.on_event(c->opt.event_ctx, ev);
}

static void wait_tick(struct core *c, int ms)
{
	if (c->src.ops->clock_ns && ms > REPLAY_TICK_MS)
		ms = REPLAY_TICK_MS;
	if (c->src.ops->poll_events && c->src.ops->poll_events(&c->src, ms, deliver_event, c) >= 0)
		return;
	usleep(ms * 1000);
}

int core_open(struct core **out, const struct core_options *opt, char *err, size_t errsz)
{
	struct source_options sopt = { .verbose = opt && opt->verbose };
	const char *backend = opt && opt->backend ? opt->backend : "auto";
	char err_bpf[256] = "", err_kmod[256] = "";
	struct core *c;
	int ret = -EINVAL;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (opt)
		c->opt = *opt;
	if (opt && opt->on_event) {
		sopt.stream_mask = opt->stream_mask ? opt->stream_mask : VMMEM_EV_RARE_MASK;
		sopt.slow_ns = opt->slow_ns;
	}
	for (int i = 0; source_factories[i]; i++) {
		size_t n = strlen(source_factories[i]->prefix);

		if (strncmp(backend, source_factories[i]->prefix, n) == 0) {
			ret = source_factories[i]->open(&c->src, backend + n, &sopt, err, errsz);
			if (ret) {
				free(c);
				return ret;
			}
			goto opened;
		}
	}
	if (!strcmp(backend, "bpf") || !strcmp(backend, "auto"))
		ret = source_bpf_open(&c->src, &sopt, err_bpf, sizeof(err_bpf));
	if (ret && (!strcmp(backend, "kmod") || !strcmp(backend, "auto")))
		ret = source_kmod_open(&c->src, &sopt, err_kmod, sizeof(err_kmod));
	if (ret) {
		if (!strcmp(backend, "auto"))
			snprintf(err, errsz, "no backend could start: bpf: %s; kmod: %s", err_bpf, err_kmod);
		else if (!strcmp(backend, "bpf") || !strcmp(backend, "kmod"))
			snprintf(err, errsz, "%s", err_bpf[0] ? err_bpf : err_kmod);
		else
			snprintf(err, errsz, "unknown backend '%s' (use bpf, kmod or auto)", backend);
		free(c);
		return ret;
	}
opened:
	/* a recording carries its own facts: no QMP conversations during a replay */
	if (c->src.ops->vm_info || qmp_poll_new(&c->qmp, c->opt.qmp, c->opt.nr_qmp, proc_root(c)))
		c->qmp = NULL;		/* QMP values stay unavailable; counting goes on */
	if (!c->src.ops->vm_info)
		discover(c);
	ret = tick(c);
	if (ret) {
		snprintf(err, errsz, "cannot read counters from the %s backend: %s", c->src.name, strerror(-ret));
		core_close(c);
		return ret;
	}
	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		c->vms[i].prev = c->vms[i].last;
		c->vms[i].prev_hists = c->vms[i].last_hists;
	}
	c->host_prev = c->host_last;
	c->host_hists_prev = c->host_hists_last;
	c->prev_ts_ns = c->rd.ts_ns;
	if (!c->src.ops->host_state) {
		struct host_state hs;

		host_state_read("", &hs);
		c->prev_ksmd_ticks = hs.ksm.ksmd_cpu_ticks;
	}
	*out = c;
	return 0;
}

void core_counters_delta(const struct vmmem_vm_counters *cur, const struct vmmem_vm_counters *prev,
			 struct vmmem_vm_counters *out)
{
	/* a counter below its base was reset (kmod reset ioctl): count from zero */
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		out->c[k] = cur->c[k] >= prev->c[k] ? cur->c[k] - prev->c[k] : cur->c[k];
}

static void hist_delta(const struct vmmem_hist *cur, const struct vmmem_hist *prev, struct vmmem_hist *out)
{
	bool reset = cur->sum_ns < prev->sum_ns;

	for (int i = 0; i < VMMEM_HIST_SLOTS; i++) {
		reset |= cur->slot[i] < prev->slot[i];
		out->slot[i] = cur->slot[i] - prev->slot[i];
	}
	out->sum_ns = cur->sum_ns - prev->sum_ns;
	if (reset)
		*out = *cur;
}

static void fill_vm(struct core *c, struct core_vm *v, struct vm_snapshot *o)
{
	memset(o, 0, sizeof(*o));
	o->exited = v->state == VMMEM_SLOT_EXITED || v->gone;
	if (c->src.ops->vm_info)
		o->info = v->info;
	else if (!o->exited && vmm_info_read(proc_root(c), v->tgid, &o->info, true) == 0)
		v->info = o->info, v->have_info = true;
	else if (v->have_info)
		o->info = v->info;
	o->info.pid = v->tgid;
	if (!o->info.name[0])
		snprintf(o->info.name, sizeof(o->info.name), "%s",
			 o->info.comm[0] ? o->info.comm : "unknown");
	if (c->qmp && !o->exited)
		qmp_poll_lookup(c->qmp, &o->info);	/* the poller's last answer; never waits */
	o->seq = v->seq;
	core_counters_delta(&v->last, &v->prev, &o->delta);
	o->total = v->last;
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		hist_delta(&v->last_hists.h[k], &v->prev_hists.h[k], &o->hist_delta.h[k]);
	o->hist_total = v->last_hists;
	o->ev_lost = v->lost;
}

int core_next(struct core *c, double interval_s, const volatile int *stop, struct snapshot *out,
	      char *err, size_t errsz)
{
	uint64_t start, end;
	int ret, n = 0;

	memset(out, 0, sizeof(*out));
	if (c->src.ops->finished && c->src.ops->finished(&c->src)) {
		snprintf(err, errsz, "the %s backend has no more samples (end of the recording)", c->src.name);
		return -ENODATA;
	}
	start = src_now(c);
	end = start + (uint64_t)(interval_s * 1e9);
	for (;;) {
		uint64_t t = src_now(c);

		if (t >= end || (stop && *stop))
			break;
		if (c->src.ops->finished && c->src.ops->finished(&c->src))
			break;
		if (!c->src.ops->vm_info && t - c->last_scan_ns >= DISCOVERY_PERIOD_NS)
			discover(c);
		ret = tick(c);
		if (ret)
			goto read_failed;
		if (c->qmp && now_ns() - c->last_qmp_ns >= DISCOVERY_PERIOD_NS)
			qmp_register(c);
		t = src_now(c);
		if (t < end)
			wait_tick(c, (end - t) / 1000000 < TICK_MS ? (int)((end - t) / 1000000) + 1 : TICK_MS);
	}
	ret = tick(c);
	if (ret)
		goto read_failed;

	if (c->src.ops->host_state)
		c->src.ops->host_state(&c->src, &out->host);
	else
		host_state_read("", &out->host);
	/* the forecast is made by `vmmemtop ksm-forecast` (minutes of reading at a bounded rate),
	 * never here: a sample only stats its result file */
	if (!c->src.ops->host_state) {
		const char *kf = getenv("VMMEM_KSM_FORECAST");

		ksm_forecast_file_poll(kf && *kf ? kf : KF_DEFAULT_PATH, &out->host.ksm_forecast);
	}
	out->backend = c->src.name;
	out->available = c->src.available;
	out->ts_ns = c->rd.ts_ns;
	out->start_ts_ns = c->prev_ts_ns;
	out->interval_s = (c->rd.ts_ns - c->prev_ts_ns) / 1e9;
	out->wall_time = c->rd.wall_time ? c->rd.wall_time : time(NULL);
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		out->host_total.c[k] = c->host_last.c[k];
		out->host_delta.c[k] = c->host_last.c[k] - c->host_prev.c[k];
	}
	out->dropped_events = out->host_delta.c[VMMEM_H_dropped_events];
	out->ksmd_cpu = NAN;
	if (out->host.ksm.ksmd_cpu_ticks.present && c->prev_ksmd_ticks.present && out->interval_s > 0 &&
	    out->host.ksm.ksmd_cpu_ticks.v >= c->prev_ksmd_ticks.v)
		out->ksmd_cpu = (out->host.ksm.ksmd_cpu_ticks.v - c->prev_ksmd_ticks.v) /
				(double)sysconf(_SC_CLK_TCK) / out->interval_s;
	c->prev_ksmd_ticks = out->host.ksm.ksmd_cpu_ticks;
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		hist_delta(&c->host_hists_last.h[k], &c->host_hists_prev.h[k], &out->host_hist_delta.h[k]);
	out->host_hist_total = c->host_hists_last;
	out->vms = calloc(VMMEM_MAX_VMS, sizeof(*out->vms));
	if (!out->vms) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		struct core_vm *v = &c->vms[i];

		if (!v->used)
			continue;
		fill_vm(c, v, &out->vms[n++]);
		v->prev = v->last;
		v->prev_hists = v->last_hists;
		if (out->vms[n - 1].exited) {
			c->src.ops->reap(&c->src, v->tgid, v->seq);
			v->used = false;
		}
	}
	out->nr_vms = n;
	c->host_prev = c->host_last;
	c->host_hists_prev = c->host_hists_last;
	c->prev_ts_ns = c->rd.ts_ns;
	return 0;

read_failed:
	snprintf(err, errsz, "cannot read counters from the %s backend: %s", c->src.name, strerror(-ret));
	return ret;
}

const char *core_backend(const struct core *c)
{
	return c->src.name;
}

int core_drain_events(struct core *c)
{
	if (!c->src.ops->poll_events)
		return 0;
	return c->src.ops->poll_events(&c->src, 0, deliver_event, c);
}

int core_set_speed(struct core *c, double speed)
{
	if (!c->src.ops->set_speed)
		return -EOPNOTSUPP;
	c->src.ops->set_speed(&c->src, speed);
	return 0;
}

void core_close(struct core *c)
{
	if (!c)
		return;
	if (c->src.ops)
		c->src.ops->close(&c->src);
	qmp_poll_free(c->qmp);
	free(c);
}

int core_sample(double interval_s, struct snapshot *out, char *err, size_t errsz)
{
	struct core_options opt = { .backend = "auto" };
	struct core *c;
	int ret = core_open(&c, &opt, err, errsz);

	if (ret)
		return ret;
	ret = core_next(c, interval_s, NULL, out, err, errsz);
	core_close(c);
	return ret;
}
