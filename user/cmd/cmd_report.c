// SPDX-License-Identifier: MIT
/* `vmmemtop report FILE`: a recording summarised per VM (events by type beside the counters'
 * increase over the same window, lost records, latency histograms printed like bcc's tools)
 * and its slowest events; or the same as JSON (schema vmmemtop.report/1). */
#include <stddef.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "commands.h"
#include "events.h"
#include "report.h"
#include "snapshot_json.h"

#define REPORT_SCHEMA "vmmemtop.report/1"

static const char *madv_name(uint64_t b)
{
	switch (b) {
	case 3: return "MADV_WILLNEED";
	case 4: return "MADV_DONTNEED";
	case 8: return "MADV_FREE";
	case 9: return "MADV_REMOVE";
	case 24: return "MADV_DONTNEED_LOCKED";
	}
	return b & 0x100 ? "fallocate PUNCH_HOLE" : "madvise";
}

static void event_detail(const struct vmmem_event *ev, char *buf, size_t sz)
{
	switch (ev->type) {
	case VMMEM_EV_tdp_fault:
		snprintf(buf, sz, "GPA 0x%" PRIx64 " error 0x%" PRIx64, (uint64_t)ev->a, (uint64_t)ev->b);
		break;
	case VMMEM_EV_slow_fault:
		snprintf(buf, sz, "GPA 0x%" PRIx64, (uint64_t)ev->a);
		break;
	case VMMEM_EV_exit:
	case VMMEM_EV_slow_exit:
		snprintf(buf, sz, "exit reason 0x%" PRIx64 " (%s)", (uint64_t)ev->a,
			 ev->b == 1 ? "VMX" : ev->b == 2 ? "SVM" : "?");
		break;
	case VMMEM_EV_slow_ipi:
		snprintf(buf, sz, "IPI to vCPU thread %" PRIu64 " from thread %" PRIu64, (uint64_t)ev->a,
			 (uint64_t)ev->b);
		break;
	case VMMEM_EV_balloon:
		snprintf(buf, sz, "%" PRIu64 " bytes, %s", (uint64_t)ev->a, madv_name(ev->b));
		break;
	case VMMEM_EV_tlb_shootdown:
		if (ev->a == ~0ull)
			snprintf(buf, sz, "full flush");
		else
			snprintf(buf, sz, "%" PRIu64 " pages", (uint64_t)ev->a);
		break;
	case VMMEM_EV_flush_recv:
		snprintf(buf, sz, "flush caused by %s, pid %" PRIu64,
			 ev->a < VMMEM_NR_FLUSH_CAUSES ? flush_cause_names[ev->a] : "?", (uint64_t)ev->b);
		break;
	case VMMEM_EV_ksm_scan:
		snprintf(buf, sz, "scan %.1f ms, %" PRIu64 " rmap entries", ev->a / 1e6, (uint64_t)ev->b);
		break;
	default:
		snprintf(buf, sz, "a=%" PRIu64 " b=%" PRIu64, (uint64_t)ev->a, (uint64_t)ev->b);
	}
}

static void fmt_dur(uint64_t ns, char *buf, size_t sz)
{
	if (ns >= 1000000000ull)
		snprintf(buf, sz, "%.2f s", ns / 1e9);
	else if (ns >= 1000000)
		snprintf(buf, sz, "%.2f ms", ns / 1e6);
	else if (ns >= 1000)
		snprintf(buf, sz, "%.1f us", ns / 1e3);
	else
		snprintf(buf, sz, "%" PRIu64 " ns", ns);
}

