// SPDX-License-Identifier: MIT
/* `vmmemtop snapshot`: count for an interval and print one table or JSON object. Also the
 * repeating plain-text mode used until stdout is a terminal view. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "commands.h"
#include "core.h"
#include "snapshot_json.h"
#include "snapshot_table.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop snapshot [--interval S] [--json] [--pid PID] [--name TEXT] [--count N]\n"
"                         [--track PID]... [--qmp PATH]... [--backend bpf|kmod|auto]\n"
"                         [--syscall-tracepoints] [-v]\n"
"\n"
"Count every VMM's memory events for S seconds (default 1) and print a table, or JSON\n"
"(schema vmmemtop.snapshot/1). Ctrl-C ends the interval early and still prints.\n"
"\n"
"  -i, --interval S   seconds to count (0.1 .. 86400)\n"
"  -j, --json         print JSON instead of a table\n"
"  -p, --pid PID      show only this VMM process\n"
"  -N, --name TEXT    show only VMs whose name, libvirt domain or UUID contains TEXT\n"
"  -n, --count N      print N snapshots, one per interval (default 1)\n"
"  -t, --track PID    also count PID as a VMM (a VMM vmmemtop does not recognise)\n"
"  -q, --qmp PATH     read balloon size and guest memory stats from this QMP socket\n"
"                     (-qmp unix:PATH,server=on sockets on qemu command lines are used anyway)\n"
"  -B, --backend B    bpf, kmod, or auto (default: bpf, else /dev/vmmem)\n"
"  -v, --verbose      print the kernel feature probes\n"
CLI_HELP_SYSCALL_TP
"\n"
"examples:\n"
"  vmmemtop snapshot --interval 5\n"
"  vmmemtop snapshot --json --pid $(pgrep -f guest=web1)\n");
}

int parse_common_opts(int argc, char **argv, struct snapshot_opts *o, void (*usage_fn)(FILE *))
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "pid", required_argument, NULL, 'p' },
		{ "track", required_argument, NULL, 't' },
		{ "qmp", required_argument, NULL, 'q' },
		{ "backend", required_argument, NULL, 'B' },
		{ "count", required_argument, NULL, 'n' },
		{ "name", required_argument, NULL, 'N' },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_LONGOPT_SYSCALL_TP,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "i:jp:N:t:q:B:n:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			if (cli_parse_double(optarg, 0.1, 86400, &o->interval_s)) {
				cli_error("bad --interval '%s': need seconds between 0.1 and 86400", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			o->json = true;
			break;
		case 'p':
			if (cli_parse_pid(optarg, &o->pid)) {
				cli_error("bad --pid '%s': need a process id", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			if (!*optarg || strlen(optarg) >= VMM_NAME_MAX) {
				cli_error("bad --name '%s': need 1 to %d characters of a VM name", optarg, VMM_NAME_MAX - 1);
				return EXIT_USAGE;
			}
			o->name = optarg;
			break;
		case 't':
			if (cli_add_track(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			if (cli_add_qmp(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'B':
			if (cli_set_backend(&o->core, optarg))
				return EXIT_USAGE;
			break;
		case 'n': {
			long n;

			if (cli_parse_long(optarg, 1, 1000000000L, &n)) {
				cli_error("bad --count '%s': need a positive number", optarg);
				return EXIT_USAGE;
			}
			o->count = n;
			break;
		}
		case 'v':
			o->core.verbose = true;
			break;
		case CLI_OPT_SYSCALL_TP:
			o->core.syscall_tracepoints = true;
			break;
		case 'h':
			usage_fn(stdout);
			return EXIT_OK + 100;
		default:
			usage_fn(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

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

int run_snapshots(struct snapshot_opts *o)
{
	char err[512];
	struct core *c;
	int ret;

	cli_install_signals();
	ret = core_open(&c, &o->core, err, sizeof(err));
	if (ret) {
		cli_error("%s", err);
		return EXIT_RUNTIME;
	}
	if (o->replay_speed > 0)
		core_set_speed(c, o->replay_speed);
	if (o->core.verbose)
		fprintf(stderr, "vmmemtop: counting\n");	/* scripts wait for this line */
	for (long i = 0; o->count <= 0 || i < o->count; i++) {
		struct snapshot s;

		ret = core_next(c, o->interval_s, &cli_stop, &s, err, sizeof(err));
		if (ret == -ENODATA)	/* a recording replayed to its end */
			break;
		if (ret) {
			cli_error("%s", err);
			core_close(c);
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
	core_close(c);
	return EXIT_OK;
}

int cmd_snapshot(int argc, char **argv)
{
	struct snapshot_opts o = { .interval_s = 1, .count = 1, .core = { .backend = "auto" } };
	int ret = parse_common_opts(argc, argv, &o, usage);

	if (ret >= 0)
		return ret == EXIT_OK + 100 ? EXIT_OK : ret;
	return run_snapshots(&o);
}
