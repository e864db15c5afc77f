// SPDX-License-Identifier: MIT
/* `vmmemtop advise`: recommendations from a live sample or a snapshot file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise.h"
#include "cli.h"
#include "commands.h"
#include "core.h"
#include "snapshot_load.h"
#include "vmm_info.h"

#define MAX_SNAPSHOT_FILE	(64 << 20)

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop advise [--json] [--check] [--interval S] [--from FILE] [--backend B] [--track PID]...\n"
"                       [--syscall-tracepoints]\n"
"\n"
"Recommend KSM, THP, balloon and swap changes, each with its evidence, the exact command\n"
"and the risk. Samples the host live for S seconds (default 5), or reads a snapshot JSON\n"
"written by `vmmemtop snapshot --json` (--from FILE, '-' for stdin). One sample is one\n"
"evaluation; the continuous views (vmmemtop, export) add hysteresis.\n"
"\n"
"  -j, --json          {\"schema\":\"vmmemtop.advice/1\",\"advice\":[{id,target,severity,evidence,\n"
"                      action,command,risk}...]} instead of text\n"
"  -c, --check         a monitoring check: exit 0 when no advice is warn or crit, 1 for\n"
"                      warn, 2 for crit (3 when it cannot tell), like a Nagios plugin;\n"
"                      prints one summary line first (not with --json)\n"
"  -i, --interval S    live sample length in seconds (0.1..86400)\n"
"  -f, --from FILE     evaluate a saved snapshot instead of sampling (no --interval/--backend/--track)\n"
"  -B, --backend B     bpf, kmod or auto (default: bpf, else /dev/vmmem)\n"
"  -t, --track PID     also count PID as a VMM\n"
"  -v, --verbose       print the kernel feature probes\n"
CLI_HELP_SYSCALL_TP
"\n"
"exit status: 0 advice printed (\"healthy\" when nothing to change), 1 runtime failure\n"
"(unreadable or malformed snapshot, backend failed), 2 usage error.\n"
"With --check: 0 none, 1 warn, 2 crit, 3 unknown (runtime or usage error)\n"
"\n"
"examples:\n"
"  vmmemtop advise --interval 10\n"
"  vmmemtop snapshot --json --interval 30 > now.json && vmmemtop advise --from now.json --json\n"
"  vmmemtop advise --json | jq -r '.advice[] | select(.severity != \"info\") | .command'\n"
"  vmmemtop advise --check --interval 10 || echo \"vmmem advice: exit $?\"\n");
}

static int load_file(const char *path, struct snapshot *s)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char err[512], *buf;
	size_t n;
	int ret;

	if (!f) {
		cli_error("cannot read %s: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	buf = malloc(MAX_SNAPSHOT_FILE + 1);
	if (!buf) {
		cli_error("out of memory");
		return EXIT_RUNTIME;
	}
	n = fread(buf, 1, MAX_SNAPSHOT_FILE + 1, f);
	if (f != stdin)
		fclose(f);
	if (n > MAX_SNAPSHOT_FILE) {
		free(buf);
		cli_error("%s: larger than %d MiB: not a snapshot", path, MAX_SNAPSHOT_FILE >> 20);
		return EXIT_RUNTIME;
	}
	ret = snapshot_load(buf, n, s, err, sizeof(err));
	free(buf);
	if (ret) {
		cli_error("%s: %s", path, err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

static void print_json(const struct advice *a, int n)
{
	json_t *arr = json_array(), *o;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "id", a[i].id,
			"target", a[i].target, "severity", advice_severity_name(a[i].severity),
			"evidence", a[i].evidence, "action", a[i].action, "command", a[i].command,
			"risk", a[i].risk));
	o = json_pack("{s:s,s:o}", "schema", "vmmemtop.advice/1", "advice", arr);
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(o);
}

static void print_text(const struct advice *a, int n)
{
	for (int i = 0; i < n; i++) {
		printf("[%s] %s  %s\n", advice_severity_name(a[i].severity), a[i].id, a[i].target);
		printf("  evidence: %s\n", a[i].evidence);
		printf("  action:   %s\n", a[i].action);
		if (a[i].command[0]) {
			char *cmd = strdup(a[i].command), *line, *save = NULL;

			/* "libvirt:" and "qmp:" lines are not shell commands: no prompt on them */
			for (line = strtok_r(cmd, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				printf("  %s %s\n", strncmp(line, "libvirt:", 8) && strncmp(line, "qmp:", 4) &&
				       strncmp(line, "qemu:", 5) ? "$" : " ", line);
			free(cmd);
		}
		if (a[i].risk[0])
			printf("  risk:     %s\n", a[i].risk);
		if (i + 1 < n)
			putchar('\n');
	}
}

