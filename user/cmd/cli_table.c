// SPDX-License-Identifier: MIT
/* The common options, declared once, and what every command's table is turned into: the
 * getopt_long() parse, --help, and the man page's OPTIONS section. */
#include <ctype.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_table.h"
#include "text_wrap.h"
#include "vmm_info.h"

#define A(field)	offsetof(struct cli_args, field)

static int set_backend(struct cli_args *a, void *own, const char *arg)
{
	(void)own;
	return cli_set_backend(&a->core, arg);
}

static int add_track(struct cli_args *a, void *own, const char *arg)
{
	(void)own;
	return cli_add_track(&a->core, arg);
}

static int add_qmp(struct cli_args *a, void *own, const char *arg)
{
	(void)own;
	return cli_add_qmp(&a->core, arg);
}

static int add_pid(struct cli_args *a, void *own, const char *arg)
{
	(void)own;
	if (a->nr_pids >= CLI_MAX_PIDS) {
		cli_error("too many --pid options (at most %d)", CLI_MAX_PIDS);
		return EXIT_USAGE;
	}
	if (cli_parse_pid(arg, &a->pids[a->nr_pids])) {
		cli_error("bad --pid '%s': need a process id", arg);
		return EXIT_USAGE;
	}
	a->pid = a->pids[a->nr_pids++];
	return 0;
}

static int set_name(struct cli_args *a, void *own, const char *arg)
{
	(void)own;
	if (!*arg || strlen(arg) >= VMM_NAME_MAX) {
		cli_error("bad --name '%s': need 1 to %d characters of a VM name", arg, VMM_NAME_MAX - 1);
		return EXIT_USAGE;
	}
	a->name = arg;
	return 0;
}

const struct cli_opt cli_opt_backend = { "backend", 'B', "B", CLI_CALL, .call = set_backend, .live = true,
	.help = "bpf, kmod or auto (default: bpf, else /dev/vmmem); replay:FILE plays a recording,\n"
		"synthetic:N makes up N VMs (tests and benchmarks)\n" };
const struct cli_opt cli_opt_interval = { "interval", 'i', "SECS", CLI_DOUBLE, .off = A(interval_s),
	.min = CLI_INTERVAL_MIN, .max = CLI_INTERVAL_MAX, .alias = "delay", .alias_letter = 'd', .live = true,
	.help = "seconds per sample: the view's refresh, what snapshot and advise count, the\n"
		"period of export and record, recorded seconds per refresh in replay\n"
		"(0.1 to 86400; default 1, advise 5)\n" };
const struct cli_opt cli_opt_count = { "count", 'n', "N", CLI_LONG, .off = A(count), .min = 1, .max = 1e9,
	.alias = "iterations",
	.help = "stop after N samples (snapshot: default 1; otherwise until interrupted)\n" };
const struct cli_opt cli_opt_track = { "track", 't', "PID", CLI_CALL, .call = add_track, .live = true, .repeat = true,
	.help = "also count PID as a VMM (a process vmmemtop does not recognise); repeatable\n" };
const struct cli_opt cli_opt_qmp = { "qmp", 'q', "PATH", CLI_CALL, .call = add_qmp, .repeat = true,
	.help = "read the guest side of the balloon from this QEMU QMP socket (sockets named by\n"
		"-qmp unix:PATH,server=on on a qemu command line are used anyway); repeatable\n" };
const struct cli_opt cli_opt_pid = { "pid", 'p', "PID", CLI_CALL, .call = add_pid,
	.help = "only this VMM process (ksm-forecast, working-set: repeatable,\n"
		"each one scanned or monitored)\n" };
const struct cli_opt cli_opt_name = { "name", 'N', "TEXT", CLI_CALL, .call = set_name,
	.help = "only VMs whose name, libvirt domain or UUID contains TEXT\n" };
const struct cli_opt cli_opt_json = { "json", 'j', NULL, CLI_FLAG, .off = A(json),
	.help = "JSON instead of text (the schema each command names)\n" };
const struct cli_opt cli_opt_batch = { "batch", 'b', NULL, CLI_FLAG, .off = A(batch),
	.help = "plain-text tables, like top -b (also when stdout is not a terminal)\n" };
