// SPDX-License-Identifier: MIT
/* `vmmemtop export`: serve /metrics, keep a node_exporter textfile, or stream JSON lines.
 * The backend is loaded first (as root), then privileges may be dropped (--user), and only
 * then the sampling thread starts: it inherits the reduced credentials. That order is why
 * this command runs its own small sampling thread instead of collector_start(), which
 * creates its thread while the process still holds every capability. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "advise.h"
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "core.h"
#include "export.h"
#include "snapshot_json.h"
#include "web_config.h"

/* Defaults of the --web.* limits. A request in flight can pin one exposition (~12 MB at
 * 1000 VMs, more with its gzip copy), so max-requests also bounds that memory. */
#define HTTP_DEF_MAX_REQUESTS		16
#define HTTP_DEF_MAX_CONNECTIONS	4096
#define HTTP_DEF_MAX_PER_IP		32
#define HTTP_DEF_TIMEOUT_S		15

enum export_mode { MODE_NONE, MODE_LISTEN, MODE_TEXTFILE, MODE_JSON };

struct export_opts {
	enum export_mode mode;
	const char *listen;
	const char *textfile;
	const char *user;
	const char *web_config_file;
	struct export_http_opts http;
	double interval_s;
	long synthetic_vms;		/* test only: fake VMs, no backend */
	struct core_options core;
};

/* The sampling thread and the last complete snapshot it published. */
struct feed {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct snapshot latest;
	bool have_latest;
	bool healthy;			/* the last attempt produced a sample */
	double published_s;		/* CLOCK_MONOTONIC of the last publication */
	uint64_t generation;
	volatile int stop;
	struct core *core;		/* NULL in synthetic mode */
	const struct export_opts *opt;
	uint64_t round;			/* synthetic: samples made so far */
	char error[256];
	struct advise_state advise;	/* hysteresis across samples */
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop export (--listen ADDR:PORT | --textfile PATH | --json) [--interval S]\n"
"                       [--user NAME] [--track PID]... [--qmp PATH]... [--backend bpf|kmod|auto]\n"
"                       [--syscall-tracepoints] [-v]\n"
"                       [--user NAME] [--track PID]... [--qmp PATH]... [--backend bpf|kmod|auto] [-v]\n"
"                       [--web.config.file FILE] [--web.max-requests N] [--web.max-connections N]\n"
"                       [--web.max-connections-per-ip N] [--web.timeout S]\n"
"\n"
"Export every VM's counters to monitoring, sampling every S seconds (default 1).\n"
"\n"
"  -l, --listen ADDR:PORT  serve /metrics over HTTP (Prometheus text 0.0.4, or OpenMetrics\n"
"                          1.0.0 when the scraper asks); [V6ADDR]:PORT and :PORT work too\n"
"      --textfile PATH     rewrite PATH atomically every interval for node_exporter's\n"
"                          textfile collector (PATH should end in .prom)\n"
"  -j, --json              print one snapshot JSON object per line (vmmemtop.snapshot/1)\n"
"  -i, --interval S        sampling period in seconds (0.1 .. 86400)\n"
"  -u, --user NAME         after loading the backend, switch to user NAME, keeping only\n"
"                          CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (to read other users'\n"
"                          /proc/PID)\n"
"  -t, --track PID         also count PID as a VMM\n"
"  -q, --qmp PATH          read balloon size and guest memory stats from this QMP socket\n"
"                          (the QEMU listening on it is found by itself; sockets named by\n"
"                          -qmp unix:PATH,server=on on a qemu command line are used anyway)\n"
"  -B, --backend B         bpf, kmod, or auto (default: bpf, else /dev/vmmem)\n"
"  -v, --verbose           print the kernel feature probes\n"
CLI_HELP_SYSCALL_TP
"\n"
"with --listen:\n"
"  --web.config.file FILE  TLS and basic auth, in the Prometheus exporter-toolkit format\n"
"                          (tls_server_config, basic_auth_users with bcrypt hashes)\n"
"  --web.max-requests N    requests answered at once; above, 503 (default %u)\n"
"  --web.max-connections N open connections in total (default %u)\n"
"  --web.max-connections-per-ip N  open connections from one address (default %u)\n"
"  --web.timeout S         close a connection idle for S seconds, or that has not sent a\n"
"                          request's headers S seconds after connecting or its last\n"
"                          response (default %u)\n"
"\n"
"examples:\n"
"  vmmemtop export --listen 127.0.0.1:9477\n"
"  vmmemtop export --listen :9477 --user nobody\n"
"  vmmemtop export --textfile /var/lib/prometheus/node-exporter/vmmem.prom --interval 15\n"
"  vmmemtop export --json | jq .vms[].name\n",
		HTTP_DEF_MAX_REQUESTS, HTTP_DEF_MAX_CONNECTIONS, HTTP_DEF_MAX_PER_IP, HTTP_DEF_TIMEOUT_S);
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- synthetic VMs (test only): load-test the exporter without any kernel hook ---- */

