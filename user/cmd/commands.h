/* SPDX-License-Identifier: MIT */
/* The subcommands of vmmemtop: each file cmd_*.c (and tui_main.c, the view) declares its
 * table entry (cli_table.h); main.c lists them. Each run returns an exit code (cli.h). */
#ifndef VMMEM_COMMANDS_H
#define VMMEM_COMMANDS_H

#include <stdio.h>
#include "cli_table.h"

extern const struct cli_command cmd_view, cmd_snapshot, cmd_export, cmd_advise, cmd_record, cmd_report,
	cmd_replay, cmd_ksm_forecast, cmd_working_set;

/* Tables or JSON, one per sample, from a->core (a replay at replay_speed when > 0). */
int run_snapshots(const struct cli_args *a, double replay_speed);

/* `advise`: --check maps a usage error to its "unknown" exit, so it is known before parsing. */
int cmd_advise_main(int argc, char **argv);

#endif
