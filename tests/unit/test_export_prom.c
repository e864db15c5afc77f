// SPDX-License-Identifier: MIT
/* Prometheus / OpenMetrics rendering: escaping, family metadata, absence rules, values
 * against the snapshot they came from, content negotiation and listen-address parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include <netinet/in.h>
#include "export.h"
#include "export_prom.h"

/* Both numbers on failure (this cmocka has no assert_double_equal). */
#define assert_value(got, want)								\
	do {										\
		double g_ = (got), w_ = (want);						\
		if (g_ != w_)								\
			fail_msg("%s: got %.17g, expected %.17g", #got, g_, w_);	\
	} while (0)

static const char odd_name[] = "web \"prod\" C:\\vm\nline2 \xc3\xa9t\xc3\xa9 \xe2\x9c\x93";

static void make_snapshot(struct snapshot *s, int nr_vms)
{
	memset(s, 0, sizeof(*s));
	s->interval_s = 1;
	s->wall_time = 1700000000;
	s->backend = "bpf";
	s->vms = calloc(nr_vms, sizeof(*s->vms));
	assert_non_null(s->vms);
	s->nr_vms = nr_vms;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s->available.vm[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		s->available.host[k] = true;
		s->host_total.c[k] = 1000 + k;
	}
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		s->available.vm_hist[k] = true;
	s->host.mem.mem_total_kb = (struct opt_u64){ 1024, true };
	s->host.ksm.present = true;
	s->host.ksm.general_profit = (struct opt_u64){ (uint64_t)-12288, true };
	s->host.thp.present = true;
	strcpy(s->host.thp.enabled, "madvise");
	strcpy(s->host.thp.defrag, "bogus");
	for (int i = 0; i < nr_vms; i++) {
		struct vm_snapshot *v = &s->vms[i];

		v->info.pid = 100 + i;
		snprintf(v->info.name, sizeof(v->info.name), "vm%d", i);
		strcpy(v->info.comm, "qemu-system-x86");
		v->info.rss_kb = (struct opt_u64){ 4 + i, true };
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			v->total.c[k] = 1000000ull * (i + 1) + k;
	}
}

/* The snapshot of a test, of nr_vms VMs, kept in its cmocka state so that fixture_free()
 * frees it after the test, also when an assertion fails (cmocka leaves a failing test by
 * longjmp, past any free at its end). */
static struct snapshot *fixture_snapshot(void **state, int nr_vms)
{
	struct snapshot *s = malloc(sizeof(*s));

	assert_non_null(s);
	*state = s;
	make_snapshot(s, nr_vms);
	return s;
}

static int fixture_free(void **state)
{
	struct snapshot *s = *state;

	if (s)
		snapshot_free(s);
	free(s);
	return 0;
}

static char *render(const struct snapshot *s, enum export_format fmt, bool up)
{
	struct export_meta m = { .up = up, .version = "test" };
	struct strbuf sb;

	strbuf_init(&sb);
	assert_int_equal(export_prom_render(&sb, s, &m, fmt), 0);
	assert_int_equal(export_prom_finish(&sb, 0.001, fmt), 0);
	return strbuf_detach(&sb, NULL);
}

/* The value of the sample line that starts with prefix (name{labels}), or -1 if absent. */
static double sample_value(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, strlen(prefix)) && p[strlen(prefix)] == ' ')
			return strtod(p + strlen(prefix) + 1, NULL);
	return -1;
}

static void test_label_escape(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "plain" },
		{ "a\"b", "a\\\"b" },
		{ "a\\b", "a\\\\b" },
		{ "a\nb", "a\\nb" },
		{ "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80", "\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80" },	/* valid UTF-8 kept */
		{ "x\xff" "y", "x\xef\xbf\xbdy" },			/* stray byte */
		{ "x\xc3", "x\xef\xbf\xbd" },				/* truncated at the end */
		{ "\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd" },		/* overlong NUL */
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* UTF-16 surrogate */
		{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },	/* > U+10FFFF */
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf sb;
		char *got;

		strbuf_init(&sb);
		export_label_escape(&sb, cases[i].in);
		got = strbuf_detach(&sb, NULL);
		if (strcmp(got, cases[i].out))
			fail_msg("case %zu: escaped to '%s', expected '%s'", i, got, cases[i].out);
		free(got);
	}
}

