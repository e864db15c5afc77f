// SPDX-License-Identifier: MIT
/* Drill-down: every counter of one VM (rate and total), its latency histograms, and longer
 * history graphs (5 min at 1 s, 1 h at 10 s, 24 h at 1 min) of the selected metric. */
#include <ncurses.h>
#include <stdio.h>
#include <string.h>
#include "fact_table.h"
#include "snapshot_table.h"
#include "text_wrap.h"
#include "tui.h"

/* Append " key value" for each fact of group that the detail shows (FF_SHOW in
 * user/facts/fact_table.h), the value in its unit (sizes as K/M/G, the unit suffix left off the key). */
static size_t put_facts(char *buf, size_t sz, size_t len, const struct vmm_info *i, int group)
{
	for (int k = 0; k < VM_NR_FACTS && len < sz; k++) {
		const struct fact *f = &vm_facts[k];
		char val[32];
		int n;

		if (!(f->flags & FF_SHOW) || (int)f->group != group)
			continue;
		fmt_fact(f, i, val, sizeof(val));
		n = strlen(f->json);
		if (n > 6 && !strcmp(f->json + n - 6, "_bytes"))
			n -= 6;
		len += snprintf(buf + len, sz - len, "  %.*s %s", n, f->json, val);
	}
	return len < sz ? len : sz - 1;
}

/* One line of guest-side facts from QMP, when the VM has a QMP socket. */
static void tui_draw_qmp(const struct vmm_info *i, int y)
{
	const struct vmm_qmp *q = &i->qmp;
	char line[512];

	if (!q->socket[0])
		return;
	if (!q->up)
		snprintf(line, sizeof(line), "QMP %.40s: %.60s", q->socket, q->error);
	else
		put_facts(line, sizeof(line), snprintf(line, sizeof(line), "QMP:"), i, FG_QMP);
	mvaddnstr(y, 0, line, COLS);
}

/* The working set (--working-set: DAMON from the host, guest accesses included), or why not. */
static void tui_draw_working_set(const struct vmm_info *i, int y)
{
	char line[320], ws[16];

	if (i->working_set_bytes.present)
		snprintf(line, sizeof(line), "working set %s (accessed within the window; DAMON, from the host)",
			 fmt_kb((struct opt_u64){ i->working_set_bytes.v / 1024, true }, ws, sizeof(ws)));
	else
		snprintf(line, sizeof(line), "working set -  (%.200s)", i->working_set_why[0] ? i->working_set_why :
			 "not recorded");
	mvaddnstr(y, 0, line, COLS);
}

/* One line of host eviction facts from /proc and the VM's own cgroup (no tracing needed). */
static void tui_draw_evict(const struct vmm_info *i, int y)
{
	char line[512];
	size_t len = put_facts(line, sizeof(line), snprintf(line, sizeof(line), "host eviction:"), i, FG_TOP);

	if (!i->cgroup.own)
		snprintf(line + len, sizeof(line) - len, "  (no cgroup of its own)");
	else
		put_facts(line, sizeof(line), len + snprintf(line + len, sizeof(line) - len, "  cgroup"), i,
			  FG_CGROUP);
	mvaddnstr(y, 0, line, COLS);
}

/* One line on the guest's IPIs and whether it uses PV TLB flush (issue 18): the target states
 * say how often a vCPU waits for a preempted one; pv_tlb_flushes > 0 says the guest flags
 * preempted vCPUs to flush at their next entry instead of waiting for them. */
static void tui_draw_ipi(const struct snapshot *s, const struct vm_snapshot *v, int y)
{
	const struct vmmem_hist *h = &v->hist_total.h[VMMEM_HIST_ipi_delivery_ns];
	uint64_t all = v->total.c[VMMEM_C_guest_ipis];

	move(y, 0);
	if (!vm_counter_available(s, v, VMMEM_C_guest_ipis)) {
		printw("guest IPIs: -  (no hook here: see -v)");
	} else {
		printw("guest IPIs: %llu", (unsigned long long)all);
		if (all)
			printw(" (%.0f%% to preempted, %.0f%% halted, %.0f%% running vCPUs), delivery p50 %.1f us",
			       100.0 * v->total.c[VMMEM_C_guest_ipis_to_preempted] / all,
			       100.0 * v->total.c[VMMEM_C_guest_ipis_to_halted] / all,
			       100.0 * v->total.c[VMMEM_C_guest_ipis_to_running] / all,
			       hist_quantile_ns(h, 0.5) / 1e3);
	}
	if (!vm_counter_available(s, v, VMMEM_C_pv_tlb_flushes))
		printw("  PV TLB flush: -");
	else
		printw("  PV TLB flush: %s", v->total.c[VMMEM_C_pv_tlb_flushes] ? "in use" : "not seen");
}

/* One line on the TLB flushes KVM made of this VM, by the task that caused them (issue 18):
 * each one interrupts every running vCPU of the VM and costs its TLB. */
