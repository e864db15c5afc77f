/* SPDX-License-Identifier: MIT */
/* The command line, declared once: a table of commands, each with its options in one table
 * form. The options every sampling command shares (backend, interval, count, track, qmp, pid,
 * name, json, batch, verbose, syscall tracepoints) are declared here once, with one range
 * and one meaning; a command names the ones it takes and declares its own beside them.
 * Parsing, --help and the man page's OPTIONS section are all made from these tables. */
#ifndef VMMEM_CLI_TABLE_H
#define VMMEM_CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include "core.h"

#define CLI_INTERVAL_MIN	0.1	/* seconds: -i/--interval (-d/--delay) in every command */
#define CLI_INTERVAL_MAX	86400
#define CLI_MAX_PIDS		4096	/* -p given more than once (ksm-forecast scans each) */

/* What the common options fill. A command's own options fill its own struct (`own`). */
struct cli_args {
	struct core_options core;	/* -B, -t, -q, -v, --syscall-tracepoints */
	double interval_s;		/* -i/--interval = -d/--delay */
	long count;			/* -n/--count = --iterations */
	pid_t pid;			/* -p/--pid: the last one given (the filters take one) */
	pid_t pids[CLI_MAX_PIDS];	/* every one given, in order */
	int nr_pids;
	const char *name;		/* -N/--name */
	bool json;			/* -j/--json */
	bool batch;			/* -b/--batch */
	bool live;			/* an option only live sampling uses was given */
	const char *file;		/* the FILE operand of commands that take one */
};

enum cli_kind {
	CLI_FLAG,			/* bool at off = true */
	CLI_FLAG_OFF,			/* bool at off = false */
	CLI_DOUBLE,			/* double at off, in [min, max] */
	CLI_LONG,			/* long at off, whole number in [min, max] */
	CLI_UINT,			/* unsigned int at off, whole number in [min, max] */
	CLI_STRING,			/* const char * at off */
	CLI_CALL,			/* call(args, own, arg): 0, or EXIT_USAGE after one error line */
};

struct cli_opt {
	const char *name;		/* long name, without -- */
	char letter;			/* short option, 0 for none */
	const char *arg;		/* metavariable ("SECS"); NULL: takes no argument */
	enum cli_kind kind;
	bool own;			/* off is into the command's own struct, not cli_args */
	size_t off;
	double min, max;		/* CLI_DOUBLE, CLI_LONG, CLI_UINT */
	int (*call)(struct cli_args *a, void *own, const char *arg);
	const char *help;		/* plain text; lines end with \n; wrapped by the writer */
	const char *alias;		/* a second long name ("delay", "iterations") */
	char alias_letter;		/* a second short one ('d' for -i) */
	bool live;			/* only for live sampling (advise --from refuses it) */
	const char *dflt;		/* the value of --name given alone: the argument is then
					 * optional, and given as --name=ARG (no short letter) */
	bool repeat;			/* may be given more than once ("..." in the usage line) */
};

/* The common options, declared once (cli_table.c). */
extern const struct cli_opt cli_opt_backend, cli_opt_interval, cli_opt_count, cli_opt_track, cli_opt_qmp,
	cli_opt_pid, cli_opt_name, cli_opt_json, cli_opt_batch, cli_opt_verbose, cli_opt_syscall_tp,
	cli_opt_switch_tp, cli_opt_working_set;

/* the options of every command that counts on the live host, in help order */
#define CLI_LIVE_OPTS	&cli_opt_backend, &cli_opt_track, &cli_opt_verbose, &cli_opt_syscall_tp, \
			&cli_opt_switch_tp, &cli_opt_working_set

/* A command's options, in help order, as its table's NULL-terminated list:
 *	.opts = CLI_OPTS(&cli_opt_json, &opt_check, CLI_LIVE_OPTS),
 */
#define CLI_OPTS(...)	((const struct cli_opt *const[]){ __VA_ARGS__, NULL })

struct cli_command {
	const char *name;		/* NULL: the default command (the view) */
	const char *summary;		/* one line for `vmmemtop --help` */
	const char *required;		/* what must be given, as the usage line says it
					 * ("(--listen ADDR:PORT | --textfile PATH | --json)");
					 * the options it names are not listed again after it */
	const char *about;		/* what it does: paragraphs before the options */
	const char *operand;		/* "FILE" for commands that take one; NULL: none */
	const struct cli_opt *const *opts;	/* NULL-terminated: CLI_OPTS() */
	const char *after;		/* exit status, examples: after the options */
	size_t own_size;		/* sizeof the command's own struct (0: none) */
	/* own: the command's own struct, zeroed then filled with its defaults by init */
	void (*init)(struct cli_args *a, void *own);
	int (*run)(struct cli_args *a, void *own);
};

extern const struct cli_command *const cli_commands[];	/* commands.c: the table of commands */

/* Parse argv (argv[0] is the command's name) against cmd's table into a and own. Returns -1
 * to go on, EXIT_OK after --help, or EXIT_USAGE after one error line (usage to stderr). */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a, void *own);

/* Parse, then run: what main() calls for every command. */
int cli_dispatch(const struct cli_command *cmd, int argc, char **argv);
/* The same with the caller's own struct (of cmd->own_size bytes, zeroed), to read after. */
int cli_dispatch_own(const struct cli_command *cmd, int argc, char **argv, void *own);

/* A command's --help, made from its table. */
void cli_usage(const struct cli_command *cmd, FILE *f);

/* The man page's OPTIONS section (roff), made from every command's table: deploy/vmmemtop.8
 * holds exactly this between ".SH OPTIONS" and the next ".SH" (tests/host/test_cli.sh). */
void cli_man_options(FILE *f);

/* One line per option of every command: "COMMAND -x --long ARG" (tests check one meaning
 * per letter). */
void cli_list_options(FILE *f);

#endif