static void test_odd_vm_name_in_output(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 1);
	char *text, want[512];

	snprintf(s->vms[0].info.name, sizeof(s->vms[0].info.name), "%s", odd_name);
	text = render(s, EXPORT_FMT_TEXT, true);
	snprintf(want, sizeof(want),
		 "vmmem_tdp_faults_total{vm=\"web \\\"prod\\\" C:\\\\vm\\nline2 \xc3\xa9t\xc3\xa9 \xe2\x9c\x93\"}");
	assert_value(sample_value(text, want), (double)s->vms[0].total.c[VMMEM_C_tdp_faults]);
	/* no raw newline inside any label set: every line is a comment or a sample */
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
		if (l[0] != '#' && strncmp(l, "vmmem_", 6))
			fail_msg("line does not start a sample: '%s'", l);
	free(text);
}

/* Walk an exposition: every sample belongs to a family with HELP and TYPE seen before it;
 * counters follow each format's _total rule; returns the number of samples. */
static int check_families(const char *text, enum export_format fmt)
{
	char help[256][128], type[256][128], tname[256][16];
	int nh = 0, nt = 0, samples = 0;
	char *copy = strdup(text), *save = NULL;

	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[128];
		size_t n;
		bool found = false;

		if (!strncmp(l, "# HELP ", 7)) {
			assert_true(nh < 256);
			sscanf(l + 7, "%127s", help[nh++]);
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			assert_true(nt < 256);
			sscanf(l + 7, "%127s %15s", type[nt], tname[nt]);
			if (!strcmp(tname[nt], "counter")) {
				n = strlen(type[nt]);
				bool total = n > 6 && !strcmp(type[nt] + n - 6, "_total");

				if (fmt == EXPORT_FMT_TEXT && !total)
					fail_msg("text counter family %s does not end in _total", type[nt]);
				if (fmt == EXPORT_FMT_OPENMETRICS && total)
					fail_msg("OpenMetrics counter family %s must not end in _total", type[nt]);
			}
			if (strcmp(type[nt], help[nh - 1]))
				fail_msg("TYPE %s not preceded by its HELP (last HELP %s)", type[nt], help[nh - 1]);
			nt++;
			continue;
		}
		if (l[0] == '#')
			continue;
		n = strcspn(l, "{ ");
		assert_true(n < sizeof(name));
		memcpy(name, l, n);
		name[n] = 0;
		samples++;
		for (int t = nt - 1; t >= 0 && !found; t--) {
			size_t tl = strlen(type[t]);
			const char *rest = name + tl;

			if (strncmp(name, type[t], tl))
				continue;
			if (!*rest)
				found = strcmp(tname[t], "histogram") && !(fmt == EXPORT_FMT_OPENMETRICS &&
									  (!strcmp(tname[t], "counter") || !strcmp(tname[t], "info")));
			else if (!strcmp(tname[t], "histogram"))
				found = !strcmp(rest, "_bucket") || !strcmp(rest, "_sum") || !strcmp(rest, "_count");
			else if (fmt == EXPORT_FMT_OPENMETRICS && !strcmp(tname[t], "counter"))
				found = !strcmp(rest, "_total");
			else if (fmt == EXPORT_FMT_OPENMETRICS && !strcmp(tname[t], "info"))
				found = !strcmp(rest, "_info");
			if (found && t != nt - 1)
				fail_msg("sample %s is not in the family declared last (%s)", name, type[nt - 1]);
		}
		if (!found)
			fail_msg("sample %s has no HELP/TYPE before it", name);
	}
	free(copy);
	return samples;
}

static void test_every_family_has_help_and_type(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 3);

	s->vms[1].hist_total.h[0].slot[12] = 5;
	s->host.ksm.run = (struct opt_u64){ 1, true };
	s->host.ksm.sleep_millisecs = (struct opt_u64){ 20, true };
	s->available.host_hist[0] = true;
	for (int f = EXPORT_FMT_TEXT; f <= EXPORT_FMT_OPENMETRICS; f++) {
		char *text = render(s, f, true);
		int n = check_families(text, f);

		/* at least one sample per VM counter per VM, plus the host ones */
		if (n < 3 * VMMEM_NR_VM_COUNTERS + VMMEM_NR_HOST_COUNTERS)
			fail_msg("format %d: only %d samples", f, n);
		if (f == EXPORT_FMT_OPENMETRICS) {
			const char *eof = strstr(text, "# EOF\n");

			assert_non_null(eof);
			assert_string_equal(eof, "# EOF\n");	/* last, and once */
		} else {
			assert_null(strstr(text, "# EOF"));
		}
		free(text);
	}
}

