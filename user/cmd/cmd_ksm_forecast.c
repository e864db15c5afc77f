// SPDX-License-Identifier: MIT
/* `vmmemtop ksm-forecast`: what KSM would save if it ran to convergence, measured by hashing
 * every resident mergeable page of each VMM, before KSM is turned on. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "cli.h"
#include "commands.h"
#include "ksm_forecast.h"
#include "ksm_forecast_file.h"
#include "ksm_scan.h"
#include "vmm_info.h"

#define PAGE			4096u
#define RATE_DEFAULT_MIB	100	/* measured: ~5 % of one CPU here (README, make bench) */
#define MAX_PIDS		KF_MAX_VMS

static unsigned int read_max_page_sharing(void)
{
	char buf[32] = "";
	FILE *f = fopen("/sys/kernel/mm/ksm/max_page_sharing", "re");
	long v = 0;

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			v = strtol(buf, NULL, 10);
		fclose(f);
	}
	return v >= 2 && v < (1L << 30) ? (unsigned int)v : 256;
}

static json_t *result_json(const struct kf_result *r)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"thp_zero_bytes", (json_int_t)(r->thp_zero * PAGE), "freed_bytes", (json_int_t)(r->freed * PAGE),
		"scanned_bytes", (json_int_t)(r->scanned * PAGE), "zero_bytes", (json_int_t)(r->zero * PAGE),
		"dup_within_bytes", (json_int_t)(r->dup_within * PAGE),
		"dup_across_bytes", (json_int_t)(r->dup_across * PAGE),
		"saved_bytes", (json_int_t)(r->saved * PAGE),
		"saved_bytes_use_zero_pages", (json_int_t)(r->saved_uzp * PAGE));
}

static double r3(double v)
{
	return round(v * 1000) / 1000;
}

struct run {
	int n;
	pid_t pids[MAX_PIDS];
	struct vmm_info info[MAX_PIDS];
	struct ksm_scan_vm scan[MAX_PIDS];
	struct kf_result res[MAX_PIDS];
	struct kf_result host;
	double rate_mib, seconds, cpu_seconds;
	uint64_t table_bytes;
	unsigned int mps;
	bool all_anon;
};

static json_t *run_json(const struct run *r)
{
	json_t *vms = json_array(), *host = result_json(&r->host), *o;
	uint64_t swapped = 0, zmap = 0, unm = 0;

	for (int i = 0; i < r->n; i++) {
		json_t *v = result_json(&r->res[i]);

		json_object_set_new(v, "pid", json_integer(r->pids[i]));
		json_object_set_new(v, "name", json_string(r->info[i].name));
		json_object_set_new(v, "swapped_bytes", json_integer(r->scan[i].swapped_pages * PAGE));
		json_object_set_new(v, "zero_page_mapped_bytes", json_integer(r->scan[i].zero_mapped_pages * PAGE));
		json_object_set_new(v, "unmergeable_anon_bytes", json_integer(r->scan[i].unmergeable_anon_kb * 1024));
		json_object_set_new(v, "seconds", json_real(r3(r->scan[i].seconds)));
		json_object_set_new(v, "cpu_seconds", json_real(r3(r->scan[i].cpu_seconds)));
		json_array_append_new(vms, v);
		swapped += r->scan[i].swapped_pages * PAGE;
		zmap += r->scan[i].zero_mapped_pages * PAGE;
		unm += r->scan[i].unmergeable_anon_kb * 1024;
	}
	json_object_set_new(host, "vms", json_integer(r->n));
	json_object_set_new(host, "swapped_bytes", json_integer(swapped));
	json_object_set_new(host, "zero_page_mapped_bytes", json_integer(zmap));
	json_object_set_new(host, "unmergeable_anon_bytes", json_integer(unm));
	json_object_set_new(host, "seconds", json_real(r3(r->seconds)));
	json_object_set_new(host, "cpu_seconds", json_real(r3(r->cpu_seconds)));
	json_object_set_new(host, "memory_bytes", json_integer(r->table_bytes));
	o = json_pack("{s:s,s:I,s:i,s:b,s:b,s:s,s:i,s:f,s:o,s:o}", "schema", KF_SCHEMA,
		      "time", (json_int_t)time(NULL), "page_size", PAGE,
		      "mergeable_only", !r->all_anon, "thp_split_frees_zero", ksm_thp_split_frees_zero(),
		      "note", r->all_anon ?
		      "every private anonymous area counted (as prctl PR_SET_MEMORY_MERGE would merge)" :
		      "only MADV_MERGEABLE areas counted: KSM merges nothing else",
		      "max_page_sharing", r->mps, "rate_mib_per_s", r->rate_mib,
		      "host", host, "vms", vms);
	return o;
}