/* wall-clock time of a CLOCK_MONOTONIC stamp, from the pair the recorder wrote at its start */
static void fmt_wall(const struct report *rp, uint64_t ts_ns, char *buf, size_t sz, bool with_date)
{
	struct tm tm;
	time_t t;
	int64_t real;

	if (!rp->start_real_ns || !rp->start_mono_ns) {
		snprintf(buf, sz, "-");
		return;
	}
	real = (int64_t)rp->start_real_ns + (int64_t)(ts_ns - rp->start_mono_ns);
	t = real / 1000000000;
	if (!localtime_r(&t, &tm)) {
		snprintf(buf, sz, "-");
		return;
	}
	strftime(buf, sz, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	if (!with_date && strlen(buf) + 5 < sz)
		snprintf(buf + strlen(buf), sz - strlen(buf), ".%03d", (int)(real / 1000000 % 1000));
}

/* A log2 histogram in the layout bcc's tools print (value range : count |stars|). */
static void print_log2(FILE *f, const struct vmmem_hist *h)
{
	int first = -1, last = -1;
	uint64_t max = 0;

	for (int i = 0; i < VMMEM_HIST_SLOTS; i++) {
		if (!h->slot[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (h->slot[i] > max)
			max = h->slot[i];
	}
	if (first < 0)
		return;
	fprintf(f, "     %-30s : count     distribution\n", "nsecs");
	for (int i = first; i <= last; i++) {
		uint64_t lo = i ? 1ull << i : 0, hi = (2ull << i) - 1;
		int stars = (int)(h->slot[i] * 40 / max);
		char bar[41];

		memset(bar, '*', stars);
		memset(bar + stars, ' ', 40 - stars);
		bar[40] = 0;
		fprintf(f, "     %14" PRIu64 " -> %-12" PRIu64 " : %-9" PRIu64 " |%s|\n", lo, hi, (uint64_t)h->slot[i], bar);
	}
}

static bool streamed(const struct report *rp, int type)
{
	return rp->event_mask & VMMEM_EV_BIT(type);
}

struct check {
	const char *label;		/* event type (and direction) */
	int type;
	int counter;
	uint64_t recorded, lost, increase;
	bool bytes;
};

/* The reconciliations a VM allows: each streamed per-event type and balloon bytes. */
static int vm_checks(const struct report *rp, const struct report_vm *v, struct check *out)
{
	static const int per_event[] = { VMMEM_EV_tdp_fault, VMMEM_EV_exit, VMMEM_EV_tlb_shootdown,
					 VMMEM_EV_ksm_merge, VMMEM_EV_flush_recv };
	int n = 0;

	for (size_t i = 0; i < sizeof(per_event) / sizeof(per_event[0]); i++) {
		int t = per_event[i], k = report_event_counter(t);

		if (!streamed(rp, t) || !rp->available.vm[k])
			continue;
		out[n++] = (struct check){ rp->ev_names[t], t, k, v->events[t], v->lost.events[t], v->increase.c[k], false };
	}
	if (streamed(rp, VMMEM_EV_balloon) && rp->available.vm[VMMEM_C_balloon_inflate_bytes]) {
		out[n++] = (struct check){ "balloon_inflate", VMMEM_EV_balloon, VMMEM_C_balloon_inflate_bytes,
					   v->inflate_bytes, v->lost.balloon_inflate_bytes,
					   v->increase.c[VMMEM_C_balloon_inflate_bytes], true };
		out[n++] = (struct check){ "balloon_deflate", VMMEM_EV_balloon, VMMEM_C_balloon_deflate_bytes,
					   v->deflate_bytes, v->lost.balloon_deflate_bytes,
					   v->increase.c[VMMEM_C_balloon_deflate_bytes], true };
	}
	return n;
}

static double window_s(const struct report *rp)
{
	return rp->have_window ? (rp->window_end_ns - rp->window_start_ns) / 1e9 : 0;
}

/* KVM's remote TLB flushes of the VM by cause over the window, as perf kvm stat tabulates
 * exits: each one interrupts every running vCPU of the VM; then, from flush_recv records, the
 * tasks that caused the most of them. */
static void print_flushes(FILE *f, const struct report *rp, const struct report_vm *v, double secs)
{
	uint64_t all = 0;

	if (!rp->available.vm[VMMEM_C_flushes_recv_ksmd])
		return;
	for (int c = 0; c < VMMEM_NR_FLUSH_CAUSES; c++)
		all += v->increase.c[VMMEM_C_flushes_recv_ksmd + c];
	if (!all)
		return;
	fprintf(f, "  flushes received by cause:\n    %-12s %12s %8s %12s\n", "cause", "flushes", "%", "per second");
	for (int c = 0; c < VMMEM_NR_FLUSH_CAUSES; c++) {
		uint64_t n = v->increase.c[VMMEM_C_flushes_recv_ksmd + c];

		if (n)
			fprintf(f, "    %-12s %12" PRIu64 " %7.1f%% %12.1f\n", flush_cause_names[c], n, 100.0 * n / all,
				secs > 0 ? n / secs : 0.0);
	}
	if (v->nr_flush_tasks)
		fprintf(f, "    caused by (flush_recv records):");
	for (int i = 0; i < v->nr_flush_tasks; i++)
		fprintf(f, "%s pid %" PRIu32 " (%s) %" PRIu64, i ? "," : "", v->flush_tasks[i].pid,
			v->flush_tasks[i].cause < VMMEM_NR_FLUSH_CAUSES ? flush_cause_names[v->flush_tasks[i].cause] : "?",
			v->flush_tasks[i].n);
	if (v->flush_tasks_more)
		fprintf(f, ", %" PRIu64 " more from other tasks", v->flush_tasks_more);
	if (v->nr_flush_tasks)
		fputc('\n', f);
	if (!rp->available.vm[VMMEM_C_shootdowns_recv_ksmd])
		return;
	fprintf(f, "    TLB shootdowns other tasks sent for its mm:");
	for (int c = 0; c < VMMEM_NR_SHOOT_CAUSES; c++)
		fprintf(f, "%s %s %" PRIu64, c ? "," : "", flush_cause_names[c == VMMEM_NR_SHOOT_CAUSES - 1 ? VMMEM_FLUSH_other : c],
			(uint64_t)v->increase.c[VMMEM_C_shootdowns_recv_ksmd + c]);
	fputc('\n', f);
}

static double pct(uint64_t part, uint64_t all)
{
	return all ? 100.0 * part / all : 0.0;
}

static int cmp_ipi_target(const void *a, const void *b)
{
	const struct report_ipi_target *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : (x->max_ns < y->max_ns) - (x->max_ns > y->max_ns);
}

/* One histogram on one line: spans, p50, p99 (or nothing if unavailable or empty). */
static void print_hist_line(FILE *f, const struct report *rp, const struct report_vm *v, int k, const char *label)
{
	const struct vmmem_hist *h = &v->hists.h[k];
	uint64_t cnt = hist_count(h);
	char p50[24], p99[24];

	if (!cnt || !rp->available.vm_hist[k])
		return;
	fmt_dur(hist_quantile_ns(h, 0.5), p50, sizeof(p50));
	fmt_dur(hist_quantile_ns(h, 0.99), p99, sizeof(p99));
	fprintf(f, "    %s: %" PRIu64 ", p50 < %s, p99 < %s\n", label, cnt, p50, p99);
}

/*
 * The guest IPI section (like `perf kvm stat`'s summaries): the IPIs the VM's vCPUs sent over
 * the window by the target's state, their delivery time, the vCPUs' preemptions, and the slow
 * deliveries recorded, by target vCPU thread with the sender of the slowest.
 */
static void print_ipis(FILE *f, const struct report *rp, const struct report_vm *v)
{
	const __u64 *c = v->increase.c;
	uint64_t all = c[VMMEM_C_guest_ipis], lost = v->lost.events[VMMEM_EV_slow_ipi];
	struct report_ipi_target t[REPORT_IPI_TARGETS];
	char slow[24];

	if (!rp->available.vm[VMMEM_C_guest_ipis] || (!all && !v->events[VMMEM_EV_slow_ipi]))
		return;
	fprintf(f, "  guest IPIs: %" PRIu64 " sent", all);
	if (all && rp->available.vm[VMMEM_C_guest_ipis_to_preempted]) {
		uint64_t pre = c[VMMEM_C_guest_ipis_to_preempted], halt = c[VMMEM_C_guest_ipis_to_halted];
		uint64_t run = c[VMMEM_C_guest_ipis_to_running], known = pre + halt + run;

		fprintf(f, "; target preempted %" PRIu64 " (%.1f %%), halted %" PRIu64 " (%.1f %%), in guest %" PRIu64
			" (%.1f %%), other %" PRIu64, pre, pct(pre, all), halt, pct(halt, all), run, pct(run, all),
			all > known ? all - known : 0);
	}
	fputc('\n', f);
	print_hist_line(f, rp, v, VMMEM_HIST_ipi_delivery_ns, "delivery (send to the target's next entry)");
	if (rp->available.vm[VMMEM_C_vcpu_preemptions] && c[VMMEM_C_vcpu_preemptions])
		fprintf(f, "    vCPU preemptions: %" PRIu64 "\n", (uint64_t)c[VMMEM_C_vcpu_preemptions]);
	print_hist_line(f, rp, v, VMMEM_HIST_vcpu_preempted_ns, "runnable vCPU off CPU");
	if (!streamed(rp, VMMEM_EV_slow_ipi))
		return;
	fmt_dur(rp->slow_event_ns, slow, sizeof(slow));
	fprintf(f, "    slow deliveries recorded (>= %s): %" PRIu64 ", lost %" PRIu64 "\n", slow,
		v->events[VMMEM_EV_slow_ipi], lost);
	memcpy(t, v->ipi_targets, v->nr_ipi_targets * sizeof(t[0]));
	qsort(t, v->nr_ipi_targets, sizeof(t[0]), cmp_ipi_target);
	for (int i = 0; i < v->nr_ipi_targets; i++) {
		const char *to = report_thread_name(rp, v->pid, t[i].tid);
		const char *from = report_thread_name(rp, v->pid, t[i].slowest_from);
		char max[24];

		fmt_dur(t[i].max_ns, max, sizeof(max));
		fprintf(f, "      to vCPU thread %s (%d): %" PRIu64 ", slowest %s, sent by %s (%d)\n", to[0] ? to : "?",
			(int)t[i].tid, t[i].n, max, from[0] ? from : "?", (int)t[i].slowest_from);
	}
	if (v->ipi_targets_other)
		fprintf(f, "      %" PRIu64 " more to other threads\n", v->ipi_targets_other);
}

static void print_vm(FILE *f, const struct report *rp, const struct report_vm *v)
{
	struct check ch[8];
	int n = vm_checks(rp, v, ch);
	double secs = window_s(rp);
	bool any = false;

	fprintf(f, "\nVM %s  pid %d  %s", v->info.name[0] ? v->info.name : "?", (int)v->pid,
		v->info.comm[0] ? v->info.comm : "?");
	if (v->info.vcpus.present)
		fprintf(f, "  %" PRIu64 " vCPUs", (uint64_t)v->info.vcpus.v);
	if (v->info.mem_configured_kb.present)
		fprintf(f, "  %" PRIu64 " MiB", (uint64_t)v->info.mem_configured_kb.v / 1024);
	fprintf(f, "%s%s\n", v->exited ? "  (exited)" : "", v->seq_known ? "" : "  (never sampled)");
	if (n) {
		fprintf(f, "  %-16s %14s %10s  %-22s %14s  %s\n", "event", "recorded", "lost", "counter", "increase", "check");
		for (int i = 0; i < n; i++) {
			const struct check *c = &ch[i];
			int64_t diff = (int64_t)(c->increase - c->recorded - c->lost);
			char verdict[64];

			if (!diff)
				snprintf(verdict, sizeof(verdict), "recorded + lost = increase");
			else
				snprintf(verdict, sizeof(verdict), "DIFFERS by %" PRId64 "%s", diff, c->bytes ? " bytes" : "");
			fprintf(f, "  %-16s %14" PRIu64 " %10" PRIu64 "  %-22s %14" PRIu64 "  %s\n", c->label, c->recorded,
				c->lost, vm_counter_names[c->counter], c->increase, verdict);
		}
	}
	for (int t = 0; t < VMMEM_EV_LOST_TYPES; t++) {
		/* the reconciled ones are in the table above */
		if (!v->events[t] || (n && (report_event_counter(t) >= 0 || t == VMMEM_EV_balloon)))
			continue;
		fprintf(f, "%s%s %" PRIu64, any ? ", " : "  other events: ", rp->ev_names[t], v->events[t]);
		any = true;
	}
	if (any)
		fputc('\n', f);
	if (v->events_outside)
		fprintf(f, "  %" PRIu64 " events outside the sampled window (before the first or after the last sample)\n",
			v->events_outside);
	any = false;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
		if (!v->increase.c[k] || !rp->available.vm[k])
			continue;
		if (!any)
			fprintf(f, "  counters over the window:\n");
		any = true;
		fprintf(f, "    %-24s %14" PRIu64 "  %12.1f/s\n", vm_counter_names[k], (uint64_t)v->increase.c[k],
			secs > 0 ? v->increase.c[k] / secs : 0.0);
	}
	print_flushes(f, rp, v, secs);
	print_ipis(f, rp, v);
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++) {
		const struct vmmem_hist *h = &v->hists.h[k];
		uint64_t cnt = hist_count(h);
		char p50[24], p99[24], mean[24];

		if (!cnt || !rp->available.vm_hist[k])
			continue;
		fmt_dur(hist_quantile_ns(h, 0.5), p50, sizeof(p50));
		fmt_dur(hist_quantile_ns(h, 0.99), p99, sizeof(p99));
		fmt_dur(h->sum_ns / cnt, mean, sizeof(mean));
		fprintf(f, "  %s: %" PRIu64 " spans, mean %s, p50 < %s, p99 < %s\n", vm_hist_names[k], cnt, mean, p50, p99);
		print_log2(f, h);
	}
}

static void print_text(FILE *f, const struct report *rp, const char *path, pid_t only)
{
	char a[64], b[64], events[256];
	uint64_t lost = rp->host_increase.c[VMMEM_H_dropped_events];

	event_mask_format(rp->event_mask, events, sizeof(events));
	fprintf(f, "recording  %s  (%s)\n", path, rp->err ? "DAMAGED: read up to the damage" :
		rp->have_end ? "complete" : "no end marker");
	fprintf(f, "host       %s, kernel %s %s, backend %s, vmmemtop %s\n", rec_meta_get(&rp->meta, "host"),
		rec_meta_get(&rp->meta, "kernel"), rec_meta_get(&rp->meta, "machine"),
		rec_meta_get(&rp->meta, "backend"), rec_meta_get(&rp->meta, "vmmemtop"));
	if (rp->have_window) {
		fmt_wall(rp, rp->window_start_ns, a, sizeof(a), true);
		fmt_wall(rp, rp->window_end_ns, b, sizeof(b), false);
		fprintf(f, "window     %s .. %s, %.1f s, %" PRIu64 " samples\n", a, b, window_s(rp), rp->samples);
	} else {
		fprintf(f, "window     none (no counter sample in the file)\n");
	}
	fprintf(f, "events     %s (slow >= %.0f us): %" PRIu64 " recorded, %" PRIu64 " lost (ring full)",
		events, rp->slow_event_ns / 1e3, rp->events, lost);
	if (rp->events_outside)
		fprintf(f, ", %" PRIu64 " outside the window", rp->events_outside);
	if (rp->events_unattributed)
		fprintf(f, ", %" PRIu64 " of processes never sampled as VMs", rp->events_unattributed);
	fputc('\n', f);
	if (rp->vms_truncated)
		fprintf(f, "note       more than %d VMs: the rest are not shown\n", REPORT_MAX_VMS);

	for (int i = 0; i < rp->nr_vms; i++)
		if (!only || rp->vms[i].pid == only)
			print_vm(f, rp, &rp->vms[i]);

	fprintf(f, "\nhost:");
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		if (rp->available.host[k])
			fprintf(f, " %s %" PRIu64 "%s", host_counter_names[k], (uint64_t)rp->host_increase.c[k],
				k + 1 < VMMEM_NR_HOST_COUNTERS ? "," : "");
	if (rp->host_events[VMMEM_EV_ksm_scan])
		fprintf(f, "; %" PRIu64 " ksm_scan events", rp->host_events[VMMEM_EV_ksm_scan]);
	fputc('\n', f);
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++) {
		const struct vmmem_hist *h = &rp->host_hists.h[k];

		if (!hist_count(h) || !rp->available.host_hist[k])
			continue;
		fprintf(f, "  %s: %" PRIu64 " spans\n", host_hist_names[k], hist_count(h));
		print_log2(f, h);
	}

	if (!rp->top_n)
		return;
	fprintf(f, "\nslowest events (top %d of those with a duration):\n", rp->top_n);
	if (!rp->nr_top) {
		fprintf(f, "  none\n");
		return;
	}
	fprintf(f, "  %-10s %-12s %-16s %7s  %-22s %-11s %10s  %s\n", "time", "wall", "VM", "pid", "vCPU thread (tid)",
		"event", "duration", "detail");
	for (int i = 0; i < rp->nr_top; i++) {
		const struct report_top *t = &rp->top[i];
		const char *vm = t->vm >= 0 && rp->vms[t->vm].info.name[0] ? rp->vms[t->vm].info.name : "?";
		const char *thr = report_thread_name(rp, t->ev.tgid, t->ev.tid);
		char rel[24], wall[32], dur[24], thread[48], detail[96];

		if (only && (pid_t)t->ev.tgid != only)
			continue;
		snprintf(rel, sizeof(rel), "%+.3f", rp->have_window ? ((int64_t)(t->ev.ts_ns - rp->window_start_ns)) / 1e9 : 0.0);
		fmt_wall(rp, t->ev.ts_ns, wall, sizeof(wall), false);
		fmt_dur(t->ev.dur_ns, dur, sizeof(dur));
		snprintf(thread, sizeof(thread), "%s (%u)", thr[0] ? thr : "?", t->ev.tid);
		event_detail(&t->ev, detail, sizeof(detail));
		fprintf(f, "  %-10s %-12s %-16.16s %7u  %-22.22s %-11s %10s  %s\n", rel, wall, vm, t->ev.tgid, thread,
			t->ev.type < VMMEM_EV_LOST_TYPES ? rp->ev_names[t->ev.type] : "?", dur, detail);
	}
}