static void test_values_match_snapshot(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 2);
	char *text, prefix[256], name[128];
	double scale;

	s->available.host_hist[VMMEM_HHIST_ksm_scan_ns] = true;
	s->host_hist_total.h[VMMEM_HHIST_ksm_scan_ns].slot[30] = 1;
	s->host_hist_total.h[VMMEM_HHIST_ksm_scan_ns].sum_ns = 1500000004;
	text = render(s, EXPORT_FMT_TEXT, true);
	for (int i = 0; i < 2; i++) {
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
			bool cause = k >= VMMEM_C_flushes_recv_ksmd && k < VMMEM_C_flushes_recv_ksmd + VMMEM_NR_FLUSH_CAUSES;
			bool shoot = k >= VMMEM_C_shootdowns_recv_ksmd && k < VMMEM_C_shootdowns_recv_ksmd + VMMEM_NR_SHOOT_CAUSES;
			double got;

			assert_int_equal(export_counter_family(name, sizeof(name), vm_counter_names[k],
							       vm_counter_units[k], &scale), 0);
			/* flushes_recv_<cause> are one family with a cause label */
			if (cause)
				snprintf(prefix, sizeof(prefix), "vmmem_vm_flushes_received_total{vm=\"vm%d\",cause=\"%s\"}",
					 i, flush_cause_names[k - VMMEM_C_flushes_recv_ksmd]);
			else if (shoot)
				snprintf(prefix, sizeof(prefix), "vmmem_vm_shootdowns_received_total{vm=\"vm%d\",cause=\"%s\"}",
					 i, flush_cause_names[k == VMMEM_C_shootdowns_recv_other ? VMMEM_FLUSH_other
							      : k - VMMEM_C_shootdowns_recv_ksmd]);
			else
				snprintf(prefix, sizeof(prefix), "%s_total{vm=\"vm%d\"}", name, i);
			got = sample_value(text, prefix);
			if (got != (double)s->vms[i].total.c[k] * scale)
				fail_msg("%s: exported %.0f, snapshot total %llu", prefix, got,
					 (unsigned long long)s->vms[i].total.c[k]);
		}
		snprintf(prefix, sizeof(prefix), "vmmem_vm_rss_bytes{vm=\"vm%d\"}", i);
		assert_value(sample_value(text, prefix), (double)s->vms[i].info.rss_kb.v * 1024);
	}
	/* ksmd's scan time: the histogram's _sum (there is no separate counter of it) */
	assert_non_null(strstr(text, "\nvmmem_ksm_scan_seconds_sum 1.500000004\n"));
	assert_non_null(strstr(text, "\nvmmem_ksm_scan_seconds_count 1\n"));
	assert_null(strstr(text, "vmmem_ksm_scan_seconds_total"));
	assert_null(strstr(text, "vmmem_flushes_recv_"));	/* only the families with a cause label */
	assert_null(strstr(text, "vmmem_shootdowns_recv_"));
	assert_non_null(strstr(text, "\nvmmem_ksm_general_profit_bytes -12288\n"));
	assert_non_null(strstr(text, "\nvmmem_dropped_events_total 1001\n"));
	assert_non_null(strstr(text, "\nvmmem_thp_enabled{mode=\"madvise\"} 1\n"));
	assert_non_null(strstr(text, "\nvmmem_thp_enabled{mode=\"never\"} 0\n"));
	assert_non_null(strstr(text, "\nvmmem_thp_defrag{mode=\"bogus\"} 1\n"));	/* unknown mode still shown */
	assert_value(sample_value(text, "vmmem_vms"), 2);
	assert_value(sample_value(text, "vmmem_up"), 1);
	/* a VM without this field has no series for it */
	assert_null(strstr(text, "vmmem_vm_swap_bytes"));
	free(text);
}

/* (Every family once and every series once, with every fact present: tests/unit/test_facts.c.) */

