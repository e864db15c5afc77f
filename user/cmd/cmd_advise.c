// SPDX-License-Identifier: MIT
/* `vmmemtop advise`: recommendations from a live sample or a snapshot file. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "advise.h"
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "core.h"
#include "snapshot_load.h"
#include "vmm_info.h"

#define MAX_SNAPSHOT_FILE	(64 << 20)

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

struct advise_own {
	bool check;
	const char *from;
	int check_exit;			/* --check: the worst severity, once advice was printed */
};

static void advise_init(struct cli_args *a, void *own)
{
	(void)own;
	a->interval_s = 5;
}

static int advise_run(struct cli_args *a, void *own)
{
	struct advise_own *o = own;
	static struct advice adv[ADVISE_MAX];
	struct snapshot s;
	int n, ret;

	if (o->from && a->live) {
		cli_error("--from reads a saved snapshot: --interval, --backend and --track only apply to live sampling");
		return EXIT_USAGE;
	}
	if (o->from) {
		ret = load_file(o->from, &s);
		if (ret)
			return ret;
	} else {
		struct collector_options copt = { .core = a->core, .interval_s = a->interval_s };
		struct collector *c;
		char err[512];

		cli_install_signals();
		if (collector_open(&c, &copt, err, sizeof(err))) {
			cli_error("%s", err);
			return EXIT_RUNTIME;
		}
		ret = collector_next(c, 0, &cli_stop, &s, err, sizeof(err));
		collector_stop(c);
		if (ret) {
			cli_error("%s", err);
			return EXIT_RUNTIME;
		}
	}
	n = advise_evaluate(&s, NULL, adv, ADVISE_MAX);
	if (o->check)
		o->check_exit = check_status(adv, n, !a->json);
	if (a->json)
		print_json(adv, n);
	else
		print_text(adv, n);
	snapshot_free(&s);
	return EXIT_OK;
}

static const struct cli_opt opt_check = { "check", 'c', NULL, CLI_FLAG, true, offsetof(struct advise_own, check),
	.help = "a monitoring check: exit 0 when no advice is warn or crit, 1 for warn, 2 for\n"
		"crit (3 when it cannot tell), like a Nagios plugin; prints one summary line first\n"
		"(not with --json)\n" };
static const struct cli_opt opt_from = { "from", 'f', "FILE", CLI_STRING, true, offsetof(struct advise_own, from),
	.help = "evaluate a saved snapshot instead of sampling ('-': stdin; not with --interval,\n"
		"--backend, --track or --syscall-tracepoints)\n" };

const struct cli_command cmd_advise = {
	.name = "advise",
	.summary = "recommend KSM, THP, balloon and swap changes with evidence and commands",
	.about = "Recommend KSM, THP, balloon and swap changes, each with its evidence, the exact command\n"
		 "and the risk. Samples the host live for S seconds (default 5), or reads a snapshot JSON\n"
		 "written by `vmmemtop snapshot --json` (--from FILE, '-' for stdin). One sample is one\n"
		 "evaluation; the continuous views (vmmemtop, export) add hysteresis.\n"
		 "JSON: {\"schema\":\"vmmemtop.advice/1\",\"advice\":[{id,target,severity,evidence,action,\n"
		 "command,risk}...]}\n",
	.opts = CLI_OPTS(&cli_opt_json, &opt_check, &cli_opt_interval, &opt_from, CLI_LIVE_OPTS),
	.after = "exit status: 0 advice printed (\"healthy\" when nothing to change), 1 runtime failure\n"
		 "(unreadable or malformed snapshot, backend failed), 2 usage error.\n"
		 "With --check: 0 none, 1 warn, 2 crit, 3 unknown (runtime or usage error)\n"
		 "\n"
		 "examples:\n"
		 "  vmmemtop advise --interval 10\n"
		 "  vmmemtop snapshot --json --interval 30 > now.json && vmmemtop advise --from now.json --json\n"
		 "  vmmemtop advise --json | jq -r '.advice[] | select(.severity != \"info\") | .command'\n"
		 "  vmmemtop advise --check --interval 10 || echo \"vmmem advice: exit $?\"\n",
	.own_size = sizeof(struct advise_own),
	.init = advise_init,
	.run = advise_run,
};

int cmd_advise_main(int argc, char **argv)
{
	struct advise_own own = { 0 };
	bool check = false;
	int ret;

	/* known before parsing, so even a usage error exits with the check's "unknown" */
	for (int i = 1; i < argc; i++)
		check |= !strcmp(argv[i], "--check") || !strcmp(argv[i], "-c");
	ret = cli_dispatch_own(&cmd_advise, argc, argv, &own);
	if (!check)
		return ret;
	return ret == EXIT_OK ? own.check_exit : EXIT_CHECK_UNKNOWN;
}
