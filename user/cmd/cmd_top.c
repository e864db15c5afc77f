// SPDX-License-Identifier: MIT
/* `vmmemtop` (the default command): options, the interactive loop and its keys, batch mode. */
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <ncurses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "commands.h"
#include "tui.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* collector thread, under its lock: history and advice follow every sample */
static void on_sample(void *ctx, const struct snapshot *s)
{
	struct tui_shared *sh = ctx;

	/* the sample's own clock: a replayed recording keeps its exited VMs as long as live */
	history_push(sh->history, s, s->ts_ns ? s->ts_ns / 1e9 : mono_s());
	advise_annotate((struct snapshot *)s, &sh->advise, sh->advice, &sh->nr_advice);
}

void tui_usage(FILE *f)
{
	fprintf(f,
"usage: vmmemtop [-b] [-d SECS] [-n N] [-p PID] [-N TEXT] [--backend bpf|kmod|auto] [--track PID]...\n"
"                [--qmp PATH]... [--syscall-tracepoints] [-v]\n"
"\n"
"The live view of every VM's memory events. Keys: ? for help, q to quit.\n"
"  -b, --batch          plain text tables, like top -b (also when stdout is not a terminal)\n"
"  -d, --delay SECS     refresh delay (default 1)\n"
"  -n, --count N        stop after N refreshes (--iterations N too)\n"
"  -p, --pid PID        show only this VMM process\n"
"  -N, --name TEXT      show only VMs whose name, libvirt domain or UUID contains TEXT\n"
"                       (the view's / key changes it)\n"
"  -B, --backend B      bpf, kmod or auto (default: bpf, else /dev/vmmem)\n"
"  -t, --track PID      also count PID as a VMM\n"
"  -q, --qmp PATH       a QEMU QMP socket for the guest-side balloon (those on qemu's command\n"
"                       line are found)\n"
"      --totals         start with the event columns as totals since start (key t), not\n"
"                       per second\n"
"  -v, --verbose        print the kernel feature probes\n"
CLI_HELP_SYSCALL_TP
"\n"
"examples:\n"
"  sudo vmmemtop\n"
"  vmmemtop -b -n 5 -d 2 > log.txt\n"
"  vmmemtop -N web     # only VMs named like web*\n");
}

/* read a line at the bottom of the screen (filter, delay) */
static void prompt(const char *label, char *buf, size_t sz)
{
	move(LINES - 1, 0);
	clrtoeol();
	attron(A_BOLD);
	addstr(label);
	attroff(A_BOLD);
	echo();
	curs_set(1);
	timeout(-1);
	getnstr(buf, sz - 1);
	noecho();
	curs_set(0);
}

static void refresh_snapshot(struct tui *t)
{
	struct snapshot s;

	if (t->paused || collector_latest(t->col, &s))
		return;
	snapshot_free(&t->snap);
	t->snap = s;
	t->have_snap = true;
	tui_order(t);
}

static void redraw(struct tui *t)
{
	if (t->mode == MODE_HELP)
		tui_draw_help(t);
	else if (t->mode == MODE_DETAIL)
		tui_draw_detail(t);
	else if (t->mode == MODE_ADVICE)
		tui_draw_advice(t);
	else
		tui_draw(t);
	refresh();
}

/* Returns false to quit. */
static bool handle_key(struct tui *t, int ch)
{
	char buf[64];

	t->status[0] = 0;
	if (t->mode == MODE_HELP) {
		t->mode = MODE_TABLE;
		return ch != 'q';
	}
	switch (ch) {
	case 'q':
		return false;
	case 27:	/* Esc */
		if (t->mode == MODE_DETAIL || t->mode == MODE_ADVICE)
			t->mode = MODE_TABLE;
		else
			t->filter[0] = 0;
		break;
	case 'h': case '?':
		t->mode = MODE_HELP;
		break;
	case 'a':
		t->mode = t->mode == MODE_ADVICE ? MODE_TABLE : MODE_ADVICE;
		break;
	case KEY_UP: case 'k':
		if (t->selected > 0)
			t->selected--;
		break;
	case KEY_DOWN: case 'j':
		if (t->selected + 1 < t->nr_rows)
			t->selected++;
		break;
	case '<':
		t->sort = (t->sort + NR_COLUMNS - 1) % NR_COLUMNS;
		break;
	case '>': case KEY_F(6):
		t->sort = (t->sort + 1) % NR_COLUMNS;
		break;
	case 'r':
		t->reverse = !t->reverse;
		break;
	case 't':
		t->totals = !t->totals;
		break;
	case 'p':
		t->paused = !t->paused;
		collector_set_paused(t->col, t->paused);
		if (t->replay)	/* the recording's clock stops too */
			collector_set_speed(t->col, t->paused ? 0 : t->speed);
		break;
	case '+': case '-': {
		static const double speeds[] = { 1, 10, INFINITY };
		int i = t->speed >= 10 ? (isinf(t->speed) ? 2 : 1) : 0;

		if (!t->replay) {
			snprintf(t->status, sizeof(t->status), "  (+/- set the speed of a replay: vmmemtop replay FILE)");
			break;
		}
		i = ch == '+' ? (i < 2 ? i + 1 : 2) : (i > 0 ? i - 1 : 0);
		t->speed = speeds[i];
		if (!t->paused)
			collector_set_speed(t->col, t->speed);
		break;
	}
	case '/':
		prompt("filter: ", buf, sizeof(buf));
		snprintf(t->filter, sizeof(t->filter), "%s", buf);
		t->selected = 0;
		break;
	case 'd': {
		double d;

		prompt("delay (seconds): ", buf, sizeof(buf));
		if (cli_parse_double(buf, 0.2, 3600, &d) == 0) {
			t->delay_s = d;
			collector_set_interval(t->col, d);
		} else {
			snprintf(t->status, sizeof(t->status), "  (bad delay '%s': 0.2 to 3600 seconds)", buf);
		}
		break;
	}
	case '\n': case KEY_ENTER:
		if (t->mode == MODE_DETAIL) {
			t->mode = MODE_TABLE;
		} else if (t->nr_rows) {
			t->detail_pid = t->snap.vms[t->order[t->selected]].info.pid;
			t->detail_seq = t->snap.vms[t->order[t->selected]].seq;
			t->mode = MODE_DETAIL;
		}
		break;
	case KEY_RESIZE:
		break;
	}
	tui_order(t);
	return true;
}