/* --dump: every event as a line of key=value fields, for scripts */
static int dump_events(const char *path, pid_t only)
{
	struct rec_reader *r;
	struct rec_item it;
	char err[512], name[32];
	int ret = rec_reader_open_file(&r, path, err, sizeof(err));

	if (ret) {
		cli_error("%s", err);
		return EXIT_RUNTIME;
	}
	while ((ret = rec_reader_next(r, &it)) > 0) {
		const struct vmmem_event *ev = &it.event;

		if (it.kind != REC_ITEM_EVENT || (only && (pid_t)ev->tgid != only))
			continue;
		printf("%" PRIu64 ".%09" PRIu64 " pid=%u tid=%u cpu=%u type=%s a=0x%" PRIx64 " b=0x%" PRIx64
		       " dur_ns=%" PRIu64 "\n", (uint64_t)ev->ts_ns / 1000000000, (uint64_t)ev->ts_ns % 1000000000,
		       ev->tgid, ev->tid, ev->cpu, rec_reader_event_name(r, ev->type, name, sizeof(name)),
		       (uint64_t)ev->a, (uint64_t)ev->b, (uint64_t)ev->dur_ns);
	}
	fflush(stdout);
	if (ret < 0)
		cli_error("%s: %s", path, rec_reader_error(r));
	rec_reader_close(r);
	return ret < 0 ? EXIT_RUNTIME : EXIT_OK;
}

