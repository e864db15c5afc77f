/* SPDX-License-Identifier: MIT */
/* Command-line helpers shared by the subcommands: strict number parsing, exit codes. */
#ifndef VMMEM_CLI_H
#define VMMEM_CLI_H

#include <stdbool.h>
#include <sys/types.h>
#include "core.h"
#include "numparse.h"

#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2
#define EXIT_CHECK_UNKNOWN 3	/* advise --check could not tell (Nagios UNKNOWN) */

/* The options every counting command shares. Each returns 0, or EXIT_USAGE after printing
 * one error line. */
int cli_set_backend(struct core_options *o, const char *arg);	/* --backend bpf|kmod|auto */
int cli_add_track(struct core_options *o, const char *arg);	/* --track PID (repeatable) */
int cli_add_qmp(struct core_options *o, const char *arg);	/* --qmp PATH (repeatable) */

/* The one FILE operand a command takes after its options (argv[optind]): 0, or EXIT_USAGE
 * after one error line when it is missing or followed by more. */
int cli_one_file(int argc, char **argv, int optind, const char *cmd);

/* The pids a command works on when no --pid was given: every VMM in /proc (at most max).
 * Returns how many, or -1 after one error line. */
int cli_all_vmms(pid_t *pids, int max);

/* Print "vmmemtop: <msg>" to stderr (one line). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set by SIGINT/SIGTERM once cli_install_signals() ran. */
extern volatile int cli_stop;
void cli_install_signals(void);

#endif
