// SPDX-License-Identifier: MIT
/* `vmmemtop snapshot`: count for an interval and print one table or JSON object. Also the
 * repeating plain-text mode used until stdout is a terminal view. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "collector.h"
#include "commands.h"
#include "core.h"
#include "snapshot_json.h"
#include "snapshot_table.h"

/* Keep only the VMs asked for (-p, -N); the core still tracks every VMM. */
static void filter_vms(struct snapshot *s, pid_t pid, const char *name)
{
	int n = 0;

	if (!pid && !name)
		return;
	for (int i = 0; i < s->nr_vms; i++)
		if (snapshot_vm_matches(&s->vms[i], pid, name))
			s->vms[n++] = s->vms[i];
	s->nr_vms = n;
}

int run_snapshots(const struct cli_args *o, double replay_speed)
{
	struct collector_options copt = { .core = o->core, .interval_s = o->interval_s };
	struct collector *c;
	char err[512];
	int ret;

	cli_install_signals();
	ret = collector_open(&c, &copt, err, sizeof(err));
	if (ret) {
		cli_error("%s", err);
		return EXIT_RUNTIME;
	}
	if (replay_speed > 0)
		collector_set_speed(c, replay_speed);
	if (o->core.verbose)
		fprintf(stderr, "vmmemtop: counting\n");	/* scripts wait for this line */
	for (long i = 0; o->count <= 0 || i < o->count; i++) {
		struct snapshot s;

		ret = collector_next(c, 0, &cli_stop, &s, err, sizeof(err));
		if (ret == -ENODATA)	/* a recording replayed to its end */
			break;
		if (ret) {
			cli_error("%s", err);
			collector_stop(c);
			return EXIT_RUNTIME;
		}
		filter_vms(&s, o->pid, o->name);
		if (o->json)
			snapshot_print_json(&s, stdout, o->count != 1);
		else {
			snapshot_print_table(&s, stdout);
			if (o->count != 1)
				fputc('\n', stdout);
			fflush(stdout);
		}
		snapshot_free(&s);
		if (cli_stop)
			break;
	}
	collector_stop(c);
	return EXIT_OK;
}

static void snapshot_init(struct cli_args *a, void *own)
{
	(void)own;
	a->count = 1;
}

static int snapshot_run(struct cli_args *a, void *own)
{
	(void)own;
	return run_snapshots(a, 0);
}

const struct cli_command cmd_snapshot = {
	.name = "snapshot",
	.summary = "count for an interval, print a table or JSON",
	.about = "Count every VMM's memory events for S seconds (default 1) and print a table, or JSON\n"
		 "(schema vmmemtop.snapshot/1). Ctrl-C ends the interval early and still prints.\n",
	.opts = CLI_OPTS(&cli_opt_interval, &cli_opt_json, &cli_opt_pid, &cli_opt_name, &cli_opt_count,
			 &cli_opt_qmp, CLI_LIVE_OPTS),
	.after = "examples:\n"
		 "  vmmemtop snapshot --interval 5\n"
		 "  vmmemtop snapshot --json --pid $(pgrep -f guest=web1)\n",
	.init = snapshot_init,
	.run = snapshot_run,
};