static void test_counter_names(void **state)
{
	char name[128];
	double scale;

	(void)state;
	assert_int_equal(export_counter_family(name, sizeof(name), "balloon_inflate_bytes", "bytes", &scale), 0);
	assert_string_equal(name, "vmmem_balloon_inflate_bytes");
	assert_int_equal(export_counter_family(name, sizeof(name), "tdp_faults", "events", &scale), 0);
	assert_string_equal(name, "vmmem_tdp_faults");
	assert_int_equal(export_counter_family(name, sizeof(name), "ksm_scan_ns", "ns", &scale), 0);
	assert_string_equal(name, "vmmem_ksm_scan_seconds");
	assert_value(scale, 1e-9);
	assert_int_equal(export_counter_family(name, sizeof(name), "discards", "bytes", &scale), 0);
	assert_string_equal(name, "vmmem_discards_bytes");
	assert_int_equal(export_counter_family(name, sizeof(name), "Bad-Name", "events", &scale), -EINVAL);
	assert_int_equal(export_counter_family(name, 8, "tdp_faults", "events", &scale), -ENAMETOOLONG);
}

static void test_unavailable_counter_absent(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 2);
	char *text;

	s->available.vm[VMMEM_C_tdp_faults] = false;
	s->available.host[VMMEM_H_ksm_scans] = false;
	for (int f = EXPORT_FMT_TEXT; f <= EXPORT_FMT_OPENMETRICS; f++) {
		text = render(s, f, true);
		assert_null(strstr(text, "vmmem_tdp_faults"));
		assert_null(strstr(text, "vmmem_ksm_scans"));
		assert_non_null(strstr(text, "vmmem_exits_total{"));	/* the others are there */
		assert_non_null(strstr(text, "\nvmmem_available{metric=\"tdp_faults\"} 0\n"));
		assert_non_null(strstr(text, "\nvmmem_available{metric=\"exits\"} 1\n"));
		free(text);
	}
}

static void test_exited_vm_absent(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 3);
	char *text;

	s->vms[1].exited = true;
	s->vms[1].hist_total.h[0].slot[20] = 3;
	text = render(s, EXPORT_FMT_TEXT, true);
	assert_null(strstr(text, "pid=\"101\""));
	assert_null(strstr(text, "vm=\"vm1\""));
	assert_non_null(strstr(text, "pid=\"100\""));
	assert_non_null(strstr(text, "pid=\"102\""));
	assert_value(sample_value(text, "vmmem_vms"), 2);
	free(text);
}

/* Series are keyed by vm and uuid, not pid: a restart (same name and UUID, new pid) renders
 * the same label sets; vmmem_vm_info carries pid, vmm and the rest; VMs that share a key both
 * get pid so that no series is duplicated. */