static void tui_draw_flushes(const struct snapshot *s, const struct vm_snapshot *v, int y)
{
	move(y, 0);
	if (!vm_counter_available(s, v, VMMEM_C_flushes_recv_ksmd)) {
		printw("TLB flushes received: -  (no hook here: see -v)");
		return;
	}
	printw("TLB flushes received/s by cause:");
	for (int i = 0; i < VMMEM_NR_FLUSH_CAUSES; i++)
		printw(" %s %.1f", flush_cause_names[i],
		       s->interval_s > 0 ? v->delta.c[VMMEM_C_flushes_recv_ksmd + i] / s->interval_s : 0.0);
	if (vm_counter_available(s, v, VMMEM_C_shootdowns_recv_ksmd)) {
		uint64_t n = 0;

		for (int i = 0; i < VMMEM_NR_SHOOT_CAUSES; i++)
			n += v->delta.c[VMMEM_C_shootdowns_recv_ksmd + i];
		printw("  shootdowns from others/s %.1f", s->interval_s > 0 ? n / s->interval_s : 0.0);
	}
}

void tui_draw_detail(struct tui *t)
{
	const struct snapshot *s = &t->snap;
	const struct vm_snapshot *v = NULL;
	static const char *const res_names[] = { "5 min (1 s)", "1 h (10 s)", "24 h (1 min)" };
	int y = 0, top, half = COLS / 2;

	for (int i = 0; i < s->nr_vms; i++)
		if (s->vms[i].info.pid == t->detail_pid && s->vms[i].seq == t->detail_seq)
			v = &s->vms[i];
	erase();
	if (!v) {
		mvprintw(0, 0, "pid %d is gone (Esc: back)", (int)t->detail_pid);
		return;
	}
	attron(A_BOLD);
	mvprintw(y++, 0, "%s  pid %d  comm %s  vcpus %s%s", v->info.name, (int)v->info.pid, v->info.comm,
		 v->info.vcpus.present ? "" : "-", v->exited ? "  (exited)" : "");
	if (v->info.vcpus.present)
		printw("%llu", (unsigned long long)v->info.vcpus.v);
	attroff(A_BOLD);
	if (v->info.uuid[0] || v->info.libvirt_domain[0] || v->info.machine[0] || v->info.vmid[0]) {
		char id[512];

		/* what identifies the VM beyond this process (the Prometheus labels vm, uuid) */
		snprintf(id, sizeof(id), "uuid %s  libvirt %s  machine %s  vmid %s",
			 v->info.uuid[0] ? v->info.uuid : "-", v->info.libvirt_domain[0] ? v->info.libvirt_domain : "-",
			 v->info.machine[0] ? v->info.machine : "-", v->info.vmid[0] ? v->info.vmid : "-");
		mvaddnstr(y++, 0, id, COLS);
	}
	tui_draw_qmp(&v->info, y++);
	{
		char rss[16], swp[16], thp[16], age[48] = "";

		/* AnonHugePages is a page-table walk done about once a minute: say how old it is */
		if (v->info.anon_huge_kb.present && v->info.anon_huge_time.present &&
		    s->wall_time >= (int64_t)v->info.anon_huge_time.v)
			snprintf(age, sizeof(age), " (read %llds ago)",
				 (long long)(s->wall_time - (int64_t)v->info.anon_huge_time.v));
		mvprintw(y++, 0, "RSS %s  swap %s  THP %s%s", fmt_kb(v->info.rss_kb, rss, sizeof(rss)),
			 fmt_kb(v->info.swap_kb, swp, sizeof(swp)), fmt_kb(v->info.anon_huge_kb, thp, sizeof(thp)), age);
	}
	tui_draw_working_set(&v->info, y++);
	tui_draw_evict(&v->info, y++);
	tui_draw_ipi(s, v, y++);
	tui_draw_flushes(s, v, y++);
	top = y;
	attron(A_REVERSE);
	mvprintw(y++, 0, "%-26s %12s %14s", "counter", "per second", "total");
	attroff(A_REVERSE);
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS && y < LINES - 12; k++) {
		if (!vm_counter_available(s, v, k)) {
			mvprintw(y++, 0, "%-26s %12s %14s", vm_counter_names[k], "-", "-");
			continue;
		}
		mvprintw(y++, 0, "%-26s %12.1f %14llu", vm_counter_names[k],
			 s->interval_s > 0 ? v->delta.c[k] / s->interval_s : 0.0, (unsigned long long)v->total.c[k]);
	}
	/* histograms in the right half */
	{
		int hy = top;	/* beside the counters, below the lines above them */

		attron(A_REVERSE);
		mvprintw(hy++, half, "%-22s %10s %10s %10s", "latency", "count", "p50 us", "p99 us");
		attroff(A_REVERSE);
		for (int k = 0; k < VMMEM_NR_VM_HISTS; k++) {
			const struct vmmem_hist *h = &v->hist_total.h[k];

			if (!s->available.vm_hist[k])
				mvprintw(hy++, half, "%-22s %10s %10s %10s", vm_hist_names[k], "-", "-", "-");
			else
				mvprintw(hy++, half, "%-22s %10llu %10.1f %10.1f", vm_hist_names[k],
					 (unsigned long long)hist_count(h), hist_quantile_ns(h, 0.5) / 1e3,
					 hist_quantile_ns(h, 0.99) / 1e3);
		}
	}
	y++;
	for (int r = 0; r < HISTORY_NR_RES && y < LINES - 2; r++) {
		static float pts[1440];
		char spark[8192];
		int w = COLS - 2, n;

		n = tui_history(t, v, tui_column_metric(t->sort), r, pts, w < 1440 ? w : 1440);
		mvprintw(y++, 0, "%s per second, last %s:", history_metric_name(tui_column_metric(t->sort)),
			 res_names[r]);
		tui_sparkline(pts, n, w, t->utf8, spark, sizeof(spark));
		if (t->colour)
			attron(COLOR_PAIR(1));
		mvaddstr(y++, 1, spark);
		attroff(COLOR_PAIR(1));
	}
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, " Esc/Enter back  </> graph metric  q quit", COLS);
	attroff(A_REVERSE);
}

