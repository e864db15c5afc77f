// SPDX-License-Identifier: MIT
/* The aggregation core: discovers VMMs, drives the backend, and turns cumulative kernel
 * counters into per-interval snapshots. Exited VMMs are reported once with their final
 * counters, then their kernel slots are reaped.
 *
 * What a sample costs stays O(number of VMs), whatever their memory: per VM, one pread() of
 * /proc/PID/status (RSS and swap are counters the kernel keeps) and one read of ksm_stat.
 * A VM's identity (stat, cmdline, fds) is read once per process instance. The one /proc file
 * that walks page tables, smaps_rollup (AnonHugePages), is read for at most one VM per
 * sample, each VM at most once a minute, within 1 % of a CPU (a walk of T is followed by
 * 99 T without one), and the figure carries the time it was read. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "core.h"
#include "ksm_forecast_file.h"
#include "libvirt_poll.h"
#include "source.h"
#include "vmm_info.h"
#include "damon_sysfs.h"
#include "ws_monitor.h"

#define DISCOVERY_PERIOD_NS	1000000000ull	/* /proc scan: new VMMs appear within 1 s */
#define FULL_SCAN_PERIOD_NS	10000000000ull	/* and a readdir of all of /proc this often */
#define TICK_MS			100
#define REPLAY_TICK_MS		10	/* a recording's clock may run fast: read it often */
#define THP_PERIOD_NS		60000000000ull	/* smaps_rollup of one VM at most this often */
#define THP_PAUSE_FACTOR	99	/* after a walk of T CPU, none for 99 T: <= 1 % of a CPU */

struct core_vm {
	bool used;
	pid_t tgid;
	uint64_t seq;
	bool gone;			/* user space saw the process vanish or its pid reused */
	bool have_info;			/* identity read (once per process instance) */
	int status_fd;			/* /proc/PID/status of this instance; -1 not open */
	int ksm_fd;			/* its ksm_stat; -1 not open, VMM_FD_ABSENT: none */
	uint64_t thp_read_ns;		/* when smaps_rollup was last read; 0 never */
	struct vmm_info info;
	struct source_vm last;		/* the source's last report: state, counters, ... */
	struct vmmem_vm_counters prev;	/* last.counters at the previous sample: the delta base */
	struct vmmem_vm_hists prev_hists;
};

struct core {
	struct source src;
	struct core_options opt;
	struct source_read rd;
	struct core_vm vms[VMMEM_MAX_VMS];
	struct vmmem_host_counters host_prev, host_last;
	struct vmmem_host_hists host_hists_prev, host_hists_last;
	uint64_t prev_ts_ns, last_scan_ns, last_full_scan_ns, last_qmp_ns;
	int nr_vms_last, nr_vms_high;	/* VMs in the last sample, and the most since a trim */
	uint64_t thp_next_ns;		/* no smaps_rollup walk before this (the CPU budget) */
	struct opt_u64 prev_ksmd_ticks;
	bool tracked_extra[64];
	int hint;			/* vm_find(): where the last match was */
	/* who is in vms[], packed: a search touches 16 bytes per entry, not a whole core_vm */
	struct core_key { uint64_t seq; pid_t tgid; bool used; } key[VMMEM_MAX_VMS];
	struct vmm_scan_cache *scan;	/* discovery's memory of every process it examined */
	struct qmp_poll *qmp;		/* guest-side balloon facts; NULL if it could not start */
	struct libvirt_poll *libvirt;	/* the same, and names and UUIDs, from libvirtd; NULL without */
	struct ws_monitor *ws;		/* working sets (--working-set); NULL: off, or a replay */
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
	uint64_t now = now_ns();
	int n = -EAGAIN;

	/* every second the pids handed out since the last look; all of /proc every 10 s
	 * (readdir costs ~0.4 us per process: 2 ms with 5000 of them) */
	if (c->scan && now - c->last_full_scan_ns < FULL_SCAN_PERIOD_NS)
		n = vmm_scan_new(c->scan, proc_root(c), pids, VMMEM_MAX_VMS);
	if (n == -EAGAIN && c->scan) {
		n = vmm_scan_cached(c->scan, proc_root(c), pids, VMMEM_MAX_VMS);
		c->last_full_scan_ns = now;
	} else if (n == -EAGAIN) {
		n = vmm_scan(proc_root(c), pids, VMMEM_MAX_VMS);
	}
	if (n > VMMEM_MAX_VMS)
		n = VMMEM_MAX_VMS;
	/* a VMM already exiting is not claimed again: its exit was (or is being) counted, and
	 * a new slot would report it exited twice, the second time with nothing */
	for (int i = 0; i < n; i++)
		if (!vmm_exiting(proc_root(c), pids[i]))
			c->src.ops->track(&c->src, pids[i]);
	for (int i = 0; i < c->opt.nr_track; i++)
		if (!c->tracked_extra[i] && c->src.ops->track(&c->src, c->opt.track[i]) != -EINVAL)
			c->tracked_extra[i] = true;
	c->last_scan_ns = now_ns();
}

