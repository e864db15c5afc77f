// SPDX-License-Identifier: MIT
/* `vmmemtop record`: a view that writes what the core delivers (event records, and a counter
 * sample every interval) to a recording file (record_writer.c). Ctrl-C, SIGTERM or the end of
 * --duration finish the last interval, drain the ring once more and write the end marker. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "core.h"
#include "events.h"
#include "record_writer.h"
#include "vmm_info.h"

#define THREAD_SLOTS	8192	/* vCPU threads named per recording (a power of 2) */

struct recorder {
	struct rec_writer *w;
	int err;			/* first write error */
	uint64_t thread_seen[THREAD_SLOTS];	/* tgid << 32 | tid, 0 = empty */
	int nr_threads;
};

static void name_thread(struct recorder *rc, const struct vmmem_event *ev, uint32_t tid)
{
	uint64_t key = (uint64_t)ev->tgid << 32 | tid;
	uint32_t h = (uint32_t)(key * 0x9e3779b97f4a7c15ull >> 40) & (THREAD_SLOTS - 1);
	char path[64], comm[32];
	ssize_t n;

	/* ksmd merges, ksm scans and exits happen on threads that are not the VM's vCPUs */
	if (!ev->tgid || !tid || ev->type == VMMEM_EV_ksm_merge || ev->type == VMMEM_EV_ksm_scan ||
	    rc->nr_threads >= THREAD_SLOTS / 2)
		return;
	for (;;) {
		if (rc->thread_seen[h] == key)
			return;
		if (!rc->thread_seen[h])
			break;
		h = (h + 1) & (THREAD_SLOTS - 1);
	}
	rc->thread_seen[h] = key;
	rc->nr_threads++;
	snprintf(path, sizeof(path), "/proc/%u/task/%u/comm", ev->tgid, tid);
	n = read_small_file(path, comm, sizeof(comm));
	if (n <= 0)
		return;		/* gone already: the report shows the tid alone */
	comm[strcspn(comm, "\n")] = 0;
	if (!rc->err)
		rc->err = rec_writer_thread(rc->w, ev->tgid, tid, comm);
}