/* label (e.g. "  evidence: ") then text wrapped at the screen's width, continuation lines
 * indented under the text; returns the next free row */
static int draw_wrapped(int y, const char *label, const char *text)
{
	enum { MAX_LINES = 32 };
	int start[MAX_LINES], len[MAX_LINES], ind = strlen(label), n;

	n = text_wrap(text, COLS - ind, start, len, MAX_LINES);
	for (int i = 0; i < n && i < MAX_LINES && y < LINES - 2; i++, y++) {
		mvprintw(y, 0, "%-*s", ind, i ? "" : label);
		addnstr(text + start[i], len[i]);
	}
	return y;
}

/* The advice pane: every recommendation in force with its evidence, commands and risk,
 * wrapped at the screen's width (a cut evidence line hides the number that matters). */
void tui_draw_advice(struct tui *t)
{
	static struct advice a[ADVISE_MAX];
	int n = collector_advice(t->col, a, ADVISE_MAX), y = 0;

	erase();
	attron(A_BOLD);
	mvaddnstr(y++, 0, "advice (vmmemtop advise; the same rules, with hysteresis)", COLS);
	attroff(A_BOLD);
	for (int i = 0; i < n && y < LINES - 2; i++) {
		char line[1200], *cmd, *save = NULL;

		y++;
		if (t->colour)
			attron(COLOR_PAIR(a[i].severity == ADVICE_CRIT ? 3 : a[i].severity == ADVICE_WARN ? 2 : 1));
		snprintf(line, sizeof(line), "[%s] %s  %s", advice_severity_name(a[i].severity), a[i].id, a[i].target);
		mvaddnstr(y++, 0, line, COLS);
		attroff(COLOR_PAIR(1) | COLOR_PAIR(2) | COLOR_PAIR(3));
		y = draw_wrapped(y, "  evidence: ", a[i].evidence);
		y = draw_wrapped(y, "  action:   ", a[i].action);
		snprintf(line, sizeof(line), "%s", a[i].command);
		for (cmd = strtok_r(line, "\n", &save); cmd && y < LINES - 2; cmd = strtok_r(NULL, "\n", &save))
			y = draw_wrapped(y, "  $ ", cmd);
		if (a[i].risk[0])
			y = draw_wrapped(y, "  risk:     ", a[i].risk);
	}
	attron(A_REVERSE);
	mvhline(LINES - 1, 0, ' ', COLS);
	mvaddnstr(LINES - 1, 0, " a/Esc back  q quit", COLS);
	attroff(A_REVERSE);
}

void tui_draw_help(struct tui *t)
{
	static const char *const lines[] = {
		"vmmemtop keys",
		"",
		"  Up/Down, j/k     move the selection",
		"  < > F6           choose the sort column (also the sparkline's metric)",
		"  r                reverse the sort",
		"  t                event columns and KSM scans: per second <-> totals since start",
		"  /                filter rows by VM name (Enter to apply, Esc to clear)",
		"  Enter            details of the selected VM: all counters, latencies, history",
		"  d                change the refresh delay (seconds)",
		"  p                pause (counting goes on; the screen freezes; a replay stops)",
		"  + -              replay speed: x1, x10, max (vmmemtop replay FILE)",
		"  a                the advice pane: every recommendation with evidence and commands",
		"  h ?              this help",
		"  q                quit",
		"",
		"Columns: EPTV/s (Intel) or NPTV/s (AMD) = TDP faults handled by KVM per second;",
		"2M% = share of KVM's TDP mappings installed at 2M; TLBIPI/s = shootdowns the VMM sent;",
		"KSMPAGES = pages merged now (/proc/PID/ksm_stat); INFL/s, DEFL/s = balloon bytes per",
		"second the VMM discarded / asked back (t: INFLATE, DEFLATE in total since vmmemtop saw the",
		"VM: a finished inflate is 0/s but its size in total). '-' = not measurable on this kernel.",
		"",
		"Press any key to return.",
	};

	(void)t;
	erase();
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]) && (int)i < LINES; i++)
		mvaddnstr(i, 0, lines[i], COLS);
}
