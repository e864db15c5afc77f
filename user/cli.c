// SPDX-License-Identifier: MIT
/* Command-line helpers: every number goes through strto* with an end pointer and errno. */
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

volatile int cli_stop;

int cli_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || isnan(v))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_pid(const char *s, pid_t *out)
{
	long v;
	int ret = cli_parse_long(s, 1, INT_MAX, &v);

	if (!ret)
		*out = v;
	return ret;
}

int cli_set_backend(struct core_options *o, const char *arg)
{
	bool registered = false;

	/* sources registered by prefix (source_registry.c), e.g. replay:FILE */
	for (int i = 0; source_factories[i]; i++)
		registered |= !strncmp(arg, source_factories[i]->prefix, strlen(source_factories[i]->prefix));
	if (!registered && strcmp(arg, "bpf") && strcmp(arg, "kmod") && strcmp(arg, "auto")) {
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