const struct cli_opt cli_opt_verbose = { "verbose", 'v', NULL, CLI_FLAG, .off = A(core.verbose),
	.help = "print the kernel feature probes and which hook each counter uses\n" };
const struct cli_opt cli_opt_syscall_tp = { "syscall-tracepoints", 0, NULL, CLI_FLAG,
	.off = A(core.syscall_tracepoints), .live = true,
	.help = "where the kernel has neither fexit nor kprobes, count balloon bytes at the\n"
		"madvise/fallocate syscall tracepoints. COSTLY: while on, every syscall of every\n"
		"process on the host goes through the tracing slow path (measured: getppid()\n"
		"166 -> 233 ns). Off by default: balloon counters are then unavailable on such\n"
		"kernels.\n" };
const struct cli_opt cli_opt_switch_tp = { "switch-tracepoints", 0, NULL, CLI_FLAG,
	.off = A(core.switch_tracepoints), .live = true,
	.help = "where the kernel refuses fentry, count vCPU preemptions and the TLB shootdowns a\n"
		"VMM sends at the sched_switch and tlb:tlb_flush tracepoints. COSTLY: both run on\n"
		"every context switch of the host (measured: 1-4 % per switch on a pipe ping-pong,\n"
		"most of it the cost of any program there). Off by default: vcpu_preemptions,\n"
		"vcpu_preempted_ns and the tlb_* counters are then unavailable on such kernels.\n" };

const struct cli_opt cli_opt_working_set = { "working-set", 0, "SECS", CLI_DOUBLE,
	.off = A(core.working_set_s), .min = 2, .max = 3600, .dflt = "30", .live = true,
	.help = "each VM's working set: the bytes it accessed within the last SECS (default 30,\n"
		"2 to 3600), guest accesses included, from DAMON's virtual-address monitoring.\n"
		"Off by default. COST: one kdamond per VM running at start (VMs started later are not\n"
		"monitored), sampling every 200 ms (measured ~3 % of a CPU per 1 GiB VM); the first\n"
		"figure comes two windows after the start. Used only where DAMON's sysfs holds no\n"
		"kdamond at all (one set up by anything else is never touched: the figure is then\n"
		"null with the reason); vmmemtop's kdamonds are removed at exit. Needs root at start.\n" };

static const struct cli_opt opt_help = { "help", 'h', NULL, CLI_FLAG,
	.help = "print this help\n" };

static int nr_opts(const struct cli_command *cmd)
{
	int n = 0;

	while (cmd->opts[n])
		n++;
	return n;
}