static struct core_vm *vm_find(struct core *c, pid_t tgid, uint64_t seq)
{
	struct core_vm *free_vm = NULL;

	/* sources list VMs in slot order, and new ones take the first free entry here too:
	 * the entry after the last match is almost always the next one (O(1) per VM) */
	for (int k = 0; k < VMMEM_MAX_VMS; k++) {
		int i = (c->hint + k) % VMMEM_MAX_VMS;
		const struct core_key *key = &c->key[i];

		if (key->used && key->tgid == tgid && key->seq == seq) {
			c->hint = i + 1;
			return &c->vms[i];
		}
	}
	for (int i = 0; i < VMMEM_MAX_VMS && !free_vm; i++)
		if (!c->key[i].used) {
			free_vm = &c->vms[i];
			c->key[i] = (struct core_key){ seq, tgid, true };
		}
	if (free_vm) {
		memset(free_vm, 0, sizeof(*free_vm));
		free_vm->used = true;
		free_vm->tgid = tgid;
		free_vm->seq = seq;	/* prev stays zero: the kernel counted from the claim */
		free_vm->status_fd = -1;
		free_vm->ksm_fd = -1;
	}
	return free_vm;
}

static void vm_release(struct core *c, struct core_vm *v)
{
	if (v->status_fd >= 0)
		close(v->status_fd);
	if (v->ksm_fd >= 0)
		close(v->ksm_fd);
	v->status_fd = v->ksm_fd = -1;
	v->used = false;
	c->key[v - c->vms].used = false;
}

/* A VM's identity, once per process instance (pid + start time): stat, cmdline, fds. */
static int vm_identify(struct core *c, struct core_vm *v)
{
	int ret = vmm_info_read(proc_root(c), v->tgid, &v->info, false);

	v->have_info = ret == 0;
	return ret;
}

/* Identify the live VMs of the source's last report that have none yet (once per process
 * instance), from /proc. */
static void identify_new(struct core *c)
{
	for (int i = 0; i < c->rd.nr_vms; i++) {
		const struct source_vm *sv = &c->rd.vms[i];
		struct core_vm *v;

		if (sv->state != VMMEM_SLOT_LIVE)
			continue;
		v = vm_find(c, sv->tgid, sv->seq);
		if (v && !v->have_info)
			vm_identify(c, v);
	}
}

/* Learn the VMs the kernel side claimed since the last look, without reading counters:
 * a VM that lives for less than a sample still gets its name. */
static int glance(struct core *c)
{
	int err = c->src.ops->list(&c->src, &c->rd);

	if (!err)
		identify_new(c);
	return err;
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

		if (!v)
			continue;
		v->last = *sv;
		if (c->src.ops->vm_info)	/* a recording carries each VM's facts */
			v->have_info = c->src.ops->vm_info(&c->src, sv->tgid, sv->seq, &v->info) == 0;
	}
	if (!c->src.ops->vm_info)
		identify_new(c);
	c->host_last = c->rd.host;
	c->host_hists_last = c->rd.host_hists;
	return 0;
}

/* Name every VM's QMP socket to the poller about once a second, so its answers are there
 * by the time a sample is filled (fill_vm() looks them up again). */