static json_t *counters_obj(const struct report *rp, const struct vmmem_vm_counters *c)
{
	json_t *o = json_object();

	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		json_object_set_new(o, vm_counter_names[k], rp->available.vm[k] ? json_integer((json_int_t)c->c[k]) : json_null());
	return o;
}

/* slow_ipi records by target vCPU thread, as the text's guest IPI section lists them */
static json_t *ipi_targets_json(const struct report_vm *v)
{
	json_t *a = json_array();

	for (int i = 0; i < v->nr_ipi_targets; i++) {
		const struct report_ipi_target *t = &v->ipi_targets[i];

		json_array_append_new(a, json_pack("{s:i,s:I,s:I,s:i}", "tid", (int)t->tid, "count", (json_int_t)t->n,
						   "max_ns", (json_int_t)t->max_ns, "slowest_from", (int)t->slowest_from));
	}
	return a;
}

static json_t *vm_json(const struct report *rp, const struct report_vm *v)
{
	json_t *o, *ev = json_object(), *lost = json_object(), *rec = json_object(), *hists = json_object();
	struct check ch[8];
	int n = vm_checks(rp, v, ch);

	for (int t = 0; t < VMMEM_EV_LOST_TYPES; t++) {
		if ((t >= VMMEM_NR_EV_TYPES || !event_names[t]) && !v->events[t])
			continue;
		json_object_set_new(ev, rp->ev_names[t], json_integer((json_int_t)v->events[t]));
		json_object_set_new(lost, rp->ev_names[t], json_integer((json_int_t)v->lost.events[t]));
	}
	json_object_set_new(lost, "balloon_inflate_bytes", json_integer((json_int_t)v->lost.balloon_inflate_bytes));
	json_object_set_new(lost, "balloon_deflate_bytes", json_integer((json_int_t)v->lost.balloon_deflate_bytes));
	for (int i = 0; i < n; i++)
		json_object_set_new(rec, ch[i].label, json_pack("{s:s,s:I,s:I,s:I,s:b}", "counter",
				    vm_counter_names[ch[i].counter], "recorded", (json_int_t)ch[i].recorded,
				    "lost", (json_int_t)ch[i].lost, "increase", (json_int_t)ch[i].increase,
				    "exact", ch[i].recorded + ch[i].lost == ch[i].increase));
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		json_object_set_new(hists, vm_hist_names[k], rp->available.vm_hist[k] ? snapshot_hist_json(&v->hists.h[k]) : json_null());
	o = json_pack("{s:i,s:s,s:s,s:b,s:I}", "pid", (int)v->pid, "name", v->info.name, "comm", v->info.comm,
		      "exited", v->exited, "samples", (json_int_t)v->samples);
	json_object_set_new(o, "seq", v->seq_known ? json_integer((json_int_t)v->seq) : json_null());
	json_object_set_new(o, "vcpus", v->info.vcpus.present ? json_integer((json_int_t)v->info.vcpus.v) : json_null());
	json_object_set_new(o, "mem_configured_kb", v->info.mem_configured_kb.present ?
			    json_integer((json_int_t)v->info.mem_configured_kb.v) : json_null());
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "events_outside_window", json_integer((json_int_t)v->events_outside));
	json_object_set_new(o, "balloon_bytes", json_pack("{s:I,s:I}", "inflate", (json_int_t)v->inflate_bytes,
							  "deflate", (json_int_t)v->deflate_bytes));
	json_object_set_new(o, "counters", counters_obj(rp, &v->increase));
	json_object_set_new(o, "lost", lost);
	json_object_set_new(o, "reconcile", rec);
	json_object_set_new(o, "histograms", hists);
	if (rp->available.vm[VMMEM_C_flushes_recv_ksmd]) {
		json_t *fl = json_object(), *tasks = json_array();

		for (int c = 0; c < VMMEM_NR_FLUSH_CAUSES; c++)
			json_object_set_new(fl, flush_cause_names[c],
					    json_integer((json_int_t)v->increase.c[VMMEM_C_flushes_recv_ksmd + c]));
		for (int i = 0; i < v->nr_flush_tasks; i++)
			json_array_append_new(tasks, json_pack("{s:i,s:s,s:I}", "pid", (int)v->flush_tasks[i].pid, "cause",
				v->flush_tasks[i].cause < VMMEM_NR_FLUSH_CAUSES ? flush_cause_names[v->flush_tasks[i].cause] : "?",
				"flushes", (json_int_t)v->flush_tasks[i].n));
		json_object_set_new(o, "flushes_received", json_pack("{s:o,s:o}", "by_cause", fl, "by_task", tasks));
	} else {
		json_object_set_new(o, "flushes_received", json_null());
	}
	json_object_set_new(o, "slow_ipi_targets", ipi_targets_json(v));
	return o;
}