/* --check: the worst severity in force, Nagios-style: 0 OK, 1 WARNING, 2 CRITICAL */
static int check_status(const struct advice *a, int n, bool print)
{
	static const char *const word[] = { "OK", "WARNING", "CRITICAL" };
	int worst = 0, nwarn = 0, ncrit = 0;

	for (int i = 0; i < n; i++) {
		nwarn += a[i].severity == ADVICE_WARN;
		ncrit += a[i].severity == ADVICE_CRIT;
	}
	worst = ncrit ? 2 : nwarn ? 1 : 0;
	if (!print)	/* --json stays one JSON document */
		return worst;
	printf("VMMEM %s - %d crit, %d warn, %d info", word[worst], ncrit, nwarn, n - ncrit - nwarn);
	for (int i = 0, first = 1; i < n; i++) {
		if (a[i].severity == ADVICE_INFO)
			continue;
		printf("%s%s %s", first ? ": " : ", ", a[i].id, a[i].target);
		first = 0;
	}
	putchar('\n');
	return worst;
}

static int advise_main(int argc, char **argv, int *check_exit)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "interval", required_argument, NULL, 'i' },
		{ "from", required_argument, NULL, 'f' },
		{ "backend", required_argument, NULL, 'B' },
		{ "track", required_argument, NULL, 't' },
		{ "check", no_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_LONGOPT_SYSCALL_TP,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct core_options copt = { .backend = "auto" };
	static struct advice adv[ADVISE_MAX];
	const char *from = NULL;
	bool live_opts = false;
	double interval = 5;
	struct snapshot s;
	bool json = false, check = false;
	int ch, n, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "ji:f:B:t:cvh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = true;
			break;
		case 'i':
			if (cli_parse_double(optarg, 0.1, 86400, &interval)) {
				cli_error("bad --interval '%s': need seconds between 0.1 and 86400", optarg);
				return EXIT_USAGE;
			}
			live_opts = true;
			break;
		case 'f':
			from = optarg;
			break;
		case 'B':
			if (cli_set_backend(&copt, optarg))
				return EXIT_USAGE;
			live_opts = true;
			break;
		case 'c':
			check = true;
			break;
		case 't':
			if (cli_add_track(&copt, optarg))
				return EXIT_USAGE;
			live_opts = true;
			break;
		case 'v':
			copt.verbose = true;
			break;
		case CLI_OPT_SYSCALL_TP:
			copt.syscall_tracepoints = true;
			live_opts = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (from && live_opts) {
		cli_error("--from reads a saved snapshot: --interval, --backend and --track only apply to live sampling");
		return EXIT_USAGE;
	}
	if (from) {
		ret = load_file(from, &s);
		if (ret)
			return ret;
	} else {
		struct core *c;
		char err[512];

		cli_install_signals();
		if (core_open(&c, &copt, err, sizeof(err))) {
			cli_error("%s", err);
			return EXIT_RUNTIME;
		}
		ret = core_next(c, interval, &cli_stop, &s, err, sizeof(err));
		core_close(c);
		if (ret) {
			cli_error("%s", err);
			return EXIT_RUNTIME;
		}
	}
	n = advise_evaluate(&s, NULL, adv, ADVISE_MAX);
	if (check)
		*check_exit = check_status(adv, n, !json);
	if (json)
		print_json(adv, n);
	else
		print_text(adv, n);
	snapshot_free(&s);
	return EXIT_OK;
}

int cmd_advise(int argc, char **argv)
{
	bool check = false;
	int check_exit = 0, ret;

	/* known before parsing, so even a usage error exits with the check's "unknown" */
	for (int i = 1; i < argc; i++)
		check |= !strcmp(argv[i], "--check") || !strcmp(argv[i], "-c");
	ret = advise_main(argc, argv, &check_exit);
	if (!check)
		return ret;
	return ret == EXIT_OK ? check_exit : EXIT_CHECK_UNKNOWN;
}