static void test_vm_identity_labels(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 4);
	char *text, *again;

	strcpy(s->vms[0].info.uuid, "4c4c4544-0042-3010-8057-b4c04f4b4e31");
	strcpy(s->vms[0].info.libvirt_domain, "vm0");
	strcpy(s->vms[0].info.machine, "qemu-3-vm0");
	strcpy(s->vms[1].info.vmid, "101");
	strcpy(s->vms[3].info.name, "vm2");	/* two VMs named vm2, no UUID */
	text = render(s, EXPORT_FMT_TEXT, true);
	assert_value(sample_value(text, "vmmem_exits_total{vm=\"vm0\",uuid=\"4c4c4544-0042-3010-8057-b4c04f4b4e31\"}"),
		     (double)s->vms[0].total.c[VMMEM_C_exits]);
	assert_value(sample_value(text, "vmmem_exits_total{vm=\"vm1\"}"), (double)s->vms[1].total.c[VMMEM_C_exits]);
	assert_value(sample_value(text, "vmmem_exits_total{vm=\"vm2\",pid=\"102\"}"), (double)s->vms[2].total.c[VMMEM_C_exits]);
	assert_value(sample_value(text, "vmmem_exits_total{vm=\"vm2\",pid=\"103\"}"), (double)s->vms[3].total.c[VMMEM_C_exits]);
	assert_value(sample_value(text, "vmmem_vm_info{vm=\"vm0\",uuid=\"4c4c4544-0042-3010-8057-b4c04f4b4e31\",pid=\"100\","
				  "vmm=\"qemu-system-x86\",libvirt_domain=\"vm0\",machine=\"qemu-3-vm0\"}"), 1);
	assert_value(sample_value(text, "vmmem_vm_info{vm=\"vm1\",pid=\"101\",vmm=\"qemu-system-x86\",vmid=\"101\"}"), 1);
	assert_value(sample_value(text, "vmmem_vm_info{vm=\"vm2\",pid=\"102\",vmm=\"qemu-system-x86\"}"), 1);
	assert_null(strstr(text, ",pid=\"102\",pid="));	/* pid once, also for a shared key */
	assert_non_null(strstr(text, "# TYPE vmmem_vm_info gauge\n"));
	free(text);
	text = render(s, EXPORT_FMT_OPENMETRICS, true);
	assert_non_null(strstr(text, "# TYPE vmmem_vm info\n"));
	free(text);

	/* vm0 restarts: a new pid, counters from zero; its series keep their labels */
	text = render(s, EXPORT_FMT_TEXT, true);
	s->vms[0].info.pid = 4242;
	memset(&s->vms[0].total, 0, sizeof(s->vms[0].total));
	again = render(s, EXPORT_FMT_TEXT, true);
	assert_value(sample_value(again, "vmmem_exits_total{vm=\"vm0\",uuid=\"4c4c4544-0042-3010-8057-b4c04f4b4e31\"}"), 0);
	assert_non_null(strstr(again, "pid=\"4242\",vmm="));
	assert_null(strstr(again, "pid=\"100\""));
	free(text);
	free(again);

	/* the restart seen in one sample: the old process exited, the new one runs; one series */
	free(s->vms);
	make_snapshot(s, 2);
	strcpy(s->vms[1].info.name, "vm0");
	s->vms[0].exited = true;
	text = render(s, EXPORT_FMT_TEXT, true);
	assert_value(sample_value(text, "vmmem_exits_total{vm=\"vm0\"}"), (double)s->vms[1].total.c[VMMEM_C_exits]);
	assert_null(strstr(text, "_total{vm=\"vm0\",pid="));
	free(text);
}

static void test_histogram(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 1);
	char *text;
	const char *l = "vm=\"vm0\"";
	char prefix[256];
	uint64_t total = 0;

	/* 2 events < 1 us, 3 in [8 us, 16 us), 4 above 2^31 ns */
	s->vms[0].hist_total.h[0].slot[3] = 2;
	s->vms[0].hist_total.h[0].slot[13] = 3;
	s->vms[0].hist_total.h[0].slot[35] = 4;
	s->vms[0].hist_total.h[0].sum_ns = 2500000000ull;
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		total += s->vms[0].hist_total.h[0].slot[i];
	text = render(s, EXPORT_FMT_TEXT, true);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_bucket{%s,le=\"0.000001024\"}", l);
	assert_value(sample_value(text, prefix), 2);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_bucket{%s,le=\"0.000008192\"}", l);
	assert_value(sample_value(text, prefix), 2);		/* slot 13 starts at 8192 ns */
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_bucket{%s,le=\"0.000065536\"}", l);
	assert_value(sample_value(text, prefix), 5);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_bucket{%s,le=\"2.147483648\"}", l);
	assert_value(sample_value(text, prefix), 5);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_bucket{%s,le=\"+Inf\"}", l);
	assert_value(sample_value(text, prefix), (double)total);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_count{%s}", l);
	assert_value(sample_value(text, prefix), (double)total);
	snprintf(prefix, sizeof(prefix), "vmmem_tdp_fault_seconds_sum{%s}", l);
	assert_value(sample_value(text, prefix), 2.5);
	/* empty histograms have no series */
	assert_null(strstr(text, "vmmem_exit_io_seconds"));
	free(text);
}

/* Guest-side QMP values: present ones exported with the VM's labels, counters with _total,
 * absent ones absent (never 0), vmmem_qmp_up only for VMs with a QMP socket; families
 * checked for HELP and TYPE in both formats. */