static json_t *report_json(const struct report *rp, const char *path, pid_t only)
{
	json_t *o, *meta = json_object(), *vms = json_array(), *top = json_array(), *host = json_object();
	char events[256];

	for (int i = 0; i < rp->meta.nr; i++)
		json_object_set_new(meta, rp->meta.key[i], json_string(rp->meta.value[i]));
	for (int i = 0; i < rp->nr_vms; i++)
		if (!only || rp->vms[i].pid == only)
			json_array_append_new(vms, vm_json(rp, &rp->vms[i]));
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		json_object_set_new(host, host_counter_names[k], rp->available.host[k] ?
				    json_integer((json_int_t)rp->host_increase.c[k]) : json_null());
	for (int i = 0; i < rp->nr_top; i++) {
		const struct report_top *t = &rp->top[i];
		char detail[96];

		if (only && (pid_t)t->ev.tgid != only)
			continue;
		event_detail(&t->ev, detail, sizeof(detail));
		json_array_append_new(top, json_pack("{s:s,s:I,s:f,s:i,s:s,s:i,s:s,s:I,s:s}",
			"event", t->ev.type < VMMEM_EV_LOST_TYPES ? rp->ev_names[t->ev.type] : "?",
			"ts_ns", (json_int_t)t->ev.ts_ns,
			"t_s", rp->have_window ? ((int64_t)(t->ev.ts_ns - rp->window_start_ns)) / 1e9 : 0.0,
			"pid", (int)t->ev.tgid, "vm", t->vm >= 0 ? rp->vms[t->vm].info.name : "",
			"tid", (int)t->ev.tid, "thread", report_thread_name(rp, t->ev.tgid, t->ev.tid),
			"dur_ns", (json_int_t)t->ev.dur_ns, "detail", detail));
	}
	event_mask_format(rp->event_mask, events, sizeof(events));
	o = json_pack("{s:s,s:s,s:b,s:o,s:s}", "schema", REPORT_SCHEMA, "file", path, "complete",
		      !rp->err && rp->have_end, "error", rp->err ? json_string(rp->error) : json_null(),
		      "events_streamed", events);
	json_object_set_new(o, "meta", meta);
	json_object_set_new(o, "window", rp->have_window ? json_pack("{s:I,s:I,s:f,s:I}", "start_ns",
			    (json_int_t)rp->window_start_ns, "end_ns", (json_int_t)rp->window_end_ns, "seconds",
			    window_s(rp), "samples", (json_int_t)rp->samples) : json_null());
	json_object_set_new(o, "events", json_integer((json_int_t)rp->events));
	json_object_set_new(o, "events_outside_window", json_integer((json_int_t)rp->events_outside));
	json_object_set_new(o, "lost_events", json_integer((json_int_t)rp->host_increase.c[VMMEM_H_dropped_events]));
	json_object_set_new(o, "host", host);
	json_object_set_new(o, "vms", vms);
	json_object_set_new(o, "slowest", top);
	return o;
}

