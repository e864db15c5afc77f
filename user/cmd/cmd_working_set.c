// SPDX-License-Identifier: MIT
/* `vmmemtop working-set`: each VMM's working set from the host, through kdamonds of vmmem's own
 * (damon_sysfs.c), printed every interval; unavailable, with the reason, wherever DAMON is
 * absent, lacks virtual-address operations, or runs kdamonds vmmem did not set up. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "commands.h"
#include "vmm_info.h"
#include "working_set.h"

#define MAX_PIDS 64

struct ws_run {
	int n;
	pid_t pids[MAX_PIDS];
	struct vmm_info info[MAX_PIDS];
	struct ws_vm vm[MAX_PIDS];
	double window_s, interval_s;
	long count;
	bool json;
	const char *why;		/* DAMON unusable: the reason for every VM */
	struct damon_attrs attrs;
};

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* utime + stime of a (kernel) thread from /proc/PID/stat, seconds; NAN if unreadable */
static double thread_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	uint64_t ut, st;

	if (pid <= 0)
		return NAN;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0 || proc_stat_field(buf, 14, &ut) ||
	    proc_stat_field(buf, 15, &st))
		return NAN;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static void print_json(const struct ws_run *r, double elapsed_s)
{
	json_t *vms = json_array(), *o;

	for (int i = 0; i < r->n; i++) {
		const struct ws_vm *v = &r->vm[i];
		json_t *j = json_pack("{s:i,s:s}", "pid", (int)r->pids[i], "name", r->info[i].name);

		json_object_set_new(j, "working_set_bytes", v->available ?
				    json_integer((json_int_t)v->working_set_bytes) : json_null());
		json_object_set_new(j, "hot_bytes", r->why ? json_null() : json_integer((json_int_t)v->hot_bytes));
		json_object_set_new(j, "warm_bytes", r->why ? json_null() : json_integer((json_int_t)v->warm_bytes));
		json_object_set_new(j, "cold_bytes", r->why ? json_null() : json_integer((json_int_t)v->cold_bytes));
		json_object_set_new(j, "reason", v->available ? json_null() : json_string(v->why));
		json_object_set_new(j, "kdamond_pid", v->kdamond_pid > 0 ? json_integer(v->kdamond_pid) : json_null());
		json_object_set_new(j, "kdamond_cpu_seconds", isnan(v->kdamond_cpu_s) ? json_null() :
				    json_real(round(v->kdamond_cpu_s * 1000) / 1000));
		json_array_append_new(vms, j);
	}
	o = json_pack("{s:s,s:I,s:f,s:f,s:b,s:o}", "schema", WS_SCHEMA, "time", (json_int_t)time(NULL),
		      "window_s", r->window_s, "monitored_s", round(elapsed_s * 10) / 10,
		      "available", !r->why, "vms", vms);
	json_object_set_new(o, "reason", r->why ? json_string(r->why) : json_null());
	{
		struct timespec t;

		/* this process's own CPU: the sysfs reads and writes, per interval */
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
		json_object_set_new(o, "cpu_seconds", json_real(round((t.tv_sec + t.tv_nsec / 1e9) * 1000) / 1000));
	}
	if (!r->why)
		json_object_set_new(o, "damon", json_pack("{s:I,s:I,s:I,s:I,s:I}",
			"sample_us", (json_int_t)r->attrs.sample_us, "aggr_us", (json_int_t)r->attrs.aggr_us,
			"min_regions", (json_int_t)r->attrs.min_regions,
			"max_regions", (json_int_t)r->attrs.max_regions,
			"warm_max_age", (json_int_t)r->attrs.warm_max_age));
	json_dumpf(o, stdout, JSON_COMPACT);
	putchar('\n');
	fflush(stdout);
	json_decref(o);
}

static void print_text(const struct ws_run *r)
{
	const double M = 1 << 20;

	printf("%8s %-20s %12s %12s %12s  %s\n", "PID", "NAME", "WORKING-SET", "HOT", "WARM", "NOTE");
	for (int i = 0; i < r->n; i++) {
		const struct ws_vm *v = &r->vm[i];

		if (v->available)
			printf("%8d %-20.20s %10.1fMi %10.1fMi %10.1fMi\n", (int)r->pids[i], r->info[i].name,
			       v->working_set_bytes / M, v->hot_bytes / M, v->warm_bytes / M);
		else
			printf("%8d %-20.20s %12s %12s %12s  %s\n", (int)r->pids[i], r->info[i].name,
			       "-", "-", "-", v->why);
	}
	fflush(stdout);
}

static void emit(const struct ws_run *r, double elapsed_s)
{
	if (r->json)
		print_json(r, elapsed_s);
	else
		print_text(r);
}

/* Sleep until t (monotonic seconds) or a signal. */
static void sleep_until(double t)
{
	while (!cli_stop) {
		double left = t - mono_s();

		if (left <= 0)
			return;
		if (left > 0.2)
			left = 0.2;
		nanosleep(&(struct timespec){ .tv_sec = (time_t)left,
					      .tv_nsec = (long)((left - (time_t)left) * 1e9) }, NULL);
	}
}

