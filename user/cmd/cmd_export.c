// SPDX-License-Identifier: MIT
/* `vmmemtop export`: serve /metrics, keep a node_exporter textfile, or stream JSON lines.
 * The collector opens (the backend loads, as root), then privileges may be dropped (--user),
 * and only then its sampling thread starts: it inherits the reduced credentials. */
#include <errno.h>
#include <stddef.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdatomic.h>
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
	int modes;			/* how many of --listen, --textfile, --json */
	const char *listen;
	const char *textfile;
	const char *user;
	const char *web_config_file;
	struct export_http_opts http;
	double interval_s;
	struct core_options core;
};

/* The server binds before the backend loads (a port in use costs no BPF load), so its
 * first scrapes may come before the collector exists: they find nothing yet. */
struct feed {
	struct collector *_Atomic col;
};

static int feed_latest(void *ctx, struct snapshot *out, bool *up, uint64_t *gen)
{
	struct collector *c = atomic_load(&((struct feed *)ctx)->col);

	if (!c) {
		*up = false;
		*gen = 0;
		return -EAGAIN;
	}
	return collector_status(c, out, up, gen);
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

static int set_listen(struct cli_args *a, void *own, const char *arg)
{
	struct export_opts *o = own;

	(void)a;
	o->mode = MODE_LISTEN, o->listen = arg, o->modes++;
	return 0;
}

static int set_textfile(struct cli_args *a, void *own, const char *arg)
{
	struct export_opts *o = own;

	(void)a;
	o->mode = MODE_TEXTFILE, o->textfile = arg, o->modes++;
	return 0;
}

/* What the table cannot say: one mode, and an address that parses before any kernel work. */
static int check_opts(struct cli_args *a, struct export_opts *o)
{
	if (a->json)
		o->mode = MODE_JSON, o->modes++;
	if (o->modes != 1) {
		cli_error("choose exactly one of --listen, --textfile, --json (see --help)");
		return EXIT_USAGE;
	}
	if (o->web_config_file && o->mode != MODE_LISTEN) {
		cli_error("--web.config.file needs --listen");
		return EXIT_USAGE;
	}
	o->http.listen = o->listen;
	o->interval_s = a->interval_s;
	o->core = a->core;
	if (o->mode == MODE_LISTEN) {	/* before any kernel work: a typo costs no BPF load */
		struct sockaddr_storage ss;
		socklen_t sslen;
		char err[256];

		if (export_listen_parse(o->listen, &ss, &sslen, err, sizeof(err))) {
			cli_error("%s", err);
			return EXIT_USAGE;
		}
	}
	return 0;
}

static int run(struct export_opts *o)
{
	struct collector_options copt = { .core = o->core, .interval_s = o->interval_s, .advise = true,
					  .log_errors = true };
	struct export_http *http = NULL;
	struct web_config web = { 0 };
	struct collector *c = NULL;
	struct feed f = { NULL };
	struct export_feed ef = { .latest = feed_latest, .ctx = &f };
	char err[512];
	int ret, rc = EXIT_RUNTIME;
	uint64_t gen = 0;

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
	if (collector_open(&c, &copt, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	atomic_store(&f.col, c);
	if (o->user && drop_privileges(o->user, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	if (collector_run(c, err, sizeof(err))) {
		cli_error("%s", err);
		goto out;
	}
	if (o->mode == MODE_LISTEN)
		fprintf(stderr, "vmmemtop: serving %s://%s/metrics (backend %s)\n", web.tls ? "https" : "http", o->listen,
			collector_backend(c));
	rc = EXIT_OK;
	while (!cli_stop) {
		uint64_t g = collector_wait(c, gen, 100);	/* short: signals do not wake the wait */
		struct snapshot s;
		uint64_t sg;
		bool up;

		if (g == gen || cli_stop)
			continue;
		gen = g;
		if (o->mode == MODE_TEXTFILE && export_textfile_write(o->textfile, &ef, VMMEM_VERSION, err, sizeof(err)))
			cli_error("%s", err);	/* keep going: the directory may come back */
		if (o->mode == MODE_JSON && collector_status(c, &s, &up, &sg) == 0) {
			ret = snapshot_print_json(&s, stdout, true);
			snapshot_free(&s);
			if (ret)	/* the reader went away */
				break;
		}
	}
out:
	export_http_stop(http);		/* no scrape can be in flight once this returns */
	collector_stop(c);
	web_config_free(&web);
	return rc;
}

static void export_init(struct cli_args *a, void *own)
{
	struct export_opts *o = own;

	(void)a;
	o->http = (struct export_http_opts){ .max_requests = HTTP_DEF_MAX_REQUESTS,
		.max_connections = HTTP_DEF_MAX_CONNECTIONS, .max_per_ip = HTTP_DEF_MAX_PER_IP,
		.timeout_s = HTTP_DEF_TIMEOUT_S };
}

static int export_run(struct cli_args *a, void *own)
{
	int ret = check_opts(a, own);

	return ret ? ret : run(own);
}

#define HTTP(field)	offsetof(struct export_opts, http.field)
#define STR(x)		#x
#define XSTR(x)		STR(x)

static const struct cli_opt opt_listen = { "listen", 'l', "ADDR:PORT", CLI_CALL, .call = set_listen,
	.help = "serve /metrics over HTTP (Prometheus text 0.0.4, or OpenMetrics 1.0.0 when the\n"
		"scraper asks); [V6ADDR]:PORT and :PORT work too\n" };
static const struct cli_opt opt_textfile = { "textfile", 0, "PATH", CLI_CALL, .call = set_textfile,
	.help = "rewrite PATH atomically every interval for node_exporter's textfile collector\n"
		"(PATH should end in .prom)\n" };
static const struct cli_opt opt_user = { "user", 'u', "NAME", CLI_STRING, true, offsetof(struct export_opts, user),
	.help = "after loading the backend, switch to user NAME, keeping only CAP_SYS_PTRACE and\n"
		"CAP_DAC_READ_SEARCH (to read other users' /proc/PID)\n" };
static const struct cli_opt opt_web_config = { "web.config.file", 0, "FILE", CLI_STRING, true,
	offsetof(struct export_opts, web_config_file),
	.help = "with --listen: TLS and basic auth, in the Prometheus exporter-toolkit format\n"
		"(tls_server_config, basic_auth_users with bcrypt hashes)\n" };
static const struct cli_opt opt_max_req = { "web.max-requests", 0, "N", CLI_UINT, true, HTTP(max_requests),
	1, 100000, .help = "requests answered at once; above, 503 (default " XSTR(HTTP_DEF_MAX_REQUESTS) ")\n" };
static const struct cli_opt opt_max_conn = { "web.max-connections", 0, "N", CLI_UINT, true, HTTP(max_connections),
	1, 1000000, .help = "open connections in total (default " XSTR(HTTP_DEF_MAX_CONNECTIONS) ")\n" };
static const struct cli_opt opt_max_per_ip = { "web.max-connections-per-ip", 0, "N", CLI_UINT, true,
	HTTP(max_per_ip), 1, 1000000,
	.help = "open connections from one address (default " XSTR(HTTP_DEF_MAX_PER_IP) ")\n" };
static const struct cli_opt opt_timeout = { "web.timeout", 0, "SECS", CLI_UINT, true, HTTP(timeout_s), 1, 3600,
	.help = "close a connection idle for SECS seconds, or that has not sent a request's\n"
		"headers SECS seconds after connecting or its last response (default "
		XSTR(HTTP_DEF_TIMEOUT_S) ")\n" };

const struct cli_command cmd_export = {
	.name = "export",
	.summary = "serve Prometheus /metrics, write a textfile, or stream JSON",
	.required = "(--listen ADDR:PORT | --textfile PATH | --json)",
	.about = "Export every VM's counters to monitoring, sampling every S seconds (default 1).\n"
		 "--json prints one snapshot JSON object per line (vmmemtop.snapshot/1).\n",
	.opts = CLI_OPTS(&opt_listen, &opt_textfile, &cli_opt_json, &cli_opt_interval, &opt_user,
			 &cli_opt_qmp, CLI_LIVE_OPTS, &opt_web_config, &opt_max_req, &opt_max_conn,
			 &opt_max_per_ip, &opt_timeout),
	.after = "examples:\n"
		 "  vmmemtop export --listen 127.0.0.1:9477\n"
		 "  vmmemtop export --listen :9477 --user nobody\n"
		 "  vmmemtop export --textfile /var/lib/prometheus/node-exporter/vmmem.prom --interval 15\n"
		 "  vmmemtop export --json | jq .vms[].name\n",
	.own_size = sizeof(struct export_opts),
	.init = export_init,
	.run = export_run,
};