static void qmp_register(struct core *c)
{
	for (int i = 0; i < VMMEM_MAX_VMS && (c->qmp || c->libvirt); i++) {
		struct core_vm *v = &c->vms[i];
		struct vmm_info info;

		if (!c->key[i].used || !v->have_info || v->gone || v->last.state != VMMEM_SLOT_LIVE)
			continue;
		info = v->info;
		if (c->qmp)
			qmp_poll_lookup(c->qmp, &info);
		/* QEMU's RAM blocks: guest RAM for the balloon split where KVM has no memslots;
		 * without a QMP socket of ours (a libvirt domain), its main RAM: -m's size */
		if (c->src.ops->guest_ram_hint && info.qmp.up && info.qmp.nr_ramblocks) {
			c->src.ops->guest_ram_hint(&c->src, c->key[i].tgid, info.qmp.ramblock_size,
						   info.qmp.nr_ramblocks, "QMP info ramblock");
		} else if (c->src.ops->guest_ram_hint && !info.qmp.up && info.mem_configured_kb.present &&
			   !strncmp(info.comm, "qemu", 4)) {
			uint64_t ram = info.mem_configured_kb.v * 1024;

			c->src.ops->guest_ram_hint(&c->src, c->key[i].tgid, &ram, 1, "main RAM of -m");
		}
		if (c->libvirt)		/* starts libvirt's poller at the first libvirt domain */
			libvirt_poll_lookup(c->libvirt, &info);
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

/* The working-set monitor, for the VMs known now: here, while the process still has the
 * privileges the DAMON sysfs files need (they stay open; collector_open() runs before --user
 * drops root). */
static void ws_open(struct core *c)
{
	static pid_t pids[VMMEM_MAX_VMS];
	static uint64_t starts[VMMEM_MAX_VMS];
	int n = 0;

	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		const struct core_vm *v = &c->vms[i];

		if (!c->key[i].used || !v->have_info || v->last.state != VMMEM_SLOT_LIVE)
			continue;
		pids[n] = v->tgid;
		starts[n++] = v->info.start_time;
	}
	if (ws_monitor_open(&c->ws, DAMON_SYSFS_ROOT, c->opt.working_set_s, pids, starts, n))
		c->ws = NULL;
	else if (c->opt.verbose && ws_monitor_why(c->ws)[0])
		fprintf(stderr, "vmmemtop: working set unavailable: %s\n", ws_monitor_why(c->ws));
	else if (c->opt.verbose)
		fprintf(stderr, "vmmemtop: working set: %d kdamond(s) of vmmem's own, window %.0f s\n", n,
			c->opt.working_set_s);
}

int core_open(struct core **out, const struct core_options *opt, char *err, size_t errsz)
{
	struct source_options sopt = {
		.verbose = opt && opt->verbose,
		.syscall_tracepoints = opt && opt->syscall_tracepoints,
		.switch_tracepoints = opt && opt->switch_tracepoints,
	};
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
	if (!strcmp(backend, "auto")) {
		/* BPF first; the module where BPF cannot load (old kernel, no BTF, lockdown) */
		const struct source_factory *bpf = source_factory_find("bpf");
		const struct source_factory *kmod = source_factory_find("kmod");

		ret = bpf ? bpf->open(&c->src, "", &sopt, err_bpf, sizeof(err_bpf)) : -ENOENT;
		if (!bpf)
			snprintf(err_bpf, sizeof(err_bpf), "not built in");
		if (ret && kmod)
			ret = kmod->open(&c->src, "", &sopt, err_kmod, sizeof(err_kmod));
		else if (ret)
			snprintf(err_kmod, sizeof(err_kmod), "not built in");
		if (ret)
			snprintf(err, errsz, "no backend could start: bpf: %s; kmod: %s", err_bpf, err_kmod);
	} else {
		const struct source_factory *f = source_factory_find(backend);

		if (f)
			ret = f->open(&c->src, backend + strlen(f->prefix), &sopt, err, errsz);
		else
			snprintf(err, errsz, "unknown backend '%s' (use bpf, kmod or auto)", backend);
	}
	if (ret) {
		free(c);
		return ret;
	}
	if (!c->src.ops->vm_info) {
		struct rlimit rl;

		/* two /proc fds held per VM (status, ksm_stat): room for VMMEM_MAX_VMS of them
		 * (every fd user here polls; none uses select()) */
		if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max > rl.rlim_cur) {
			rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		if (vmm_scan_cache_new(&c->scan))
			c->scan = NULL;		/* discovery goes on, uncached */
	}
	/* a recording carries its own facts: no QMP conversations during a replay */
	if (c->src.ops->vm_info || qmp_poll_new(&c->qmp, c->opt.qmp, c->opt.nr_qmp, proc_root(c)))
		c->qmp = NULL;		/* QMP values stay unavailable; counting goes on */
	if (c->src.ops->vm_info || libvirt_poll_new(&c->libvirt, NULL))
		c->libvirt = NULL;	/* built without libvirt, or a replay */
	if (!c->src.ops->vm_info)
		discover(c);
	ret = tick(c);
	if (ret) {
		snprintf(err, errsz, "cannot read counters from the %s backend: %s", c->src.name, strerror(-ret));
		core_close(c);
		return ret;
	}
	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		c->vms[i].prev = c->vms[i].last.counters;
		c->vms[i].prev_hists = c->vms[i].last.hists;
	}
	if (!c->src.ops->vm_info && c->opt.working_set_s > 0)
		ws_open(c);
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

/* The per-sample /proc facts of a live VM: status and ksm_stat, through an fd bound to the
 * process instance whose identity was read; a process gone, or replaced under its pid,
 * is marked gone (reported once as exited). smaps_rollup only if thp. */
static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void vm_refresh(struct core *c, struct core_vm *v, bool thp)
{
	int fd = v->status_fd, ret;

	if (!v->have_info && vm_identify(c, v) == -ENOENT)
		v->gone = true;		/* a LIVE slot whose process vanished unseen by the exit hook */
	if (!v->have_info)
		return;
	if (fd < 0)
		fd = vmm_status_open(proc_root(c), v->tgid, v->info.start_time);
	if (fd == -ENOENT) {
		v->gone = true;
		return;
	}
	if (fd < 0)
		return;		/* out of fds: the last figures stay; retried next sample */
	ret = vmm_counters_read(fd, &v->ksm_fd, proc_root(c), v->tgid, &v->info);
	if (ret == 1 && vm_identify(c, v) == 0)	/* exec'd: another program, same process */
		ret = vmm_counters_read(fd, &v->ksm_fd, proc_root(c), v->tgid, &v->info);
	if (ret == -ENOENT) {
		v->gone = true;
		close(fd);
		fd = -1;
	}
	v->status_fd = fd;
	if (thp && !v->gone) {
		struct opt_u64 huge;

		v->thp_read_ns = now_ns();
		if (!v->info.vcpus.present)	/* vCPU fds may have come after the identity */
			vmm_fd_scan(proc_root(c), v->tgid, &v->info);
		uint64_t cpu = thread_cpu_ns();

		if (vmm_thp_read(proc_root(c), v->tgid, &huge) == 0) {
			v->info.anon_huge_kb = huge;
			v->info.anon_huge_time = (struct opt_u64){ (uint64_t)time(NULL), true };
		}
		/* the walk's cost grows with the VM's memory: the pause after it too, so walks
		 * take at most 1 % of a CPU whatever the guests' sizes (figures just get older) */
		c->thp_next_ns = now_ns() + (thread_cpu_ns() - cpu) * THP_PAUSE_FACTOR;
	}
}

/* The live VM whose AnonHugePages is oldest, if at least THP_PERIOD_NS old (or never read),
 * and the walks so far leave room in their CPU budget. */
static struct core_vm *thp_due(struct core *c)
{
	struct core_vm *due = NULL;
	uint64_t now = now_ns();

	if (now < c->thp_next_ns)
		return NULL;
	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		struct core_vm *v = &c->vms[i];

		if (!c->key[i].used || !v->have_info || v->gone || v->last.state != VMMEM_SLOT_LIVE)
			continue;
		if (v->thp_read_ns && now - v->thp_read_ns < THP_PERIOD_NS)
			continue;
		if (!due || v->thp_read_ns < due->thp_read_ns)
			due = v;
	}
	return due;
}