struct report_own {
	bool dump;
	long top;
};

static void report_init(struct cli_args *a, void *own)
{
	(void)a;
	((struct report_own *)own)->top = 10;
}

static int report_run(struct cli_args *a, void *own)
{
	const struct report_own *r = own;
	static struct report rp;
	const char *path = a->file;
	pid_t only = a->pid;
	char err[512];
	int ret;

	if (r->dump && a->json) {
		cli_error("--dump and --json: choose one");
		return EXIT_USAGE;
	}
	if (r->dump)
		return dump_events(path, only);
	ret = report_build_file(&rp, path, r->top, err, sizeof(err));
	if (ret && !rp.err) {
		cli_error("%s", err);
		report_free(&rp);
		return EXIT_RUNTIME;
	}
	report_sort_top(&rp);
	if (a->json) {
		json_t *o = report_json(&rp, path, only);

		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
	} else {
		print_text(stdout, &rp, path, only);
	}
	fflush(stdout);
	if (rp.err)
		cli_error("%s: %s", path, rp.error);
	report_free(&rp);
	return rp.err ? EXIT_RUNTIME : EXIT_OK;
}

static const struct cli_opt opt_dump = { "dump", 'D', NULL, CLI_FLAG, true, offsetof(struct report_own, dump),
	.help = "print every event, one line each, in file order (like perf script):\n"
		"SECONDS pid=P tid=T cpu=C type=NAME a=0x.. b=0x.. dur_ns=N (SECONDS: CLOCK_MONOTONIC)\n" };