/* The value of one option into a or own. */
static int apply(const struct cli_opt *o, struct cli_args *a, void *own, const char *arg)
{
	char *base = o->own ? own : (char *)a;
	double d;
	long l;

	switch (o->kind) {
	case CLI_FLAG:
	case CLI_FLAG_OFF:
		*(bool *)(base + o->off) = o->kind == CLI_FLAG;
		return 0;
	case CLI_STRING:
		*(const char **)(base + o->off) = arg;
		return 0;
	case CLI_CALL:
		return o->call(a, own, arg);
	case CLI_DOUBLE:
		if (!arg)
			arg = o->dflt;	/* an optional argument left out */
		if (cli_parse_double(arg, o->min, o->max, &d))
			break;
		*(double *)(base + o->off) = d;
		return 0;
	case CLI_LONG:
	case CLI_UINT:
		if (cli_parse_long(arg, (long)o->min, (long)o->max, &l))
			break;
		if (o->kind == CLI_LONG)
			*(long *)(base + o->off) = l;
		else
			*(unsigned int *)(base + o->off) = (unsigned int)l;
		return 0;
	}
	if (o->kind == CLI_DOUBLE)
		cli_error("bad --%s '%s': need %s from %g to %g", o->name, arg, o->arg, o->min, o->max);
	else
		cli_error("bad --%s '%s': need a whole number from %.0f to %.0f", o->name, arg, o->min, o->max);
	return EXIT_USAGE;
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a, void *own)
{
	int n = nr_opts(cmd), ch, idx;
	struct option *lo = calloc(2 * n + 2, sizeof(*lo));
	char shorts[4 * 64 + 8] = "";
	size_t sl = 0;
	int ret = -1;

	if (!lo) {
		cli_error("out of memory");
		return EXIT_RUNTIME;
	}
	/* getopt's val: 0x100 + index for every spelling, so short, long and alias meet */
	for (int i = 0, k = 0; i < n; i++) {
		const struct cli_opt *o = cmd->opts[i];
		int has = o->dflt ? optional_argument : o->arg ? required_argument : no_argument;

		lo[k++] = (struct option){ o->name, has, NULL, 0x100 + i };
		if (o->alias)
			lo[k++] = (struct option){ o->alias, has, NULL, 0x100 + i };
		for (int s = 0; s < 2; s++) {
			char c = s ? o->alias_letter : o->letter;

			if (c && sl + 3 < sizeof(shorts)) {
				shorts[sl++] = c;
				if (o->arg)
					shorts[sl++] = ':';
			}
		}
		if (i == n - 1)
			lo[k] = (struct option){ "help", no_argument, NULL, 'h' };
	}
	if (n == 0)
		lo[0] = (struct option){ "help", no_argument, NULL, 'h' };
	shorts[sl++] = 'h';
	shorts[sl] = 0;
	optind = 1;
	while (ret < 0 && (ch = getopt_long(argc, argv, shorts, lo, &idx)) != -1) {
		const struct cli_opt *o = NULL;

		if (ch == 'h') {
			cli_usage(cmd, stdout);
			ret = EXIT_OK;
			break;
		}
		if (ch >= 0x100)
			o = cmd->opts[ch - 0x100];
		for (int i = 0; !o && ch != '?' && i < n; i++)
			if (ch == cmd->opts[i]->letter || ch == cmd->opts[i]->alias_letter)
				o = cmd->opts[i];
		if (!o) {
			cli_usage(cmd, stderr);
			ret = EXIT_USAGE;
			break;
		}
		if (apply(o, a, own, optarg))
			ret = EXIT_USAGE;
		a->live |= o->live;
	}
	free(lo);
	if (ret >= 0)
		return ret;
	if (cmd->operand) {
		if (cli_one_file(argc, argv, optind, cmd->name))
			return EXIT_USAGE;
		a->file = argv[optind];
	} else if (optind < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

int cli_dispatch_own(const struct cli_command *cmd, int argc, char **argv, void *own)
{
	/* static: pids[] is large, and one command runs per process */
	static struct cli_args a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.interval_s = 1;
	a.core.backend = "auto";
	if (cmd->init)
		cmd->init(&a, own);
	ret = cli_parse(cmd, argc, argv, &a, own);
	if (ret < 0)
		ret = cmd->run(&a, own);
	return ret;
}

int cli_dispatch(const struct cli_command *cmd, int argc, char **argv)
{
	void *own = NULL;
	int ret;

	if (cmd->own_size && !(own = calloc(1, cmd->own_size))) {
		cli_error("out of memory");
		return EXIT_RUNTIME;
	}
	ret = cli_dispatch_own(cmd, argc, argv, own);
	free(own);
	return ret;
}

/* "-i, --interval SECS" (or "    --name" without a letter) */
static void opt_title(const struct cli_opt *o, char *buf, size_t sz)
{
	int n;

	if (o->letter)
		n = snprintf(buf, sz, "-%c, --%s", o->letter, o->name);
	else
		n = snprintf(buf, sz, "    --%s", o->name);
	if (o->arg && n >= 0 && (size_t)n < sz)
		snprintf(buf + n, sz - n, o->dflt ? "[=%s]" : " %s", o->arg);
}

#define HELP_COL	24	/* where the help's text starts */
#define HELP_WIDTH	(100 - HELP_COL - 3)

static void usage_opt(const struct cli_opt *o, FILE *f)
{
	enum { MAX_LINES = 16 };
	int start[MAX_LINES], len[MAX_LINES], n;
	char title[96], text[1024];

	opt_title(o, title, sizeof(title));
	/* the help as one paragraph, wrapped under itself; aliases said first */
	n = snprintf(text, sizeof(text), "%s%s%s%s%s%s", o->alias_letter || o->alias ? "(also " : "",
		     o->alias_letter ? (char[]){ '-', o->alias_letter, 0 } : "",
		     o->alias_letter && o->alias ? ", " : "", o->alias ? "--" : "", o->alias ? o->alias : "",
		     o->alias_letter || o->alias ? ") " : "");
	for (const char *h = o->help; *h && n >= 0 && (size_t)n < sizeof(text) - 1; h++)
		text[n++] = *h == '\n' ? ' ' : *h;
	text[n > 0 ? n : 0] = 0;
	fprintf(f, "  %-*s", HELP_COL - 2, title);
	if (strlen(title) > HELP_COL - 3)
		fprintf(f, "\n%*s", HELP_COL, "");
	n = text_wrap(text, HELP_WIDTH, start, len, MAX_LINES);
	for (int i = 0; i < n && i < MAX_LINES; i++)
		fprintf(f, "%*s%.*s\n", i ? HELP_COL + 1 : 1, "", len[i], text + start[i]);
}

/* does text name the option --name (as a whole word)? */
static bool names_opt(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; (p = strstr(p, "--")); p += 2)
		if (!strncmp(p + 2, name, n) && !isalnum((unsigned char)p[2 + n]) && p[2 + n] != '-' &&
		    p[2 + n] != '.')
			return true;
	return false;
}

/* one unbreakable item of the usage line, wrapped under the first when the line is full */
static void usage_item(FILE *f, const char *item, int indent, int *col)
{
	int n = strlen(item);

	if (*col > indent && *col + 1 + n > 100) {
		fprintf(f, "\n%*s", indent, "");
		*col = indent;
	}
	if (*col > indent) {
		fputc(' ', f);
		(*col)++;
	}
	fputs(item, f);
	*col += n;
}

/*
 * The usage line, made from the table so it never leaves an option out: the operand, what
 * the command requires, then every other option it takes, in help order ("..." after the
 * repeatable ones).
 */
static void usage_synopsis(const struct cli_command *cmd, FILE *f)
{
	char item[128];
	int indent, col;

	indent = fprintf(f, "usage: vmmemtop%s%s ", cmd->name ? " " : "", cmd->name ? cmd->name : "");
	col = indent;
	if (cmd->operand)
		usage_item(f, cmd->operand, indent, &col);
	if (cmd->required)
		usage_item(f, cmd->required, indent, &col);
	for (int i = 0; cmd->opts[i]; i++) {
		const struct cli_opt *o = cmd->opts[i];

		if (cmd->required && names_opt(cmd->required, o->name))
			continue;
		snprintf(item, sizeof(item), "[--%s%s%s%s]%s", o->name, o->arg ? (o->dflt ? "[=" : " ") : "",
			 o->arg ? o->arg : "", o->arg && o->dflt ? "]" : "", o->repeat ? "..." : "");
		usage_item(f, item, indent, &col);
	}
	fputc('\n', f);
}

void cli_usage(const struct cli_command *cmd, FILE *f)
{
	usage_synopsis(cmd, f);
	fprintf(f, "\n%s\n", cmd->about);
	for (int i = 0; cmd->opts[i]; i++)
		usage_opt(cmd->opts[i], f);
	usage_opt(&opt_help, f);
	if (cmd->after)
		fprintf(f, "\n%s", cmd->after);
}

/* man(7) text: a leading '.' or '\'' escaped, '-' as \- and '\' as \e */
static void roff_text(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		if ((i == 0 || s[i - 1] == '\n') && (s[i] == '.' || s[i] == '\''))
			fputs("\\&", f);
		if (s[i] == '-')
			fputs("\\-", f);
		else if (s[i] == '\\')
			fputs("\\e", f);
		else
			fputc(s[i], f);
	}
}

