// SPDX-License-Identifier: MIT
/* Drawing the main table: header (host, KSM, THP, advice), one row per VM, sparklines. */
#include <math.h>
#include <ncurses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "snapshot_table.h"
#include "tui.h"

const char *const tui_column_names[NR_COLUMNS] = {
	"NAME", "PID", "VCPU", "RSS", "TDPF/s", "2M%", "TLBIPI/s", "KSMPAGES", "INFLATE", "DEFLATE", "WSET",
};
static const int col_width[NR_COLUMNS] = { 14, 7, 4, 6, 8, 4, 8, 8, 7, 7, 6 };

int tui_column_metric(int col)
{
	switch (col) {
	case COL_TDPF: return HM_tdp_faults;
	case COL_2M: return HM_tdp_map_2m;
	case COL_TLB: return HM_tlb_shootdown_ipis;
	case COL_KSM: return HM_ksm_merged_pages;
	case COL_INFL: return HM_balloon_inflate_bytes;
	case COL_DEFL: return HM_balloon_deflate_bytes;
	}
	return HM_tdp_faults;
}

int tui_history(struct tui *t, const struct vm_snapshot *v, int metric, int res, float *out, int n)
{
	return collector_history(t->col, v->info.pid, v->seq, metric, res, out, n);
}

static double rate(const struct snapshot *s, const struct vm_snapshot *v, int id)
{
	return s->interval_s > 0 ? v->delta.c[id] / s->interval_s : 0;
}

/* An event column's value: per second over the last interval, or (t) the total since
 * vmmemtop first saw the VM. A finished 128 MiB inflate is 0/s but 128M in total. */
static double event_value(const struct snapshot *s, const struct vm_snapshot *v, int id, bool totals)
{
	return totals ? (double)v->total.c[id] : rate(s, v, id);
}

static double share_2m(const struct vm_snapshot *v)
{
	uint64_t m4 = v->total.c[VMMEM_C_tdp_map_4k], m2 = v->total.c[VMMEM_C_tdp_map_2m];
	uint64_t g1 = v->total.c[VMMEM_C_tdp_map_1g];

	return m4 + m2 + g1 ? 100.0 * m2 / (m4 + m2 + g1) : -1;
}

static double sort_key(const struct snapshot *s, const struct vm_snapshot *v, int col, bool totals)
{
	switch (col) {
	case COL_PID: return v->info.pid;
	case COL_VCPU: return v->info.vcpus.present ? (double)v->info.vcpus.v : -1;
	case COL_RSS: return v->info.rss_kb.present ? (double)v->info.rss_kb.v : -1;
	case COL_TDPF: return event_value(s, v, VMMEM_C_tdp_faults, totals);
	case COL_2M: return share_2m(v);
	case COL_TLB: return event_value(s, v, VMMEM_C_tlb_shootdown_ipis, totals);
	case COL_KSM: return v->info.ksm.ksm_merging_pages.present ? (double)v->info.ksm.ksm_merging_pages.v : -1;
	case COL_INFL: return event_value(s, v, VMMEM_C_balloon_inflate_bytes, totals);
	case COL_DEFL: return event_value(s, v, VMMEM_C_balloon_deflate_bytes, totals);
	case COL_WSET: return v->info.working_set_bytes.present ? (double)v->info.working_set_bytes.v : -1;
	}
	return 0;
}

/* The title of a column as the mode shows it: rates end in /s, totals do not. */
static const char *column_title(const struct tui *t, int c)
{
	static const char *const rate_t[NR_COLUMNS] = {
		[COL_TLB] = "TLBIPI/s", [COL_INFL] = "INFL/s", [COL_DEFL] = "DEFL/s" };
	static const char *const total_t[NR_COLUMNS] = {
		[COL_TLB] = "TLBIPI", [COL_INFL] = "INFLATE", [COL_DEFL] = "DEFLATE" };
	const char *tdp = tdp_fault_name(t->snap.host.cpu_vendor);

	if (c == COL_TDPF)
		return tdp[0] == 'E' ? (t->totals ? "EPTV" : "EPTV/s") : tdp[0] == 'N' ? (t->totals ? "NPTV" : "NPTV/s") :
		       (t->totals ? "TDPF" : "TDPF/s");
	if (rate_t[c])
		return t->totals ? total_t[c] : rate_t[c];
	return tui_column_names[c];
}