static void fill_vm(struct core *c, struct core_vm *v, struct vm_snapshot *o, bool thp)
{
	bool gone_before = v->gone;

	memset(o, 0, sizeof(*o));
	if (!c->src.ops->vm_info && v->last.state == VMMEM_SLOT_LIVE && !v->gone)
		vm_refresh(c, v, thp);
	/* Found gone just now: this sample's counters were read before that, perhaps before
	 * the VMM's last work (under load, the read and this look can be a second apart, and a
	 * short-lived VMM works and exits in between). It is reported exited by the next
	 * sample, whose read comes after its end (or the exit hook marks it EXITED first):
	 * reaping it now would zero the counts made since the read. */
	o->exited = v->last.state == VMMEM_SLOT_EXITED || gone_before;
	if (c->src.ops->vm_info || v->have_info)
		o->info = v->info;
	o->info.pid = v->tgid;
	if (!o->info.name[0])
		snprintf(o->info.name, sizeof(o->info.name), "%s",
			 o->info.comm[0] ? o->info.comm : "unknown");
	if (c->qmp && !o->exited)
		qmp_poll_lookup(c->qmp, &o->info);	/* the poller's last answer; never waits */
	if (c->libvirt && !o->exited)
		libvirt_poll_lookup(c->libvirt, &o->info);	/* libvirt's names, UUID, balloon */
	if (!c->src.ops->vm_info)	/* a recording carries its own figure */
		ws_monitor_lookup(c->ws, &o->info);
	o->seq = v->seq;
	core_counters_delta(&v->last.counters, &v->prev, &o->delta);
	o->total = v->last.counters;
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		hist_delta(&v->last.hists.h[k], &v->prev_hists.h[k], &o->hist_delta.h[k]);
	o->hist_total = v->last.hists;
	o->ev_lost = v->last.lost;
	o->unavailable = v->last.unavailable;
}