static void print_text(const struct run *r)
{
	const double G = 1 << 30;

	printf("KSM forecast (%s; max_page_sharing %u)\n", r->all_anon ?
	       "every private anonymous area" : "MADV_MERGEABLE areas only, as KSM merges", r->mps);
	printf("%8s %-20s %10s %10s %10s %10s %10s %10s\n", "PID", "NAME", "SCANNED", "ZERO",
	       "DUP-IN", "DUP-ACROSS", "SAVED", "SAVED-UZP");
	for (int i = 0; i < r->n; i++) {
		const struct kf_result *x = &r->res[i];

		printf("%8d %-20.20s %8.2fGi %8.2fGi %8.2fGi %8.2fGi %8.2fGi %8.2fGi\n", (int)r->pids[i],
		       r->info[i].name, x->scanned * PAGE / G, x->zero * PAGE / G, x->dup_within * PAGE / G,
		       x->dup_across * PAGE / G, x->saved * PAGE / G, x->saved_uzp * PAGE / G);
	}
	printf("%8s %-20s %8.2fGi %8.2fGi %8.2fGi %8.2fGi %8.2fGi %8.2fGi\n", "", "host",
	       r->host.scanned * PAGE / G, r->host.zero * PAGE / G, r->host.dup_within * PAGE / G,
	       r->host.dup_across * PAGE / G, r->host.saved * PAGE / G, r->host.saved_uzp * PAGE / G);
	printf("KSM would save %.2f GiB across %d VMs (use_zero_pages=1: %.2f GiB); "
	       "scan took %.1f s, %.2f s CPU, %.0f MiB of keys\n", r->host.saved * PAGE / G, r->n,
	       r->host.saved_uzp * PAGE / G, r->seconds, r->cpu_seconds, r->table_bytes / 1048576.0);
}

static double process_cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

struct forecast_own {
	double rate_mib;
	bool all_anon;
	const char *save;		/* NULL: --no-save */
};

static void forecast_init(struct cli_args *a, void *own)
{
	struct forecast_own *f = own;

	(void)a;
	f->rate_mib = RATE_DEFAULT_MIB;
	f->save = KF_DEFAULT_PATH;
}

static int forecast_run(struct cli_args *a, void *own)
{
	const struct forecast_own *f = own;
	static struct run r;
	static uint64_t zero[MAX_PIDS], thp_zero[MAX_PIDS], pages[MAX_PIDS];
	const char *save = f->save;
	struct ksm_keys keys = { 0 };
	struct ksm_rate rate;
	bool json = a->json;
	double t0, c0;
	uint64_t seed;
	char err[512];
	int ret;

	memset(&r, 0, sizeof(r));
	r.rate_mib = f->rate_mib;
	r.all_anon = f->all_anon;
	r.n = a->nr_pids < MAX_PIDS ? a->nr_pids : MAX_PIDS;
	memcpy(r.pids, a->pids, sizeof(*r.pids) * r.n);
	if (geteuid() != 0) {
		cli_error("ksm-forecast needs root: it reads other processes' memory (ptrace access) "
			  "and page frame numbers (see --help)");
		return EXIT_RUNTIME;
	}
	if (!r.n && (r.n = cli_all_vmms(r.pids, MAX_PIDS)) < 0)
		return EXIT_RUNTIME;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	r.mps = read_max_page_sharing();
	t0 = ksm_now();
	c0 = process_cpu();
	rate = (struct ksm_rate){ .bytes_per_s = r.rate_mib * 1048576, .start_s = t0 };
	for (int i = 0; i < r.n; i++) {
		if (vmm_info_read("/proc", r.pids[i], &r.info[i], false)) {
			cli_error("pid %d: no such process", (int)r.pids[i]);
			free(keys.v);
			return EXIT_RUNTIME;
		}
		ret = ksm_scan_vm(r.pids[i], i, r.all_anon, seed, &keys, &rate, &r.scan[i], err, sizeof(err));
		if (ret) {
			cli_error("%s", err);
			free(keys.v);
			return EXIT_RUNTIME;
		}
		zero[i] = r.scan[i].zero_pages - r.scan[i].thp_zero_pages;
		thp_zero[i] = r.scan[i].thp_zero_pages;
		pages[i] = r.scan[i].scanned_pages;
	}
	r.table_bytes = keys.cap * sizeof(*keys.v);
	ret = ksm_forecast_count(keys.v, keys.n, zero, thp_zero, pages, r.n, r.mps, r.res, &r.host);
	free(keys.v);
	seed = 0;
	if (ret) {
		cli_error("forecast: internal error %s", strerror(-ret));
		return EXIT_RUNTIME;
	}
	r.seconds = ksm_now() - t0;
	r.cpu_seconds = process_cpu() - c0;
	{
		json_t *o = run_json(&r);

		if (json) {
			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
		} else {
			print_text(&r);
		}
		if (save && (ret = ksm_forecast_file_write(save, o)))
			cli_error("cannot save the forecast to %s: %s", save, strerror(-ret));
		json_decref(o);
	}
	return ret ? EXIT_RUNTIME : EXIT_OK;
}