static const struct snapshot *sort_snap;
static int sort_col, sort_dir;
static bool sort_totals;

static int cmp_rows(const void *a, const void *b)
{
	const struct vm_snapshot *x = &sort_snap->vms[*(const int *)a], *y = &sort_snap->vms[*(const int *)b];
	int r;

	if (sort_col == COL_NAME) {
		r = strcmp(x->info.name, y->info.name);
	} else {
		double kx = sort_key(sort_snap, x, sort_col, sort_totals), ky = sort_key(sort_snap, y, sort_col, sort_totals);

		/* numbers sort biggest first, like top */
		r = kx < ky ? 1 : kx > ky ? -1 : 0;
	}
	if (!r)
		r = x->info.pid - y->info.pid;
	return r * sort_dir;
}

void tui_order(struct tui *t)
{
	t->nr_rows = 0;
	for (int i = 0; i < t->snap.nr_vms; i++)
		if (snapshot_vm_matches(&t->snap.vms[i], t->pid_filter, t->filter))
			t->order[t->nr_rows++] = i;
	sort_snap = &t->snap;
	sort_col = t->sort;
	sort_dir = t->reverse ? -1 : 1;
	sort_totals = t->totals;
	qsort(t->order, t->nr_rows, sizeof(int), cmp_rows);
	if (t->selected >= t->nr_rows)
		t->selected = t->nr_rows ? t->nr_rows - 1 : 0;
}

