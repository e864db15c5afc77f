// SPDX-License-Identifier: MIT
/* `vmmemtop` (the default command): its table entry, the interactive loop and its keys,
 * batch mode. */
#include <stddef.h>
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
		if (cli_parse_double(buf, CLI_INTERVAL_MIN, CLI_INTERVAL_MAX, &d) == 0) {
			t->delay_s = d;
			collector_set_interval(t->col, d);
		} else {
			snprintf(t->status, sizeof(t->status), "  (bad delay '%s': %g to %g seconds)", buf,
				 CLI_INTERVAL_MIN, (double)CLI_INTERVAL_MAX);
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

int tui_run(const struct cli_args *o, bool totals, double replay_speed)
{
	static struct tui t;
	struct collector_options copt = { .core = o->core, .interval_s = o->interval_s,
					  .history = true, .advise = true };
	uint64_t gen = 0;
	long shown = 0;
	char err[512];
	int ret;

	ret = collector_start(&t.col, &copt, err, sizeof(err));
	if (ret) {
		cli_error("%s", err);
		return EXIT_RUNTIME;
	}
	t.delay_s = o->interval_s;
	t.pid_filter = o->pid;
	t.totals = totals;
	if (o->name)
		snprintf(t.filter, sizeof(t.filter), "%s", o->name);
	t.replay = replay_speed > 0;
	t.speed = replay_speed;
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
	snapshot_free(&t.snap);
	return EXIT_OK;
}

struct view_own {
	bool totals;
};

static int view_run(struct cli_args *a, void *own)
{
	const struct view_own *v = own;

	if (a->batch || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO))
		return run_snapshots(a, 0);
	return tui_run(a, v->totals, 0);
}

static const struct cli_opt opt_totals = { "totals", 0, NULL, CLI_FLAG, true, offsetof(struct view_own, totals),
	.help = "start with the event columns as totals since start (key t), not per second\n" };

const struct cli_command cmd_view = {
	.summary = "the interactive view (plain text with -b or when not on a terminal)",
	.about = "The live view of every VM's memory events. Keys: ? for help, q to quit.\n",
	.opts = CLI_OPTS(&cli_opt_batch, &cli_opt_interval, &cli_opt_count, &cli_opt_pid,
			 &cli_opt_name, &cli_opt_qmp, &opt_totals, CLI_LIVE_OPTS),
	.after = "examples:\n"
		 "  sudo vmmemtop\n"
		 "  vmmemtop -b -n 5 -d 2 > log.txt\n"
		 "  vmmemtop -N web     # only VMs named like web*\n",
	.own_size = sizeof(struct view_own),
	.run = view_run,
};
