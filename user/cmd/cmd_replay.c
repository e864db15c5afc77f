// SPDX-License-Identifier: MIT
/* `vmmemtop replay FILE`: a recording played back through the core (source_replay.c) into the
 * interactive view, or as the tables/JSON of `vmmemtop -b` / `snapshot --json`. The file is
 * checked end to end first: damage is reported at once, and what precedes it still plays. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "record_reader.h"
#include "tui.h"

/* Read the whole file once: open errors end here; damage is reported, then played up to. */
static int check_file(const char *path, bool *damaged)
{
	struct rec_reader *r;
	struct rec_item it;
	char err[512];
	int ret = rec_reader_open_file(&r, path, err, sizeof(err));

	if (ret) {
		cli_error("%s", err);
		return EXIT_RUNTIME;
	}
	while ((ret = rec_reader_next(r, &it)) > 0)
		;
	if (ret < 0) {
		cli_error("%s: %s; replaying what precedes it", path, rec_reader_error(r));
		*damaged = true;
	}
	rec_reader_close(r);
	return EXIT_OK;
}

struct replay_own {
	double speed;			/* 0: not given */
};

static int set_speed(struct cli_args *a, void *own, const char *arg)
{
	struct replay_own *r = own;

	(void)a;
	if (!strcmp(arg, "max"))
		r->speed = INFINITY;
	else if (!strcmp(arg, "1") || !strcmp(arg, "x1"))
		r->speed = 1;
	else if (!strcmp(arg, "10") || !strcmp(arg, "x10"))
		r->speed = 10;
	else {
		cli_error("bad --speed '%s': use 1, 10 or max", arg);
		return EXIT_USAGE;
	}
	return 0;
}

static int replay_run(struct cli_args *a, void *own)
{
	const struct replay_own *r = own;
	static char backend[4096 + 8];
	bool batch = a->batch, damaged = false;
	double speed;
	int ret;

	if (strlen(a->file) >= sizeof(backend) - 8) {
		cli_error("file name too long");
		return EXIT_USAGE;
	}
	if (!strcmp(a->file, "-")) {
		cli_error("replay reads its file twice: give a file, not '-'");
		return EXIT_USAGE;
	}
	ret = check_file(a->file, &damaged);
	if (ret)
		return ret;
	snprintf(backend, sizeof(backend), "replay:%s", a->file);
	a->core.backend = backend;
	batch |= a->json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO);
	speed = r->speed > 0 ? r->speed : batch ? INFINITY : 1;
	ret = batch ? run_snapshots(a, speed) : tui_run(a, false, speed);
	return ret == EXIT_OK && damaged ? EXIT_RUNTIME : ret;
}

static const struct cli_opt opt_speed = { "speed", 's', "S", CLI_CALL, .call = set_speed,
	.help = "1, 10 or max (default 1; max for -b and --json)\n" };

const struct cli_command cmd_replay = {
	.name = "replay",
	.summary = "play a recording in the interactive view (or as tables)",
	.about = "Play a recording made by `vmmemtop record` in the interactive view, on the recording's own\n"
		 "clock: the rows, rates, sparklines, drill-down and advice are those of the recorded host.\n"
		 "Keys as in the live view, plus + and - for the speed (x1, x10, max) and p to pause.\n"
		 "With -b (or when stdout is not a terminal) prints one table per interval; with --json one\n"
		 "snapshot object per line (schema vmmemtop.snapshot/1), as fast as the file reads unless\n"
		 "--speed is given. -d is recorded seconds per refresh.\n",
	.operand = "FILE",
	.opts = CLI_OPTS(&opt_speed, &cli_opt_interval, &cli_opt_count, &cli_opt_batch, &cli_opt_json),
	.after = "exit status: 0 played to the end (or quit), 1 unreadable or damaged file (what precedes the\n"
		 "damage is still played), 2 usage error\n"
		 "\n"
		 "examples:\n"
		 "  vmmemtop replay vm.rec\n"
		 "  vmmemtop replay vm.rec --speed 10\n"
		 "  vmmemtop replay vm.rec --json | jq -c '.vms[] | {name, f: .counters.tdp_faults}'\n",
	.own_size = sizeof(struct replay_own),
	.run = replay_run,
};
