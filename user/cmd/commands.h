/* SPDX-License-Identifier: MIT */
/* The subcommands of vmmemtop, dispatched from main.c. Each returns an exit code (cli.h). */
#ifndef VMMEM_COMMANDS_H
#define VMMEM_COMMANDS_H

#include <stdio.h>
#include "core.h"

struct snapshot_opts {
	double interval_s;
	bool json;
	pid_t pid;			/* -p: only this VMM */
	const char *name;		/* -N: only VMs whose name contains this */
	bool totals;			/* the view: --totals (key t) */
	long count;			/* snapshots to print; <= 0: until interrupted */
	double replay_speed;		/* replay: 1, 10, INFINITY; 0: not a replay */
	struct core_options core;
};

/* Parse the options shared by snapshot-like commands. Returns -1 to go on, else an exit
 * code (EXIT_OK + 100 after --help). */
int parse_common_opts(int argc, char **argv, struct snapshot_opts *o, void (*usage_fn)(FILE *));
int run_snapshots(struct snapshot_opts *o);

int cmd_snapshot(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_advise(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_ksm_forecast(int argc, char **argv);

#endif