static int no_save(struct cli_args *a, void *own, const char *arg)
{
	(void)a;
	(void)arg;
	((struct forecast_own *)own)->save = NULL;
	return 0;
}

#define STR(x)		#x
#define XSTR(x)		STR(x)

static const struct cli_opt opt_rate = { "rate", 0, "MIB", CLI_DOUBLE, true, offsetof(struct forecast_own, rate_mib),
	0, 1e6, .help = "read at most MIB MiB/s (default " XSTR(RATE_DEFAULT_MIB) ": a few % of one CPU;\n"
			"0 = unlimited)\n" };
static const struct cli_opt opt_all_anon = { "all-anon", 0, NULL, CLI_FLAG, true,
	offsetof(struct forecast_own, all_anon),
	.help = "count every private anonymous area, not only mergeable ones\n" };
static const struct cli_opt opt_save = { "save", 0, "FILE", CLI_STRING, true, offsetof(struct forecast_own, save),
	.help = "also write the JSON (totals only) for the advisor (default\n" KF_DEFAULT_PATH ")\n" };
static const struct cli_opt opt_no_save = { "no-save", 0, NULL, CLI_CALL, .call = no_save,
	.help = "write no file\n" };

const struct cli_command cmd_ksm_forecast = {
	.name = "ksm-forecast",
	.summary = "what KSM would save, from hashing each VM's resident pages (root)",
	.about = "Forecast what KSM would save once converged, before turning it on: reads each VMM's\n"
		 "resident guest RAM (pages /proc/PID/pagemap says are present; swapped and unmapped memory\n"
		 "is never touched or faulted in), hashes every page and counts zero pages, duplicates within\n"
		 "one VM and duplicates across VMs. saved_bytes is what pages_sharing x 4096 reaches with\n"
		 "use_zero_pages=0; saved_bytes_use_zero_pages the figure with use_zero_pages=1.\n"
		 "Only MADV_MERGEABLE areas (smaps VmFlags \"mg\") count, as KSM merges only those; QEMU\n"
		 "marks guest RAM mergeable by default (-machine mem-merge=on). --all-anon counts every\n"
		 "private anonymous area, as prctl(PR_SET_MEMORY_MERGE) would make them.\n"
		 "\n"
		 "Needs root: reading another process's memory needs ptrace access (process_vm_readv), and\n"
		 "telling the kernel's zero page from a zero-filled page needs page frame numbers from\n"
		 "/proc/PID/pagemap and /proc/kpageflags, which only CAP_SYS_ADMIN sees.\n"
		 "Privacy: page contents and their hashes stay in this process's memory (hashes are seeded\n"
		 "at random per run) and are never written anywhere; only the totals are printed or saved.\n"
		 "Memory: 8 bytes per scanned non-zero page (12 at most; a 64 GiB guest: 128-192 MiB), freed\n"
		 "at exit. --pid: the VMMs to scan (default: every VMM found). JSON: schema " KF_SCHEMA ".\n",
	.opts = CLI_OPTS(&cli_opt_pid, &opt_rate, &opt_all_anon, &cli_opt_json, &opt_save, &opt_no_save),
	.after = "exit status: 0 forecast printed, 1 runtime failure (a VMM could not be read), 2 usage error\n"
		 "\n"
		 "examples:\n"
		 "  sudo vmmemtop ksm-forecast\n"
		 "  sudo vmmemtop ksm-forecast --pid 4242 --pid 4243 --rate 400 --json | jq .host.saved_bytes\n",
	.own_size = sizeof(struct forecast_own),
	.init = forecast_init,
	.run = forecast_run,
};