/* Record that source name was read for out, since t0_ns (now_ns()), and whether it all
 * answered. Names that are not sources (a replay backend) are skipped. */
static void source_done(struct snapshot *out, const char *name, bool ok, uint64_t t0_ns)
{
	for (int i = 0; i < SNAP_NR_SOURCES; i++)
		if (!strcmp(snap_source_names[i], name)) {
			out->sources[i].used = true;
			out->sources[i].ok = ok;
			out->sources[i].seconds = (now_ns() - t0_ns) / 1e9;
		}
}

int core_next(struct core *c, double interval_s, const volatile int *stop, struct snapshot *out,
	      char *err, size_t errsz)
{
	struct core_vm *thp;
	uint64_t start, end, t0;
	bool proc_ok;
	int ret, n = 0;

	/*
	 * A churn of short-lived VMs makes samples of many VMs (each exited one is reported once,
	 * with its histograms), and the views' tables of them are as many: glibc keeps the freed
	 * memory in the heap, under blocks that live on. Measured on 500 churned VMMs: heap RSS
	 * +2.2 MB while the bytes in use (heaptrack) came back to the same figure after every
	 * sample. Once the VM count has fallen to half of its peak, malloc_trim() gives the
	 * heap's free pages back (glibc madvise()s them away): ~0.5 ms after a burst, never
	 * during a steady one, so RSS returns to its baseline when the churn is over.
	 */
	if (c->nr_vms_high >= 16 && c->nr_vms_last * 2 <= c->nr_vms_high) {
		malloc_trim(0);
		c->nr_vms_high = c->nr_vms_last;
	}
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
		/* counters are read once, at the end; in between only new VMs are looked at
		 * (a source without a cheap list, and a recording, is read every tick) */
		ret = c->src.ops->list ? glance(c) : tick(c);
		if (ret)
			goto read_failed;
		if (c->qmp && now_ns() - c->last_qmp_ns >= DISCOVERY_PERIOD_NS)
			qmp_register(c);
		t = src_now(c);
		if (t < end)
			wait_tick(c, (end - t) / 1000000 < TICK_MS ? (int)((end - t) / 1000000) + 1 : TICK_MS);
	}
	t0 = now_ns();
	ret = tick(c);
	if (ret)
		goto read_failed;
	source_done(out, c->src.name, true, t0);

	t0 = now_ns();
	if (c->src.ops->host_state)
		c->src.ops->host_state(&c->src, &out->host);
	else
		host_state_read("", &out->host);
	/* KSM and THP (sysfs) and MemTotal: what the host families are made of */
	source_done(out, "sysfs", out->host.ksm.present && out->host.thp.present &&
		    out->host.mem.mem_total_kb.present, t0);
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
	for (int i = 0; i < VMMEM_MAX_VMS; i++)
		n += c->key[i].used;
	out->vms = calloc(n ? n : 1, sizeof(*out->vms));
	if (!out->vms) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	thp = c->src.ops->vm_info ? NULL : thp_due(c);
	n = 0;
	proc_ok = true;
	t0 = now_ns();
	for (int i = 0; i < VMMEM_MAX_VMS; i++) {
		struct core_vm *v = &c->vms[i];

		if (!c->key[i].used)
			continue;
		fill_vm(c, v, &out->vms[n++], v == thp);
		if (!out->vms[n - 1].exited && !out->vms[n - 1].info.rss_kb.present)
			proc_ok = false;	/* its /proc/PID/status could not be read */
		v->prev = v->last.counters;
		v->prev_hists = v->last.hists;
		if (out->vms[n - 1].exited) {
			c->src.ops->reap(&c->src, v->tgid, v->seq);
			vm_release(c, v);
		}
	}
	out->nr_vms = n;
	c->nr_vms_last = n;
	if (n > c->nr_vms_high)
		c->nr_vms_high = n;
	if (!c->src.ops->vm_info)	/* a recording carries its VMs' /proc values */
		source_done(out, "proc", proc_ok, t0);
	if (c->qmp) {
		struct source_status *q = &out->sources[SNAP_SRC_qmp];

		q->used = true;
		if (!qmp_poll_round(c->qmp, &q->seconds, &q->ok))
			q->ok = false;	/* no round finished yet */
	}
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
	for (int i = 0; i < VMMEM_MAX_VMS; i++)
		if (c->key[i].used)
			vm_release(c, &c->vms[i]);
	vmm_scan_cache_free(c->scan);
	qmp_poll_free(c->qmp);
	libvirt_poll_free(c->libvirt);
	ws_monitor_free(c->ws);		/* its kdamonds off and removed */
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