static const char synthetic_odd_name[] = "syn \"quoted\" back\\slash\nnewline \xc3\xbcnic\xc3\xb6" "de \xe2\x9c\x93";

static void synthetic_vm(struct vm_snapshot *v, int i, uint64_t round, bool exited)
{
	memset(v, 0, sizeof(*v));
	v->info.pid = 4200000 + i;	/* above the default pid_max: never a real process */
	v->info.start_time = 1000 + i;
	snprintf(v->info.comm, sizeof(v->info.comm), "qemu-system-x86");
	if (exited)
		snprintf(v->info.name, sizeof(v->info.name), "synthetic-exited");
	else if (i == 0)
		snprintf(v->info.name, sizeof(v->info.name), "%s", synthetic_odd_name);
	else
		snprintf(v->info.name, sizeof(v->info.name), "synthetic-%04d", i);
	v->info.has_kvm_vm_fd = true;
	v->info.vcpus = (struct opt_u64){ 1 + i % 8, true };
	v->info.mem_configured_kb = (struct opt_u64){ 1048576, true };
	v->info.rss_kb = (struct opt_u64){ 524288 + i, true };
	v->info.swap_kb = (struct opt_u64){ 0, true };
	v->info.anon_huge_kb = (struct opt_u64){ 2048 * (i % 4), true };
	v->info.anon_huge_time = (struct opt_u64){ 1700000000 + i, true };
	v->info.ksm.present = true;
	v->info.ksm.ksm_rmap_items = (struct opt_u64){ 100 + i, true };
	v->info.ksm.ksm_merging_pages = (struct opt_u64){ i % 10 ? 50 : 0, true };
	v->info.ksm.ksm_zero_pages = (struct opt_u64){ 0, true };
	/* every tenth VM costs KSM memory: a negative profit, as mm/ksm.c can report */
	v->info.ksm.ksm_process_profit = (struct opt_u64){
		(uint64_t)(i % 10 ? 50 * 4096 - 64 * (100 + i) : -64 * (100 + i)), true };
	/* every VM with a QMP socket that answered: the guest-side families at full size */
	snprintf(v->info.qmp.socket, sizeof(v->info.qmp.socket), "/run/synthetic-%04d.qmp", i);
	v->info.qmp.up = true;
	for (int k = 0; k < VMM_QMP_NR; k++)
		v->info.qmp.v[k] = (struct opt_u64){ (uint64_t)(k + 1) << 20, true };
	v->seq = i + 1;
	v->exited = exited;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
		v->delta.c[k] = (uint64_t)(i + k + 1);
		v->total.c[k] = round * (uint64_t)(i + k + 1);
	}
	/* every histogram non-empty: the worst case for scrape size */
	for (int h = 0; h < VMMEM_NR_VM_HISTS; h++) {
		for (int slot = 10; slot < 30; slot += 3) {
			v->hist_delta.h[h].slot[slot] = 1;
			v->hist_total.h[h].slot[slot] = round;
		}
		v->hist_total.h[h].sum_ns = round * 1000000;
		v->hist_delta.h[h].sum_ns = 1000000;
	}
}

