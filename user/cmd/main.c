// SPDX-License-Identifier: MIT
/* vmmemtop: per-VM view of what the host's memory machinery does to each KVM guest. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "tui.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop [COMMAND] [OPTIONS]\n"
"\n"
"commands:\n"
"  (none)     the interactive view (plain text with -b or when not on a terminal)\n"
"  snapshot   count for an interval, print a table or JSON\n"
"  export     serve Prometheus /metrics, write a textfile, or stream JSON\n"
"  advise     recommend KSM, THP, balloon and swap changes with evidence and commands\n"
"  record     write event records and counter samples to a file\n"
"  report     summarise a recording: per VM, histograms, the slowest events\n"
"  replay     play a recording in the interactive view (or as tables)\n"
"  ksm-forecast  what KSM would save, from hashing each VM's resident pages (root)\n"
"\n"
"  vmmemtop COMMAND --help   shows each command's options\n"
"  -V, --version             prints the version\n"
"  man 8 vmmemtop            the manual: every command, option, exit status and file\n"
"\n");
	tui_usage(f);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("vmmemtop %s (ABI %d)\n", VMMEM_VERSION, VMMEM_ABI_VERSION);
		return EXIT_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "snapshot"))
		return cmd_snapshot(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "advise"))
		return cmd_advise(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return cmd_export(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "record"))
		return cmd_record(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "report"))
		return cmd_report(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "ksm-forecast"))
		return cmd_ksm_forecast(argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] != '-') {
		cli_error("unknown command '%s' (see --help)", argv[1]);
		return EXIT_USAGE;
	}
	return cmd_top(argc, argv);
}
