// SPDX-License-Identifier: MIT
/* Command-line helpers: the options every counting command shares, errors, signals. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "source.h"
#include "vmm_info.h"

volatile int cli_stop;

int cli_set_backend(struct core_options *o, const char *arg)
{
	/* the sources vmmemtop links (backends.c), e.g. bpf, kmod, replay:FILE */
	if (!source_factory_find(arg) && strcmp(arg, "auto")) {
		cli_error("bad --backend '%s': use bpf, kmod, auto, replay:FILE or synthetic:N", arg);
		return EXIT_USAGE;
	}
	o->backend = arg;
	return 0;
}

int cli_add_track(struct core_options *o, const char *arg)
{
	if (o->nr_track >= (int)(sizeof(o->track) / sizeof(o->track[0]))) {
		cli_error("too many --track options (at most %zu)", sizeof(o->track) / sizeof(o->track[0]));
		return EXIT_USAGE;
	}
	if (cli_parse_pid(arg, &o->track[o->nr_track])) {
		cli_error("bad --track '%s': need a process id", arg);
		return EXIT_USAGE;
	}
	o->nr_track++;
	return 0;
}

int cli_add_qmp(struct core_options *o, const char *arg)
{
	if (o->nr_qmp >= QMP_POLL_MAX_PATHS) {
		cli_error("too many --qmp options (at most %d)", QMP_POLL_MAX_PATHS);
		return EXIT_USAGE;
	}
	/* sockaddr_un.sun_path holds 108 bytes with the NUL */
	if (!arg[0] || strlen(arg) >= VMM_QMP_PATH_MAX) {
		cli_error("bad --qmp '%s': need a unix socket path of 1 to %d bytes", arg, VMM_QMP_PATH_MAX - 1);
		return EXIT_USAGE;
	}
	o->qmp[o->nr_qmp++] = arg;
	return 0;
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("vmmemtop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	(void)sig;
	cli_stop = 1;
}

void cli_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int cli_one_file(int argc, char **argv, int optind, const char *cmd)
{
	if (optind >= argc) {
		cli_error("%s needs a recording FILE (see --help)", cmd);
		return EXIT_USAGE;
	}
	if (optind + 1 < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind + 1]);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_all_vmms(pid_t *pids, int max)
{
	int n = vmm_scan("/proc", pids, max);

	if (n < 0) {
		cli_error("cannot list /proc: %s", strerror(-n));
		return -1;
	}
	return n < max ? n : max;
}