void tui_sparkline(const float *v, int n, int width, bool utf8, char *buf, size_t sz)
{
	static const char *const blocks[] = { " ", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586",
					      "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#%@";
	float max = 0;
	size_t off = 0;
	int start = n > width ? n - width : 0;

	for (int i = start; i < n; i++)
		if (v[i] == v[i] && v[i] > max)
			max = v[i];
	buf[0] = 0;
	for (int i = start; i < n && off + 4 < sz; i++) {
		int level = v[i] != v[i] || max <= 0 ? 0 : (int)ceil(v[i] / max * 8);

		if (level > 8)
			level = 8;
		if (utf8)
			off += snprintf(buf + off, sz - off, "%s", blocks[level]);
		else
			buf[off++] = ascii[level * 9 / 8], buf[off] = 0;
	}
}

static void cell_count(char *buf, size_t sz, bool avail, double v)
{
	if (!avail)
		snprintf(buf, sz, "-");
	else if (v >= 1e7)
		snprintf(buf, sz, "%.0fM", v / 1e6);
	else if (v >= 1e4)
		snprintf(buf, sz, "%.0fk", v / 1e3);
	else
		snprintf(buf, sz, "%.0f", v);
}

static void draw_header(struct tui *t)
{
	const struct snapshot *s = &t->snap;
	const struct host_state *h = &s->host;
	char a[16], b[16], c[16], d[16], line[512];
	double ksmd = s->ksmd_cpu == s->ksmd_cpu ? 100.0 * s->ksmd_cpu : -1;
	int y = 0;

	snprintf(line, sizeof(line), "vmmemtop - mem %s avail %s  swap %s/%s  backend %s  every %.1fs%s",
		 fmt_kb(h->mem.mem_total_kb, a, sizeof(a)), fmt_kb(h->mem.mem_available_kb, b, sizeof(b)),
		 fmt_kb((struct opt_u64){ h->mem.swap_total_kb.v - h->mem.swap_free_kb.v,
					  h->mem.swap_total_kb.present && h->mem.swap_free_kb.present }, c, sizeof(c)),
		 fmt_kb(h->mem.swap_total_kb, d, sizeof(d)), s->backend ? s->backend : "-", t->delay_s,
		 t->paused ? "  [paused]" : "");
	if (t->replay) {
		/* where the recording is, and how fast it plays */
		char when[32] = "-", speed[8];
		time_t wt = s->wall_time;
		struct tm tm;
		size_t off = strlen(line);

		if (t->have_snap && localtime_r(&wt, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(speed, sizeof(speed), isinf(t->speed) ? "max" : "x%.0f", t->speed);
		snprintf(line + off, sizeof(line) - off, "  replay %s at %s%s", speed, when,
			 t->finished ? "  [end of recording]" : "");
	}
	mvaddnstr(y++, 0, line, COLS);
	if (h->ksm.present)
		snprintf(line, sizeof(line), "KSM %s  sharing %llu  profit %lld MiB  %s %s  ksmd %s%%   THP %s defrag %s",
			 h->ksm.run.v == 1 ? "on" : h->ksm.run.v == 2 ? "unmerge" : "off",
			 (unsigned long long)h->ksm.pages_sharing.v,
			 h->ksm.general_profit.present ? (long long)(int64_t)h->ksm.general_profit.v / (1 << 20) : 0LL,
			 t->totals ? "scans" : "scans/s",
			 !s->available.host[VMMEM_H_ksm_scans] ? "-" : t->totals ?
				(snprintf(a, sizeof(a), "%llu", (unsigned long long)s->host_total.c[VMMEM_H_ksm_scans]), a) :
				(snprintf(a, sizeof(a), "%.1f", s->interval_s > 0 ?
					  s->host_delta.c[VMMEM_H_ksm_scans] / s->interval_s : 0), a),
			 ksmd >= 0 ? (snprintf(b, sizeof(b), "%.1f", ksmd), b) : "-",
			 h->thp.enabled[0] ? h->thp.enabled : "-", h->thp.defrag[0] ? h->thp.defrag : "-");
	else
		snprintf(line, sizeof(line), "KSM -   THP %s defrag %s", h->thp.enabled[0] ? h->thp.enabled : "-",
			 h->thp.defrag[0] ? h->thp.defrag : "-");
	mvaddnstr(y++, 0, line, COLS);
	{
		size_t off = snprintf(line, sizeof(line), "advice:");

		for (int i = 0; i < s->nr_advice && off < sizeof(line) - 40; i++)
			off += snprintf(line + off, sizeof(line) - off, " %s(%s)", s->advice[i].id, s->advice[i].target);
		if (!s->nr_advice)
			snprintf(line + off, sizeof(line) - off, " -");
		if (t->colour && s->nr_advice && strcmp(s->advice[0].id, "healthy"))
			attron(COLOR_PAIR(2));
		mvaddnstr(y++, 0, line, COLS);
		attroff(COLOR_PAIR(2));
	}
	if (t->filter[0] || t->status[0]) {
		snprintf(line, sizeof(line), "%s%s%s", t->filter[0] ? "filter: " : "", t->filter, t->status);
		mvaddnstr(y, 0, line, COLS);
	}
}

void tui_draw(struct tui *t)
{
	const struct snapshot *s = &t->snap;
	char line[1024], cell[32];
	int y = 5, x = 0, rows = LINES - y - 2, spark_w;

	erase();
	draw_header(t);
	attron(A_REVERSE);
	mvhline(4, 0, ' ', COLS);
	for (int c = 0; c < NR_COLUMNS; c++) {
		const char *name = column_title(t, c);

		if (c == t->sort)
			attron(A_BOLD | A_UNDERLINE);
		mvprintw(4, x, c == COL_NAME ? "%-*s" : "%*s", col_width[c], name);
		attroff(A_BOLD | A_UNDERLINE);
		x += col_width[c] + 1;
	}
	spark_w = COLS - x - 1;
	if (spark_w > 4)
		mvprintw(4, x, "%-*.*s", spark_w, spark_w, history_metric_name(tui_column_metric(t->sort)));
	attroff(A_REVERSE);

	if (t->selected < t->top)
		t->top = t->selected;
	if (rows > 0 && t->selected >= t->top + rows)
		t->top = t->selected - rows + 1;
	for (int r = t->top; r < t->nr_rows && y < LINES - 2; r++, y++) {
		const struct vm_snapshot *v = &s->vms[t->order[r]];
		size_t off = 0;
		double sh = share_2m(v);

		off += snprintf(line + off, sizeof(line) - off, "%-*.*s %*d ", col_width[COL_NAME], col_width[COL_NAME],
				v->info.name, col_width[COL_PID], (int)v->info.pid);
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_VCPU], v->info.vcpus.present ?
				(snprintf(cell, sizeof(cell), "%llu", (unsigned long long)v->info.vcpus.v), cell) : "-");
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_RSS], fmt_kb(v->info.rss_kb, cell, sizeof(cell)));
		cell_count(cell, sizeof(cell), s->available.vm[VMMEM_C_tdp_faults],
			   event_value(s, v, VMMEM_C_tdp_faults, t->totals));
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_TDPF], cell);
		if (sh < 0 || !s->available.vm[VMMEM_C_tdp_map_2m])
			snprintf(cell, sizeof(cell), "-");
		else
			snprintf(cell, sizeof(cell), "%.0f", sh);
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_2M], cell);
		cell_count(cell, sizeof(cell), s->available.vm[VMMEM_C_tlb_shootdown_ipis],
			   event_value(s, v, VMMEM_C_tlb_shootdown_ipis, t->totals));
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_TLB], cell);
		/* KSM: pages of this VM merged right now (/proc/PID/ksm_stat ksm_merging_pages) */
		if (v->info.ksm.ksm_merging_pages.present)
			snprintf(cell, sizeof(cell), "%llu", (unsigned long long)v->info.ksm.ksm_merging_pages.v);
		else
			snprintf(cell, sizeof(cell), "-");
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_KSM], cell);
		/* balloon bytes per second (K/s, M/s) or in total; 0 once a balloon change ended */
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_INFL],
				vm_counter_available(s, v, VMMEM_C_balloon_inflate_bytes) ? fmt_kb((struct opt_u64){
				(uint64_t)(event_value(s, v, VMMEM_C_balloon_inflate_bytes, t->totals) / 1024), true },
				cell, sizeof(cell)) : "-");
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_DEFL],
				vm_counter_available(s, v, VMMEM_C_balloon_deflate_bytes) ? fmt_kb((struct opt_u64){
				(uint64_t)(event_value(s, v, VMMEM_C_balloon_deflate_bytes, t->totals) / 1024), true },
				cell, sizeof(cell)) : "-");
		/* working set (--working-set), last: the row fits 80 columns without it */
		off += snprintf(line + off, sizeof(line) - off, "%*s ", col_width[COL_WSET],
				v->info.working_set_bytes.present ? fmt_kb((struct opt_u64){
				v->info.working_set_bytes.v / 1024, true }, cell, sizeof(cell)) : "-");
		if (r == t->selected)
			attron(A_REVERSE);
		if (v->exited && t->colour)
			attron(COLOR_PAIR(3));
		mvaddnstr(y, 0, line, COLS);
		if (spark_w > 4) {
			static float pts[300];
			char spark[1024];
			int n;

			n = tui_history(t, v, tui_column_metric(t->sort), HISTORY_RES_1S, pts,
					spark_w < 300 ? spark_w : 300);
			tui_sparkline(pts, n, spark_w, t->utf8, spark, sizeof(spark));
			if (t->colour)
				attron(COLOR_PAIR(1));
			mvaddstr(y, x, spark);
			attroff(COLOR_PAIR(1));
		}
		attroff(A_REVERSE | COLOR_PAIR(3));
	}
	if (!t->nr_rows)
		mvaddnstr(y, 0, t->have_snap ? "(no VMM processes)" : "(collecting the first sample...)", COLS);
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, t->replay ?
		  " q quit  ? help  a advice  </> sort  r reverse  / filter  Enter details  t totals  d delay  p pause  +/- speed" :
		  " q quit  ? help  a advice  </> sort  r reverse  / filter  Enter details  t totals  d delay  p pause", COLS);
	attroff(A_REVERSE);
}