struct ws_own {
	double window_s;
};

static void ws_init(struct cli_args *a, void *own)
{
	a->interval_s = 5;
	((struct ws_own *)own)->window_s = WS_WINDOW_DEFAULT_S;
}

static int ws_run(struct cli_args *a, void *own)
{
	static struct ws_run r;
	struct damon_session *s = NULL;
	static char why[320];
	double t0, next;
	long printed = 0;
	int ret;

	memset(&r, 0, sizeof(r));
	r.window_s = ((struct ws_own *)own)->window_s;
	r.interval_s = a->interval_s < 0.5 ? 0.5 : a->interval_s;
	r.count = a->count;
	r.json = a->json;
	if (a->nr_pids > MAX_PIDS) {
		cli_error("too many --pid options (at most %d)", MAX_PIDS);
		return EXIT_USAGE;
	}
	r.n = a->nr_pids;
	memcpy(r.pids, a->pids, sizeof(*r.pids) * r.n);
	if (!r.n && (r.n = cli_all_vmms(r.pids, MAX_PIDS)) < 0)
		return EXIT_RUNTIME;
	for (int i = 0; i < r.n; i++) {
		if (vmm_info_read("/proc", r.pids[i], &r.info[i], false)) {
			cli_error("pid %d: no such process", (int)r.pids[i]);
			return EXIT_RUNTIME;
		}
		r.vm[i].pid = r.pids[i];
		r.vm[i].kdamond_cpu_s = NAN;
	}
	ws_attrs(r.window_s, &r.attrs);
	if (!r.n) {
		emit(&r, 0);
		return EXIT_OK;
	}
	cli_install_signals();
	ret = damon_session_start(DAMON_SYSFS_ROOT, r.pids, r.n, &r.attrs, &s, why, sizeof(why));
	if (ret) {
		/* unavailable, not an error of the command: say why, once, for every VM */
		fprintf(stderr, "vmmemtop: working set unavailable: %s\n", why);
		r.why = why;
		for (int i = 0; i < r.n; i++)
			snprintf(r.vm[i].why, sizeof(r.vm[i].why), "%s", why);
		emit(&r, 0);
		return EXIT_OK;
	}
	for (int i = 0; i < r.n; i++)
		r.vm[i].kdamond_pid = damon_session_kdamond_pid(s, i);
	t0 = mono_s();
	next = t0 + r.interval_s;
	while (!cli_stop && (r.count <= 0 || printed < r.count)) {
		sleep_until(next);
		if (cli_stop)
			break;
		for (int i = 0; i < r.n; i++) {
			uint64_t bytes[DAMON_NR_SCHEMES] = { 0 };
			int err = damon_session_read(s, i, bytes);

			ws_vm_fill(&r.vm[i], err, bytes, mono_s() - t0, r.window_s);
			r.vm[i].kdamond_cpu_s = thread_cpu_s(r.vm[i].kdamond_pid);
		}
		emit(&r, mono_s() - t0);
		printed++;
		next += r.interval_s;
		if (next < mono_s())
			next = mono_s() + r.interval_s;
	}
	damon_session_stop(s);
	return EXIT_OK;
}

static const struct cli_opt opt_window = { "window", 0, "SECS", CLI_DOUBLE, true, offsetof(struct ws_own, window_s),
	2, 3600, .help = "the window: a region counts while it was accessed within it (default 30,\n"
			 "2 to 3600); the first figure comes two windows after the start\n" };

const struct cli_command cmd_working_set = {
	.name = "working-set",
	.summary = "each VM's working set from the host, through DAMON (root)",
	.about = "Each VMM's working set from the host, with no guest agent: the bytes of its address space\n"
		 "accessed within the last window, measured by DAMON's virtual-address monitoring (one\n"
		 "kdamond per VMM; KVM passes DAMON's accessed-bit checks to EPT/NPT, so guest accesses\n"
		 "count). The first figure comes two windows after the start; a line every --interval\n"
		 "(default 5 s here; a reading waits for DAMON's next aggregation).\n"
		 "DAMON is used only where its sysfs interface holds no kdamond at all: kdamonds that\n"
		 "something else set up are never touched (writing nr_kdamonds would tear them down), and\n"
		 "the figure is then unavailable (null), with the reason. Needs root (sysfs writes).\n"
		 "Cost: each kdamond samples every 200 ms, 100 to 1000 regions (see make bench).\n"
		 "--pid: the VMMs to monitor (default: every VMM found). JSON: one object per line, schema\n"
		 WS_SCHEMA ".\n",
	.opts = CLI_OPTS(&cli_opt_pid, &opt_window, &cli_opt_interval, &cli_opt_count, &cli_opt_json),
	.after = "exit status: 0 printed (figures may be unavailable), 1 runtime failure, 2 usage error\n"
		 "\n"
		 "examples:\n"
		 "  sudo vmmemtop working-set\n"
		 "  sudo vmmemtop working-set --pid 4242 --window 60 --json -n 1\n",
	.own_size = sizeof(struct ws_own),
	.init = ws_init,
	.run = ws_run,
};