static int synthetic_next(struct feed *f, struct snapshot *s)
{
	int n = (int)f->opt->synthetic_vms;
	double until = mono_s() + f->opt->interval_s;

	while (!f->stop && mono_s() < until)
		usleep(20000);
	memset(s, 0, sizeof(*s));
	f->round++;
	s->interval_s = f->opt->interval_s;
	s->ts_ns = (uint64_t)(mono_s() * 1e9);
	s->wall_time = time(NULL);
	s->backend = "synthetic";
	host_state_read("", &s->host);		/* sysfs and /proc/meminfo only */
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s->available.vm[k] = true;
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		s->available.vm_hist[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		s->available.host[k] = true;
		s->host_total.c[k] = f->round * (k + 1);
		s->host_delta.c[k] = k + 1;
	}
	s->host_total.c[VMMEM_H_dropped_events] = s->host_delta.c[VMMEM_H_dropped_events] = 0;
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++) {	/* every family present: strict parsers see all */
		s->available.host_hist[k] = true;
		s->host_hist_total.h[k].slot[30] = f->round;
		s->host_hist_total.h[k].sum_ns = f->round * 1500000000ull;
		s->host_hist_delta.h[k].slot[30] = 1;
		s->host_hist_delta.h[k].sum_ns = 1500000000ull;
	}
	s->vms = calloc(n + 1, sizeof(*s->vms));
	if (!s->vms)
		return -ENOMEM;
	for (int i = 0; i <= n; i++)
		synthetic_vm(&s->vms[i], i, f->round, i == n);	/* the last one has exited */
	s->nr_vms = n + 1;
	return 0;
}

/* ---- the feed ---- */

static void *feed_main(void *arg)
{
	struct feed *f = arg;

	while (!f->stop) {
		struct snapshot s;
		char err[256] = "";
		int ret;

		if (f->core)
			ret = core_next(f->core, f->opt->interval_s, &f->stop, &s, err, sizeof(err));
		else
			ret = synthetic_next(f, &s);
		if (!ret)
			advise_annotate(&s, &f->advise, NULL, NULL);
		pthread_mutex_lock(&f->lock);
		if (ret) {
			f->healthy = false;
			snprintf(f->error, sizeof(f->error), "%s", err[0] ? err : strerror(-ret));
		} else {
			snapshot_free(&f->latest);
			f->latest = s;
			f->have_latest = true;
			f->healthy = true;
			f->published_s = mono_s();
			f->generation++;
			pthread_cond_broadcast(&f->cond);
		}
		pthread_mutex_unlock(&f->lock);
		if (ret) {
			fprintf(stderr, "vmmemtop: sampling failed: %s\n", f->error);
			usleep(500000);
		}
	}
	return NULL;
}

static int feed_latest(void *ctx, struct snapshot *out, bool *up, uint64_t *gen)
{
	struct feed *f = ctx;
	int ret = -EAGAIN;

	pthread_mutex_lock(&f->lock);
	if (f->have_latest)
		ret = out ? snapshot_copy(out, &f->latest) : 0;
	*gen = f->generation;
	/* a sampling thread that stopped publishing is as bad as one that failed */
	*up = f->have_latest && f->healthy && mono_s() - f->published_s < 3 * f->opt->interval_s + 5;
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static uint64_t feed_wait(struct feed *f, uint64_t gen, int timeout_ms)
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
	pthread_mutex_lock(&f->lock);
	while (f->generation == gen && !cli_stop)
		if (pthread_cond_timedwait(&f->cond, &f->lock, &ts) == ETIMEDOUT)
			break;
	g = f->generation;
	pthread_mutex_unlock(&f->lock);
	return g;
}

/* ---- privileges ---- */

static const int kept_caps[] = { CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH };

/* Switch to user, keeping only kept_caps (and only those we had). Runs while this is the
 * only thread that needs them: threads started later inherit these credentials. */
static int drop_privileges(const char *user, char *err, size_t errsz)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	struct passwd *pw = getpwnam(user);
	uint32_t keep[2] = { 0, 0 };
	int ret;

	if (!pw) {
		snprintf(err, errsz, "--user %s: no such user", user);
		return -ENOENT;
	}
	if (syscall(SYS_capget, &hdr, data)) {
		ret = -errno;
		snprintf(err, errsz, "cannot read capabilities: %s", strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < sizeof(kept_caps) / sizeof(kept_caps[0]); i++) {
		int c = kept_caps[i];

		if (data[c / 32].permitted & (1u << (c % 32)))
			keep[c / 32] |= 1u << (c % 32);
	}
	/* glibc applies set*id to every thread of the process (the HTTP pool included) */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) || initgroups(pw->pw_name, pw->pw_gid) ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid)) {
		ret = -errno;
		snprintf(err, errsz, "cannot switch to user %s: %s (need root)", user, strerror(-ret));
		return ret;
	}
	prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	memset(data, 0, sizeof(data));
	for (int w = 0; w < 2; w++)
		data[w].permitted = data[w].effective = keep[w];
	if (syscall(SYS_capset, &hdr, data)) {
		ret = -errno;
		snprintf(err, errsz, "cannot set capabilities after switching to %s: %s", user, strerror(-ret));
		return ret;
	}
	if (setresuid(0, 0, 0) == 0) {		/* paranoia: the switch must be one-way */
		snprintf(err, errsz, "switched to %s but could become root again; refusing to go on", user);
		return -EPERM;
	}
	return 0;
}

