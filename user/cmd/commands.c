// SPDX-License-Identifier: MIT
/* The table of commands, in the order --help and the man page list them. Each command's
 * entry (its options, help and run function) is in its own file. */
#include <stddef.h>
#include "commands.h"

const struct cli_command *const cli_commands[] = {
	&cmd_view, &cmd_snapshot, &cmd_export, &cmd_advise, &cmd_record, &cmd_report, &cmd_replay,
	&cmd_ksm_forecast, &cmd_working_set, NULL,
};
