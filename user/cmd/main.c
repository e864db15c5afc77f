// SPDX-License-Identifier: MIT
/* vmmemtop: per-VM view of what the host's memory machinery does to each KVM guest.
 * Finds the command in the table (commands.c) and hands it argv. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"

static void usage(FILE *f)
{
	fputs("usage: vmmemtop [COMMAND] [OPTIONS]\n\ncommands:\n", f);
	for (int i = 0; cli_commands[i]; i++)
		fprintf(f, "  %-13s %s\n", cli_commands[i]->name ? cli_commands[i]->name : "(none)",
			cli_commands[i]->summary);
	fputs("\n"
	      "  vmmemtop COMMAND --help   shows each command's options\n"
	      "  -V, --version             prints the version\n"
	      "  man 8 vmmemtop            the manual: every command, option, exit status and file\n"
	      "\n", f);
	cli_usage(&cmd_view, f);
}

static const struct cli_command *find(const char *name)
{
	for (int i = 0; cli_commands[i]; i++)
		if (cli_commands[i]->name && !strcmp(cli_commands[i]->name, name))
			return cli_commands[i];
	return NULL;
}

/* `vmmemtop help [COMMAND | --man | --options]`: what the tables say, for people, for the
 * man page (make man) and for tests. */
static int help(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--man")) {
		cli_man_options(stdout);
		return EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--options")) {
		cli_list_options(stdout);
		return EXIT_OK;
	}
	cmd = argc == 2 ? find(argv[1]) : NULL;
	if (!cmd) {
		cli_error("help: unknown command or option '%s' (commands, --man or --options)", argv[1]);
		return EXIT_USAGE;
	}
	cli_usage(cmd, stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct cli_command *cmd;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("vmmemtop %s (ABI %d)\n", VMMEM_VERSION, VMMEM_ABI_VERSION);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "advise"))
		return cmd_advise_main(argc - 1, argv + 1);
	cmd = argc >= 2 ? find(argv[1]) : NULL;
	if (cmd)
		return cli_dispatch(cmd, argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] != '-') {
		cli_error("unknown command '%s' (see --help)", argv[1]);
		return EXIT_USAGE;
	}
	return cli_dispatch(&cmd_view, argc, argv);
}
