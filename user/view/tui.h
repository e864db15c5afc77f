/* SPDX-License-Identifier: MIT */
/* The interactive view (ncurses appears only in tui*.c). It reads snapshots and history
 * from the collector; it never talks to a backend. */
#ifndef VMMEM_TUI_H
#define VMMEM_TUI_H

#include <stdbool.h>
#include "advise.h"
#include "collector.h"
#include "history.h"

enum tui_column { COL_NAME, COL_PID, COL_VCPU, COL_RSS, COL_TDPF, COL_2M, COL_TLB, COL_KSM, COL_INFL,
		  COL_DEFL, COL_WSET, NR_COLUMNS };

enum tui_mode { MODE_TABLE, MODE_DETAIL, MODE_HELP, MODE_ADVICE };

struct tui {
	struct collector *col;		/* owns the history and the advice */
	struct snapshot snap;		/* the UI's own copy of the last sample */
	bool have_snap;
	enum tui_mode mode;
	int sort;			/* enum tui_column */
	bool reverse, paused, utf8, colour;
	bool totals;			/* t: event columns as totals since start, not per second */
	char filter[VMM_NAME_MAX];		/* / or -N: VM name text */
	pid_t pid_filter;		/* -p: only this VMM (0: all) */
	int selected;			/* row index in the visible (sorted, filtered) list */
	int top;			/* first visible row */
	pid_t detail_pid;
	uint64_t detail_seq;
	double delay_s;
	int order[VMMEM_MAX_VMS];	/* visible rows: indexes into snap.vms */
	int nr_rows;
	char status[128];
	bool replay;			/* playing a recording (vmmemtop replay) */
	double speed;			/* its speed: 1, 10, INFINITY */
	bool finished;			/* the recording has no more samples */
};

extern const char *const tui_column_names[NR_COLUMNS];

/* Sort and filter snap.vms into t->order. */
void tui_order(struct tui *t);
/* History metric shown by a column's sparkline (-1: none). */
int tui_column_metric(int col);

/* Copy a VM's history (the collector's); returns the number of points. */
int tui_history(struct tui *t, const struct vm_snapshot *v, int metric, int res, float *out, int n);

void tui_draw(struct tui *t);
void tui_draw_detail(struct tui *t);
void tui_draw_help(struct tui *t);
void tui_draw_advice(struct tui *t);

/* A sparkline of values into buf (width cells, UTF-8 blocks or ASCII). */
void tui_sparkline(const float *v, int n, int width, bool utf8, char *buf, size_t sz);

struct cli_args;
/* The interactive view over what a->core opens (a replay when replay_speed > 0); totals:
 * start with the event columns as totals (--totals). */
int tui_run(const struct cli_args *a, bool totals, double replay_speed);

#endif