static const struct cli_opt opt_top = { "top", 'T', "N", CLI_LONG, true, offsetof(struct report_own, top),
	0, REPORT_MAX_TOP, .help = "the N slowest events (default 10, 0..100)\n" };

const struct cli_command cmd_report = {
	.name = "report",
	.summary = "summarise a recording: per VM, histograms, the slowest events",
	.about = "Summarise a recording made by `vmmemtop record`: for each VM, the events recorded by type\n"
		 "beside the increase of the matching counter over the same window (tdp_fault: tdp_faults,\n"
		 "exit: exits, tlb_shootdown: tlb_shootdown_ipis, ksm_merge: ksm_merged_pages, balloon bytes:\n"
		 "balloon_inflate_bytes / balloon_deflate_bytes) and the records the ring dropped, so that\n"
		 "recorded + lost = increase; the in-kernel latency histograms; and the slowest events with\n"
		 "their VM, vCPU thread and time. A damaged file is reported up to the damage, then one\n"
		 "error line. JSON: schema " REPORT_SCHEMA ".\n",
	.operand = "FILE",
	.opts = CLI_OPTS(&cli_opt_json, &opt_dump, &opt_top, &cli_opt_pid),
	.after = "exit status: 0 complete recording, 1 damaged or unreadable (what could be read is still\n"
		 "printed), 2 usage error\n"
		 "\n"
		 "examples:\n"
		 "  vmmemtop report vm.rec\n"
		 "  vmmemtop report vm.rec --json | jq '.vms[] | {name, events, counters: .counters.tdp_faults}'\n",
	.own_size = sizeof(struct report_own),
	.init = report_init,
	.run = report_run,
};