static void man_opt(FILE *f, const struct cli_opt *o)
{
	const char *h = o->help;

	/* the tag: \fB\-i\fR, \fB\-d\fR, \fB\-\-interval\fR, \fB\-\-delay\fR \fISECS\fR */
	fputs(".TP\n", f);
	if (o->letter)
		fprintf(f, "\\fB\\-%c\\fR, ", o->letter);
	if (o->alias_letter)
		fprintf(f, "\\fB\\-%c\\fR, ", o->alias_letter);
	fputs("\\fB\\-\\-", f);
	roff_text(f, o->name, strlen(o->name));
	fputs("\\fR", f);
	if (o->alias) {
		fputs(", \\fB\\-\\-", f);
		roff_text(f, o->alias, strlen(o->alias));
		fputs("\\fR", f);
	}
	if (o->arg)
		fprintf(f, o->dflt ? "[=\\fI%s\\fR]" : " \\fI%s\\fR", o->arg);
	fputc('\n', f);
	/* the help's lines as they are: man fills the paragraph */
	for (const char *nl; *h; h = nl + 1) {
		nl = strchr(h, '\n');
		if (!nl)
			nl = h + strlen(h);
		roff_text(f, h, nl - h);
		fputc('\n', f);
		if (!*nl)
			break;
	}
}