static void test_qmp_values(void **state)
{
	struct snapshot *s = fixture_snapshot(state, 3);
	char *text;

	/* vm0: QMP answered; vm1: socket known, no answer; vm2: no socket */
	strcpy(s->vms[0].info.qmp.socket, "/run/vm0.qmp");
	s->vms[0].info.qmp.up = true;
	s->vms[0].info.qmp.v[VMM_QMP_balloon_actual_bytes] = (struct opt_u64){ 268435456, true };
	s->vms[0].info.qmp.v[VMM_QMP_guest_swap_in_bytes] = (struct opt_u64){ 8192, true };
	strcpy(s->vms[1].info.qmp.socket, "/run/vm1.qmp");
	for (int f = EXPORT_FMT_TEXT; f <= EXPORT_FMT_OPENMETRICS; f++) {
		text = render(s, f, true);
		check_families(text, f);
		assert_value(sample_value(text, "vmmem_balloon_actual_bytes{vm=\"vm0\"}"),
			     268435456);
		assert_value(sample_value(text, "vmmem_guest_swap_in_bytes_total{vm=\"vm0\"}"),
			     8192);
		assert_value(sample_value(text, "vmmem_qmp_up{vm=\"vm0\"}"), 1);
		assert_value(sample_value(text, "vmmem_qmp_up{vm=\"vm1\"}"), 0);
		assert_null(strstr(text, "vmmem_qmp_up{vm=\"vm2\""));
		assert_null(strstr(text, "vmmem_balloon_actual_bytes{vm=\"vm1\""));
		assert_null(strstr(text, "vmmem_guest_mem_free_bytes"));	/* nobody has it: no family */
		free(text);
	}
}

static void test_no_sample_yet(void **state)
{
	char *text;

	(void)state;
	text = render(NULL, EXPORT_FMT_OPENMETRICS, true);
	assert_value(sample_value(text, "vmmem_up"), 0);
	assert_null(strstr(text, "vm=\""));
	check_families(text, EXPORT_FMT_OPENMETRICS);
	free(text);
}

static void test_negotiate(void **state)
{
	(void)state;
	/* Prometheus 2.42's scrape Accept header */
	assert_int_equal(export_negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
					  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 EXPORT_FMT_OPENMETRICS);
	assert_int_equal(export_negotiate(NULL), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate(""), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("*/*"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("text/plain;version=0.0.4"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("Application/OpenMetrics-Text"), EXPORT_FMT_OPENMETRICS);
	assert_int_equal(export_negotiate("application/openmetrics-text; version=2.0.0"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("application/openmetrics-text;q=0"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("text/plain;q=0.9, application/openmetrics-text;q=0.5"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("application/openmetrics-text;q=banana"), EXPORT_FMT_TEXT);
	assert_int_equal(export_negotiate("application/openmetrics-text;q=0.123456789012345678901234567890"),
			 EXPORT_FMT_TEXT);	/* q too long to be honest: ignored */
	assert_int_equal(export_negotiate(",,;;=,application/openmetrics-text;;"), EXPORT_FMT_OPENMETRICS);
	assert_string_equal(export_content_type(EXPORT_FMT_TEXT), "text/plain; version=0.0.4; charset=utf-8");
}

static void test_listen_parse(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	assert_int_equal(export_listen_parse("127.0.0.1:9477", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9477);
	assert_int_equal(export_listen_parse("[::1]:80", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(export_listen_parse(":9477", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(export_listen_parse("127.0.0.1", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(export_listen_parse("127.0.0.1:0", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(export_listen_parse("127.0.0.1:65536", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(export_listen_parse("127.0.0.1:80x", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(export_listen_parse("::1:80", &ss, &len, err, sizeof(err)), -EINVAL);
	assert_int_equal(export_listen_parse("[::1:80", &ss, &len, err, sizeof(err)), -EINVAL);
}

UNIT_TESTS(
	cmocka_unit_test(test_label_escape),
	cmocka_unit_test_teardown(test_odd_vm_name_in_output, fixture_free),
	cmocka_unit_test_teardown(test_every_family_has_help_and_type, fixture_free),
	cmocka_unit_test_teardown(test_values_match_snapshot, fixture_free),
	cmocka_unit_test(test_counter_names),
	cmocka_unit_test_teardown(test_unavailable_counter_absent, fixture_free),
	cmocka_unit_test_teardown(test_exited_vm_absent, fixture_free),
	cmocka_unit_test_teardown(test_vm_identity_labels, fixture_free),
	cmocka_unit_test_teardown(test_histogram, fixture_free),
	cmocka_unit_test_teardown(test_qmp_values, fixture_free),
	cmocka_unit_test(test_no_sample_yet),
	cmocka_unit_test(test_negotiate),
	cmocka_unit_test(test_listen_parse))