static void on_event(void *ctx, const struct vmmem_event *ev)
{
	struct recorder *rc = ctx;

	if (rc->err || !rc->w)
		return;
	name_thread(rc, ev, ev->tid);
	/* a slow IPI's record runs in its target; b is the vCPU thread that sent it */
	if (ev->type == VMMEM_EV_slow_ipi && ev->b <= UINT32_MAX)
		name_thread(rc, ev, (uint32_t)ev->b);
	if (!rc->err)
		rc->err = rec_writer_event(rc->w, ev);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Opened before the backend loads, so a bad path fails at once; emptied only once the backend
 * runs, so a failed start leaves an existing file as it was (and removes one it created). */
static int open_output(const char *path, int *fd, bool *created)
{
	*created = false;
	if (!strcmp(path, "-")) {
		if (isatty(STDOUT_FILENO)) {
			cli_error("will not write a binary recording to a terminal: use -o FILE or redirect stdout");
			return EXIT_USAGE;
		}
		*fd = STDOUT_FILENO;
		return 0;
	}
	*fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (*fd >= 0) {
		*created = true;
		return 0;
	}
	if (errno == EEXIST)
		*fd = open(path, O_WRONLY | O_CLOEXEC);
	if (*fd < 0) {
		cli_error("cannot create %s: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	return 0;
}

static int start_writer(struct recorder *rc, int fd, struct collector *c, uint64_t mask, uint64_t slow_ns,
			double interval_s, int level)
{
	char events[256], slow[32], interval[32], mono[32], wall[32], wall_iso[64], ev_mask[32];
	struct utsname u;
	struct tm tm;
	time_t now = time(NULL);
	uint64_t m = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME);

	if (uname(&u))
		memset(&u, 0, sizeof(u));
	event_mask_format(mask, events, sizeof(events));
	snprintf(ev_mask, sizeof(ev_mask), "%llu", (unsigned long long)mask);
	snprintf(slow, sizeof(slow), "%llu", (unsigned long long)slow_ns);
	snprintf(interval, sizeof(interval), "%g", interval_s);
	snprintf(mono, sizeof(mono), "%llu", (unsigned long long)m);
	snprintf(wall, sizeof(wall), "%llu", (unsigned long long)r);
	strftime(wall_iso, sizeof(wall_iso), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&now, &tm));
	{
		/* the pair (start_monotonic_ns, start_realtime_ns) turns event times into wall time */
		const struct rec_kv meta[] = {
			{ "host", u.nodename }, { "kernel", u.release }, { "machine", u.machine },
			{ "vmmemtop", VMMEM_VERSION }, { "backend", collector_backend(c) },
			{ "events", events }, { "event_mask", ev_mask }, { "slow_event_ns", slow },
			{ "interval_s", interval }, { "clock", "CLOCK_MONOTONIC" },
			{ "start_monotonic_ns", mono }, { "start_realtime_ns", wall }, { "start", wall_iso },
		};

		return rec_writer_open(&rc->w, fd, meta, sizeof(meta) / sizeof(meta[0]), level);
	}
}

struct record_own {
	const char *out;
	double duration, slow_us;
	uint64_t mask;
	long level;
};

static void record_init(struct cli_args *a, void *own)
{
	struct record_own *r = own;

	(void)a;
	r->slow_us = 1000;
	r->mask = VMMEM_EV_RARE_MASK;
	r->level = 1;
}

static int set_events(struct cli_args *a, void *own, const char *arg)
{
	char err[256];

	(void)a;
	if (event_mask_parse(arg, &((struct record_own *)own)->mask, err, sizeof(err))) {
		cli_error("bad --events: %s", err);
		return EXIT_USAGE;
	}
	return 0;
}

static int record_run(struct cli_args *a, void *own)
{
	const struct record_own *r = own;
	static struct recorder rc;
	struct core_options copt = a->core;
	const char *out = r->out;
	double duration = r->duration, interval = a->interval_s;
	uint64_t mask = r->mask, dropped = 0, start, samples = 0;
	struct rec_writer_stats st;
	char err[512];
	struct collector *c;
	int fd, ret, rc_exit = EXIT_OK, nr_vms = 0;
	bool created;

	copt.on_event = on_event;
	copt.event_ctx = &rc;
	if (!out) {
		cli_error("record needs -o FILE (see --help)");
		return EXIT_USAGE;
	}
	if (!strncmp(copt.backend, "replay:", 7)) {
		cli_error("record needs a live backend (bpf, kmod or auto), not a recording");
		return EXIT_USAGE;
	}
	if (!mask) {
		cli_error("bad --events: nothing to record ('none' alone); the counters need no recording: "
			  "use vmmemtop snapshot");
		return EXIT_USAGE;
	}
	copt.stream_mask = mask;
	copt.slow_ns = (uint64_t)(r->slow_us * 1000);

	ret = open_output(out, &fd, &created);
	if (ret)
		return ret;
	ret = collector_open(&c, &(struct collector_options){ .core = copt, .interval_s = interval }, err, sizeof(err));
	if (ret) {
		cli_error("%s", err);
		if (fd != STDOUT_FILENO) {
			close(fd);
			if (created)
				unlink(out);
		}
		return EXIT_RUNTIME;
	}
	if (fd != STDOUT_FILENO && ftruncate(fd, 0)) {
		cli_error("cannot write %s: %s", out, strerror(errno));
		close(fd);
		collector_stop(c);
		return EXIT_RUNTIME;
	}
	ret = start_writer(&rc, fd, c, mask, copt.slow_ns, interval, (int)r->level);
	if (ret) {
		cli_error("cannot write %s: %s", out, strerror(-ret));
		goto out_close;
	}
	cli_install_signals();
	event_mask_format(mask, err, sizeof(err));
	fprintf(stderr, "vmmemtop: recording to %s (events: %s; backend %s)%s\n", out, err, collector_backend(c),
		duration > 0 ? "" : "; Ctrl-C stops");
	start = clock_ns(CLOCK_MONOTONIC);
	for (;;) {
		double left = duration > 0 ? duration - (clock_ns(CLOCK_MONOTONIC) - start) / 1e9 : interval;
		struct snapshot s;

		if (left <= 0.0005)
			break;
		ret = collector_next(c, left < interval ? left : interval, &cli_stop, &s, err, sizeof(err));
		if (ret) {
			cli_error("%s", err);
			rc_exit = EXIT_RUNTIME;
			break;
		}
		dropped += s.host_delta.c[VMMEM_H_dropped_events];
		nr_vms = s.nr_vms > nr_vms ? s.nr_vms : nr_vms;
		if (!rc.err)
			rc.err = rec_writer_sample(rc.w, &s);
		/* a sample closes a chunk: a crash loses at most one interval */
		if (!rc.err)
			rc.err = rec_writer_flush(rc.w);
		samples++;
		snapshot_free(&s);
		if (rc.err || cli_stop)
			break;
	}
	/* records submitted before the last counter read may still sit in the ring */
	if (!rc.err && rc_exit == EXIT_OK)
		collector_drain_events(c);
	if (!rc.err)
		rc.err = rec_writer_finish(rc.w, clock_ns(CLOCK_MONOTONIC));
	rec_writer_stats(rc.w, &st);
	if (rc.err) {
		cli_error("cannot write %s: %s; the recording stops here (its %llu complete chunks are readable)",
			  out, strerror(-rc.err), (unsigned long long)st.chunks);
		rc_exit = EXIT_RUNTIME;
	} else {
		fprintf(stderr, "vmmemtop: recorded %llu events (%llu lost: ring full) and %llu samples of up to %d VMs "
			"in %.1f s to %s: %llu bytes, %.1f bytes/event\n", (unsigned long long)st.events,
			(unsigned long long)dropped, (unsigned long long)samples, nr_vms,
			(clock_ns(CLOCK_MONOTONIC) - start) / 1e9, out, (unsigned long long)st.file_bytes,
			st.events ? (double)st.file_bytes / st.events : 0.0);
	}
	ret = 0;
out_close:
	rec_writer_free(rc.w);
	rc.w = NULL;
	if (fd != STDOUT_FILENO && close(fd) && !ret && rc_exit == EXIT_OK) {
		cli_error("cannot write %s: %s", out, strerror(errno));
		rc_exit = EXIT_RUNTIME;
	}
	collector_stop(c);
	return ret ? EXIT_RUNTIME : rc_exit;
}

static const struct cli_opt opt_output = { "output", 'o', "FILE", CLI_STRING, true, offsetof(struct record_own, out),
	.help = "where to write ('-': stdout, when it is not a terminal)\n" };
/* no short form: -d is --delay, the same as -i */
static const struct cli_opt opt_duration = { "duration", 0, "SECS", CLI_DOUBLE, true,
	offsetof(struct record_own, duration), 0.1, 31 * 86400,
	.help = "stop after SECS seconds (default: until Ctrl-C or SIGTERM)\n" };
static const struct cli_opt opt_events = { "events", 'e', "LIST", CLI_CALL, .call = set_events,
	.help = "event types, comma-separated (default: default): ksm_scan, balloon, vm_start,\n"
		"vm_exit, slow_fault, slow_exit, tdp_fault, exit, tlb_shootdown, ksm_merge, slow_ipi,\n"
		"flush_recv; 'default' = the first six and slow_ipi (the rare ones), 'all' = every type;\n"
		"tdp_fault, exit, tlb_shootdown, ksm_merge and flush_recv make one record per fault, exit,\n"
		"shootdown, merged page or KVM TLB flush received (with the task that caused it)\n" };
static const struct cli_opt opt_slow = { "slow-us", 'S', "US", CLI_DOUBLE, true, offsetof(struct record_own, slow_us),
	1, 60e6, .help = "slow_fault/slow_exit/slow_ipi threshold in microseconds (default 1000)\n" };
static const struct cli_opt opt_level = { "level", 'L', "N", CLI_LONG, true, offsetof(struct record_own, level),
	1, 9, .help = "zlib level 1 (fastest, default) .. 9 (smallest)\n" };

const struct cli_command cmd_record = {
	.name = "record",
	.summary = "write event records and counter samples to a file",
	.required = "--output FILE",
	.about = "Stream the kernel side's event records of every VM into FILE (zlib-compressed chunks with\n"
		 "checksums; a file cut short still reads up to the cut), with a sample of every counter and\n"
		 "latency histogram each interval (default 1 s), the VM table, vCPU thread names and the\n"
		 "records the ring had to drop. Ctrl-C (or SIGTERM) ends the recording cleanly. Read it back\n"
		 "with `vmmemtop report FILE` or `vmmemtop replay FILE`.\n",
	.opts = CLI_OPTS(&opt_output, &opt_duration, &opt_events, &cli_opt_interval, &opt_slow,
			 &opt_level, CLI_LIVE_OPTS),
	.after = "exit status: 0 recorded, 1 runtime failure (backend, file), 2 usage error\n"
		 "\n"
		 "examples:\n"
		 "  vmmemtop record -o vm.rec --duration 60\n"
		 "  vmmemtop record -o faults.rec --events default,tdp_fault,exit --slow-us 200\n"
		 "  vmmemtop report faults.rec\n",
	.own_size = sizeof(struct record_own),
	.init = record_init,
	.run = record_run,
};