/* the common options, in the man page's order: declared once above, listed once here */
static const struct cli_opt *const common_opts[] = { &cli_opt_backend, &cli_opt_interval, &cli_opt_count,
	&cli_opt_track, &cli_opt_qmp, &cli_opt_pid, &cli_opt_name, &cli_opt_json, &cli_opt_batch,
	&cli_opt_verbose, &cli_opt_syscall_tp, &cli_opt_switch_tp, &cli_opt_working_set };
#define NR_COMMON_OPTS	(sizeof(common_opts) / sizeof(common_opts[0]))

static bool is_common(const struct cli_opt *o)
{
	for (size_t i = 0; i < NR_COMMON_OPTS; i++)
		if (o == common_opts[i])
			return true;
	return false;
}

void cli_man_options(FILE *f)
{
	fputs(".\\\" Made by `vmmemtop help --man` from the option tables (user/cli_table.c and each\n"
	      ".\\\" command's table): change those, then run `make man`.\n"
	      "A short option means the same in every command that takes it.\n"
	      ".SS Common options\n"
	      "Declared once; each command lists which of them it takes (its\n"
	      ".BR \\-\\-help ).\n", f);
	for (size_t i = 0; i < NR_COMMON_OPTS; i++)
		man_opt(f, common_opts[i]);
	man_opt(f, &opt_help);
	fputs(".TP\n\\fB\\-V\\fR, \\fB\\-\\-version\\fR\nPrint the version (only as the first argument).\n", f);
	for (int c = 0; cli_commands[c]; c++) {
		const struct cli_command *cmd = cli_commands[c];

		fprintf(f, ".SS %s\n", cmd->name ? cmd->name : "The view");
		fputs("Common options:", f);
		for (int i = 0; cmd->opts[i]; i++)
			if (is_common(cmd->opts[i]))
				fprintf(f, " \\-\\-%s", cmd->opts[i]->name);
		fputs(".\n", f);
		for (int i = 0; cmd->opts[i]; i++)
			if (!is_common(cmd->opts[i]))
				man_opt(f, cmd->opts[i]);
	}
}

void cli_list_options(FILE *f)
{
	for (int c = 0; cli_commands[c]; c++) {
		const struct cli_command *cmd = cli_commands[c];

		for (int i = 0; cmd->opts[i]; i++) {
			const struct cli_opt *o = cmd->opts[i];

			fprintf(f, "%s %c%c --%s%s%s\n", cmd->name ? cmd->name : "view", o->letter ? '-' : ' ',
				o->letter ? o->letter : ' ', o->name, o->arg ? " " : "", o->arg ? o->arg : "");
			if (o->alias_letter || o->alias)
				fprintf(f, "%s %c%c --%s%s%s\n", cmd->name ? cmd->name : "view",
					o->alias_letter ? '-' : ' ', o->alias_letter ? o->alias_letter : ' ',
					o->alias ? o->alias : o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		}
	}
}