/* ---- command ---- */

/* Each connection is a descriptor: raise the soft limit towards the hard one so that
 * --web.max-connections can be reached, or lower the limit to what the descriptors allow. */
static void fit_fd_limit(struct export_http_opts *h)
{
	rlim_t want = (rlim_t)h->max_connections + 256;	/* backend, /proc, QMP sockets */
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < want) {
		unsigned int fit = rl.rlim_cur > 512 ? (unsigned int)rl.rlim_cur - 256 : (unsigned int)rl.rlim_cur / 2;

		fprintf(stderr, "vmmemtop: open files limited to %llu: serving at most %u connections, not %u\n",
			(unsigned long long)rl.rlim_cur, fit, h->max_connections);
		h->max_connections = fit;
	}
}

static int parse_opts(int argc, char **argv, struct export_opts *o)
{
	enum { OPT_SYNTHETIC = 0x100, OPT_TEXTFILE, OPT_WEB_CONFIG, OPT_MAX_REQ, OPT_MAX_CONN, OPT_MAX_PER_IP,
	       OPT_TIMEOUT };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "textfile", required_argument, NULL, OPT_TEXTFILE },
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "user", required_argument, NULL, 'u' },
		{ "track", required_argument, NULL, 't' },
		{ "qmp", required_argument, NULL, 'q' },
		{ "backend", required_argument, NULL, 'B' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_LONGOPT_SYSCALL_TP,
		{ "help", no_argument, NULL, 'h' },
		{ "web.config.file", required_argument, NULL, OPT_WEB_CONFIG },
		{ "web.max-requests", required_argument, NULL, OPT_MAX_REQ },
		{ "web.max-connections", required_argument, NULL, OPT_MAX_CONN },
		{ "web.max-connections-per-ip", required_argument, NULL, OPT_MAX_PER_IP },
		{ "web.timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "synthetic-vms", required_argument, NULL, OPT_SYNTHETIC },	/* tests only */
		{ NULL, 0, NULL, 0 },
	};
	int ch, modes = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "l:ji:u:t:q:B:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o->mode = MODE_LISTEN, o->listen = optarg, modes++;
			break;
		case OPT_TEXTFILE:
			o->mode = MODE_TEXTFILE, o->textfile = optarg, modes++;
			break;
		case 'j':
			o->mode = MODE_JSON, modes++;
			break;
		case 'i':
			if (cli_parse_double(optarg, 0.1, 86400, &o->interval_s)) {
				cli_error("bad --interval '%s': need seconds between 0.1 and 86400", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'u':
			o->user = optarg;
			break;
		case 't':
			if (cli_add_track(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			if (cli_add_qmp(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'B':
			if (cli_set_backend(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'v':
			o->core.verbose = true;
			break;
		case CLI_OPT_SYSCALL_TP:
			o->core.syscall_tracepoints = true;
			break;
		case OPT_WEB_CONFIG:
			o->web_config_file = optarg;
			break;
		case OPT_MAX_REQ:
		case OPT_MAX_CONN:
		case OPT_MAX_PER_IP:
		case OPT_TIMEOUT: {
			static const struct { int opt; const char *name; long min, max; } lim[] = {
				{ OPT_MAX_REQ, "--web.max-requests", 1, 100000 },
				{ OPT_MAX_CONN, "--web.max-connections", 1, 1000000 },
				{ OPT_MAX_PER_IP, "--web.max-connections-per-ip", 1, 1000000 },
				{ OPT_TIMEOUT, "--web.timeout", 1, 3600 },
			};
			unsigned int *dst[] = { &o->http.max_requests, &o->http.max_connections, &o->http.max_per_ip,
						&o->http.timeout_s };
			int i = ch - OPT_MAX_REQ;
			long v;

			if (cli_parse_long(optarg, lim[i].min, lim[i].max, &v)) {
				cli_error("bad %s '%s': need a whole number from %ld to %ld", lim[i].name, optarg,
					  lim[i].min, lim[i].max);
				return EXIT_USAGE;
			}
			*dst[i] = (unsigned int)v;
			break;
		}
		case OPT_SYNTHETIC:
			if (cli_parse_long(optarg, 0, VMMEM_MAX_VMS * 16L, &o->synthetic_vms)) {
				cli_error("bad --synthetic-vms '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK + 100;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (modes != 1) {
		cli_error("choose exactly one of --listen, --textfile, --json (see --help)");
		return EXIT_USAGE;
	}
	if (o->web_config_file && o->mode != MODE_LISTEN) {
		cli_error("--web.config.file needs --listen");
		return EXIT_USAGE;
	}
	o->http.listen = o->listen;
	if (o->mode == MODE_LISTEN) {	/* before any kernel work: a typo costs no BPF load */
		struct sockaddr_storage ss;
		socklen_t sslen;
		char err[256];

		if (export_listen_parse(o->listen, &ss, &sslen, err, sizeof(err))) {
			cli_error("%s", err);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static int run(struct export_opts *o)
{
	struct export_http *http = NULL;
	struct web_config web = { 0 };
	struct feed f = { .opt = o };
	struct export_feed ef = { .latest = feed_latest, .ctx = &f };
	char err[512];
	int ret, rc = EXIT_RUNTIME;
	uint64_t gen = 0;

	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	cli_install_signals();
	if (o->web_config_file) {	/* before any kernel work: a bad file is a usage error */
		if (web_config_load(o->web_config_file, &web, err, sizeof(err))) {
			cli_error("%s", err);
			rc = EXIT_USAGE;
			goto out;
		}
		o->http.web = &web;
	}
	if (o->mode == MODE_LISTEN)
		fit_fd_limit(&o->http);
	/* bind first: a port in use fails before any BPF is loaded */
	if (o->mode == MODE_LISTEN && export_http_start(&http, &o->http, &ef, VMMEM_VERSION, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	if (!o->synthetic_vms && core_open(&f.core, &o->core, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	if (o->user && drop_privileges(o->user, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	ret = pthread_create(&f.thread, NULL, feed_main, &f);
	if (ret) {
		cli_error("cannot start the sampling thread: %s", strerror(ret));
		goto out;
	}
	f.running = true;
	if (o->mode == MODE_LISTEN)
		fprintf(stderr, "vmmemtop: serving %s://%s/metrics (backend %s)\n", web.tls ? "https" : "http", o->listen,
			f.core ? "loaded" : "synthetic");
	rc = EXIT_OK;
	while (!cli_stop) {
		uint64_t g = feed_wait(&f, gen, 100);	/* short: signals do not wake the wait */
		struct snapshot s;
		uint64_t sg;
		bool up;

		if (g == gen || cli_stop)
			continue;
		gen = g;
		if (o->mode == MODE_TEXTFILE && export_textfile_write(o->textfile, &ef, VMMEM_VERSION, err, sizeof(err)))
			cli_error("%s", err);	/* keep going: the directory may come back */
		if (o->mode == MODE_JSON && feed_latest(&f, &s, &up, &sg) == 0) {
			ret = snapshot_print_json(&s, stdout, true);
			snapshot_free(&s);
			if (ret)	/* the reader went away */
				break;
		}
	}
out:
	f.stop = 1;
	export_http_stop(http);		/* no scrape can be in flight once this returns */
	if (f.running)
		pthread_join(f.thread, NULL);
	if (f.core)
		core_close(f.core);
	snapshot_free(&f.latest);
	web_config_free(&web);
	pthread_mutex_destroy(&f.lock);
	pthread_cond_destroy(&f.cond);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	struct export_opts o = { .interval_s = 1, .core = { .backend = "auto" },
				 .http = { .max_requests = HTTP_DEF_MAX_REQUESTS, .max_connections = HTTP_DEF_MAX_CONNECTIONS,
					   .max_per_ip = HTTP_DEF_MAX_PER_IP, .timeout_s = HTTP_DEF_TIMEOUT_S } };
	int ret = parse_opts(argc, argv, &o);

	if (ret >= 0)
		return ret == EXIT_OK + 100 ? EXIT_OK : ret;
	return run(&o);
}
