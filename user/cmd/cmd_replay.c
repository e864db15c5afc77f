// SPDX-License-Identifier: MIT
/* `vmmemtop replay FILE`: a recording played back through the core (source_replay.c) into the
 * interactive view, or as the tables/JSON of `vmmemtop -b` / `snapshot --json`. The file is
 * checked end to end first: damage is reported at once, and what precedes it still plays. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "record_reader.h"
#include "tui.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop replay FILE [--speed 1|10|max] [-d SECS] [-n N] [-b | --json]\n"
"\n"
"Play a recording made by `vmmemtop record` in the interactive view, on the recording's own\n"
"clock: the rows, rates, sparklines, drill-down and advice are those of the recorded host.\n"
"Keys as in the live view, plus + and - for the speed (x1, x10, max) and p to pause.\n"
"With -b (or when stdout is not a terminal) prints one table per interval; with --json one\n"
"snapshot object per line (schema vmmemtop.snapshot/1), as fast as the file reads unless\n"
"--speed is given.\n"
"\n"
"  -s, --speed S      1, 10 or max (default 1; max for -b and --json)\n"
"  -d, --delay SECS   recorded seconds per refresh (default 1)\n"
"  -n, --count N      stop after N refreshes\n"
"  -b, --batch        plain-text tables\n"
"  -j, --json         JSON lines\n"
"\n"
"exit status: 0 played to the end (or quit), 1 unreadable or damaged file (what precedes the\n"
"damage is still played), 2 usage error\n"
"\n"
"examples:\n"
"  vmmemtop replay vm.rec\n"
"  vmmemtop replay vm.rec --speed 10\n"
"  vmmemtop replay vm.rec --json | jq -c '.vms[] | {name, f: .counters.tdp_faults}'\n");
}

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

int cmd_replay(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "speed", required_argument, NULL, 's' },
		{ "delay", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot_opts o = { .interval_s = 1, .count = 0 };
	static char backend[4096 + 8];
	bool batch = false, damaged = false;
	double speed = 0;
	long n;
	int ch, ret;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "s:d:n:bjh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (!strcmp(optarg, "max"))
				speed = INFINITY;
			else if (!strcmp(optarg, "1") || !strcmp(optarg, "x1"))
				speed = 1;
			else if (!strcmp(optarg, "10") || !strcmp(optarg, "x10"))
				speed = 10;
			else {
				cli_error("bad --speed '%s': use 1, 10 or max", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (cli_parse_double(optarg, 0.1, 86400, &o.interval_s)) {
				cli_error("bad --delay '%s': need seconds between 0.1 and 86400", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_long(optarg, 1, 1000000000L, &n)) {
				cli_error("bad -n '%s': need a positive count", optarg);
				return EXIT_USAGE;
			}
			o.count = n;
			break;
		case 'b':
			batch = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (cli_one_file(argc, argv, optind, "replay"))
		return EXIT_USAGE;
	if (strlen(argv[optind]) >= sizeof(backend) - 8) {
		cli_error("file name too long");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "-")) {
		cli_error("replay reads its file twice: give a file, not '-'");
		return EXIT_USAGE;
	}
	ret = check_file(argv[optind], &damaged);
	if (ret)
		return ret;
	snprintf(backend, sizeof(backend), "replay:%s", argv[optind]);
	o.core.backend = backend;
	batch |= o.json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO);
	o.replay_speed = speed > 0 ? speed : batch ? INFINITY : 1;
	ret = batch ? run_snapshots(&o) : tui_run(&o);
	return ret == EXIT_OK && damaged ? EXIT_RUNTIME : ret;
}