int tui_run(struct snapshot_opts *o)
{
	static struct tui t;
	static struct tui_shared shared;
	struct collector_options copt = { .core = o->core, .interval_s = o->interval_s,
					  .on_sample = on_sample, .hook_ctx = &shared };
	uint64_t gen = 0;
	long shown = 0;
	char err[512];
	int ret;

	shared.history = history_new();
	if (!shared.history) {
		cli_error("out of memory");
		return EXIT_RUNTIME;
	}
	ret = collector_start(&t.col, &copt, err, sizeof(err));
	if (ret) {
		cli_error("%s", err);
		history_free(shared.history);
		return EXIT_RUNTIME;
	}
	t.shared = &shared;
	t.delay_s = o->interval_s;
	t.pid_filter = o->pid;
	t.totals = o->totals;
	if (o->name)
		snprintf(t.filter, sizeof(t.filter), "%s", o->name);
	t.replay = o->replay_speed > 0;
	t.speed = o->replay_speed;
	if (t.replay)
		collector_set_speed(t.col, t.speed);
	t.sort = COL_TDPF;
	setlocale(LC_ALL, "");
	t.utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_YELLOW, -1);
		init_pair(3, COLOR_RED, -1);
		t.colour = true;
	}
	cli_install_signals();
	redraw(&t);
	while (!cli_stop) {
		uint64_t g = collector_generation(t.col);
		int ch;

		if (t.replay && !t.finished && collector_finished(t.col)) {
			t.finished = true;
			redraw(&t);
		}
		if (g != gen) {
			gen = g;
			refresh_snapshot(&t);
			redraw(&t);
			if (o->count > 0 && ++shown >= o->count)
				break;
		}
		timeout(200);
		ch = getch();
		if (ch == ERR)
			continue;
		if (!handle_key(&t, ch))
			break;
		redraw(&t);
	}
	endwin();
	collector_stop(t.col);
	history_free(shared.history);
	snapshot_free(&t.snap);
	return EXIT_OK;
}

int cmd_top(int argc, char **argv)
{
	enum { OPT_TOTALS = 0x100 };
	static const struct option longopts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'N' },
		{ "backend", required_argument, NULL, 'B' },
		{ "track", required_argument, NULL, 't' },
		{ "qmp", required_argument, NULL, 'q' },
		{ "totals", no_argument, NULL, OPT_TOTALS },
		{ "verbose", no_argument, NULL, 'v' },
		CLI_LONGOPT_SYSCALL_TP,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct snapshot_opts o = { .interval_s = 1, .count = 0, .core = { .backend = "auto" } };
	bool batch = false;
	long n;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "bd:n:p:N:B:t:q:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			batch = true;
			break;
		case 'd':
			if (cli_parse_double(optarg, 0.2, 3600, &o.interval_s)) {
				cli_error("bad -d '%s': need seconds between 0.2 and 3600", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'n':
			if (cli_parse_long(optarg, 1, 1000000000L, &n)) {
				cli_error("bad -n '%s': need a positive count", optarg);
				return EXIT_USAGE;
			}
			o.count = n;
			break;
		case 'B':
			if (cli_set_backend(&o.core, optarg))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pid(optarg, &o.pid)) {
				cli_error("bad --pid '%s': need a process id", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'N':
			if (!*optarg || strlen(optarg) >= sizeof(((struct tui *)0)->filter)) {
				cli_error("bad --name '%s': need 1 to %zu characters of a VM name", optarg,
					  sizeof(((struct tui *)0)->filter) - 1);
				return EXIT_USAGE;
			}
			o.name = optarg;
			break;
		case 't':
			if (cli_add_track(&o.core, optarg))
				return EXIT_USAGE;
			break;
		case 'q':
			if (cli_add_qmp(&o.core, optarg))
				return EXIT_USAGE;
			break;
		case OPT_TOTALS:
			o.totals = true;
			break;
		case 'v':
			o.core.verbose = true;
			break;
		case CLI_OPT_SYSCALL_TP:
			o.core.syscall_tracepoints = true;
			break;
		case 'h':
			tui_usage(stdout);
			return EXIT_OK;
		default:
			tui_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		cli_error("unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	if (batch || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return run_snapshots(&o);
	return tui_run(&o);
}
