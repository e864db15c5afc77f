// SPDX-License-Identifier: MIT
/* The fact tables (user/facts/fact_table.h): every JSON key and every Prometheus family and series
 * is unique and named by the rules (snake case; Prometheus base units: bytes, seconds), the
 * recording's fixed layout does not move, and JSON written is JSON read back. */
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "export.h"
#include "export_prom.h"
#include "fact_table.h"
#include "snapshot_json.h"
#include "snapshot_load.h"

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static bool matches(const char *re, const char *s)
{
	regex_t r;
	bool ok;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

/* Keys the writer adds by hand beside the facts of each group (snapshot_json.c). */
static const char *const host_extra[] = { "tdp_fault_name", "ksm", "thp", "ksm_forecast", "counters",
					  "histograms", NULL };
static const char *const ksm_extra[] = { "ksmd_cpu", NULL };
static const char *const vm_extra[] = { "pid", "name", "comm", "exited", "seq", "uuid", "libvirt_domain",
					"machine", "vmid", "anon_huge_age_s", "counters", "totals", "ksm_stat",
					"cgroup", "qmp", "histograms", NULL };
static const char *const qmp_extra[] = { "socket", "abstract", "up", "error", NULL };

static const char *const *extras(bool host, int group)
{
	if (host)
		return group == FG_TOP ? host_extra : group == FG_KSM ? ksm_extra : NULL;
	return group == FG_TOP ? vm_extra : group == FG_QMP ? qmp_extra : NULL;
}

static int nr_extras(bool host, int group)
{
	const char *const *e = extras(host, group);
	int n = 0;

	while (e && e[n])
		n++;
	return n;
}

static void check_table(const struct fact *t, int n, bool host)
{
	for (int i = 0; i < n; i++) {
		const struct fact *f = &t[i];
		const char *const *e = extras(host, f->group);

		for (int j = 0; j < i; j++) {
			if (!strcmp(f->name, t[j].name))
				fail_msg("fact %s declared twice", f->name);
			if (f->json && t[j].json && f->group == t[j].group && !strcmp(f->json, t[j].json))
				fail_msg("JSON key %s.%s used by %s and %s", fact_group_json[f->group], f->json,
					 t[j].name, f->name);
		}
		for (int j = 0; e && e[j] && f->json; j++)
			if (!strcmp(f->json, e[j]))
				fail_msg("fact %s: JSON key %s is also written by hand", f->name, f->json);
		if (f->json && !matches("^[a-z][a-z0-9_]*$", f->json))
			fail_msg("fact %s: JSON key '%s' is not snake case", f->name, f->json);
		/* JSON keeps the snapshot schema's units (kB, ms as in /proc and sysfs), named so */
		if (f->json && f->unit == FU_KB && !ends_with(f->json, "_kb"))
			fail_msg("fact %s: a kB value's JSON key '%s' does not end in _kb", f->name, f->json);
		if (f->json && f->unit != FU_KB && ends_with(f->json, "_kb"))
			fail_msg("fact %s: JSON key '%s' ends in _kb but the value is not in kB", f->name, f->json);
		if (f->type == FACT_FLAG)
			continue;
		assert_non_null(f->help);
		if (!f->prom)
			continue;
		if (!matches("^vmmem_[a-z][a-z0-9_]*[a-z0-9]$", f->prom))
			fail_msg("fact %s: family '%s' is not a vmmem_ snake-case name", f->name, f->prom);
		if (matches("_(total|count|sum|bucket|info|created)$", f->prom))
			fail_msg("fact %s: family '%s' ends in a suffix Prometheus reserves", f->name, f->prom);
		if (matches("_(kb|kib|mb|ms|us|ns|millisecs|msecs|pages_kb|ticks)(_|$)", f->prom))
			fail_msg("fact %s: family '%s' is not in a base unit (bytes, seconds)", f->name, f->prom);
		if ((f->unit == FU_KB || f->unit == FU_BYTES) != ends_with(f->prom, "_bytes"))
			fail_msg("fact %s: family '%s' and its unit disagree about bytes", f->name, f->prom);
		if ((f->unit == FU_MS || f->unit == FU_UNIX_S) != ends_with(f->prom, "_seconds"))
			fail_msg("fact %s: family '%s' and its unit disagree about seconds", f->name, f->prom);
		if (f->type == FACT_STR && f->kind != FK_GAUGE)
			fail_msg("fact %s: a string is exported as a state set (a gauge)", f->name);
	}
}

/* Every family of either table, the counter and histogram families, and the fixed ones are
 * distinct. */
static void test_tables(void **state)
{
	static char made[128][128];	/* the counter and histogram families */
	const char *fam[512];
	int n = 0, m = 0;
	char name[128];
	double scale;
	static const char *const fixed[] = { "vmmem_up", "vmmem_build", "vmmem_vm", "vmmem_qmp_up", "vmmem_vms",
					     "vmmem_available", "vmmem_advice", "vmmem_last_sample_timestamp_seconds",
					     "vmmem_sample_interval_seconds", "vmmem_scrape_source_success",
					     "vmmem_scrape_source_duration_seconds", "vmmem_scrape_duration_seconds" };

	(void)state;
	check_table(host_facts, HOST_NR_FACTS, true);
	check_table(vm_facts, VM_NR_FACTS, false);
	for (int i = 0; i < HOST_NR_FACTS; i++)
		if (host_facts[i].prom)
			fam[n++] = host_facts[i].prom;
	for (int i = 0; i < VM_NR_FACTS; i++)
		if (vm_facts[i].prom)
			fam[n++] = vm_facts[i].prom;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		fam[n++] = fixed[i];
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
		assert_int_equal(export_counter_family(name, sizeof(name), vm_counter_names[k], vm_counter_units[k],
						       &scale), 0);
		fam[n++] = strcpy(made[m++], name);
	}
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		assert_int_equal(export_counter_family(name, sizeof(name), host_counter_names[k],
						       host_counter_units[k], &scale), 0);
		fam[n++] = strcpy(made[m++], name);
	}
	for (int k = 0; k < VMMEM_NR_VM_HISTS + VMMEM_NR_HOST_HISTS; k++) {
		assert_int_equal(export_counter_family(name, sizeof(name), k < VMMEM_NR_VM_HISTS ? vm_hist_names[k] :
						       host_hist_names[k - VMMEM_NR_VM_HISTS], "ns", &scale), 0);
		fam[n++] = strcpy(made[m++], name);
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(fam[i], fam[j]))
				fail_msg("Prometheus family %s declared twice", fam[i]);
}

/* Recordings lay these out by position (record_writer.c): the list may never change, or the
 * recordings made before stop replaying. */
static void test_recording_layout(void **state)
{
	static const char *const host_v1[] = {
		"mem_total_kb", "mem_free_kb", "mem_available_kb", "buffers_kb", "cached_kb", "swap_total_kb",
		"swap_free_kb", "anon_huge_kb", "ksm_present", "ksm_run", "ksm_pages_to_scan", "ksm_sleep_millisecs",
		"ksm_pages_shared", "ksm_pages_sharing", "ksm_pages_unshared", "ksm_pages_volatile", "ksm_full_scans",
		"ksm_general_profit", "ksm_zero_pages", "ksm_merge_across_nodes", "ksm_use_zero_pages",
		"ksm_advisor_mode", "ksmd_cpu_ticks", "thp_present", "thp_enabled", "thp_defrag",
		"thp_khugepaged_scan_sleep_ms", "thp_khugepaged_pages_collapsed", "cpu_vendor", NULL };
	static const char *const vm_v1[] = {
		"vcpus", "mem_configured_kb", "rss_kb", "swap_kb", "anon_huge_kb", "ksm_stat_present",
		"ksm_rmap_items", "ksm_zero_pages", "ksm_merging_pages", "ksm_process_profit", NULL };
	int j = 0;

	(void)state;
	for (int i = 0; i < HOST_NR_FACTS; i++)
		if (host_facts[i].flags & FF_REC) {
			assert_non_null(host_v1[j]);
			assert_string_equal(host_facts[i].name, host_v1[j++]);
		}
	assert_null(host_v1[j]);
	j = 0;
	for (int i = 0; i < VM_NR_FACTS; i++)
		if (vm_facts[i].flags & FF_REC) {
			assert_non_null(vm_v1[j]);
			assert_string_equal(vm_facts[i].name, vm_v1[j++]);
		}
	assert_null(vm_v1[j]);
}

/* Every fact of table present in base, with a value of its own. */
static void fill(const struct fact *t, int n, void *base, int seed)
{
	for (int i = 0; i < n; i++) {
		const struct fact *f = &t[i];

		if (f->type == FACT_FLAG) {
			*fact_flag(f, base) = true;
		} else if (f->type == FACT_STR) {
			snprintf(fact_str(f, base), f->size, "%s", f->modes && f->modes[0] ? f->modes[0] : "/x.scope");
		} else {
			uint64_t v = (uint64_t)(seed + i + 1) % (f->max + 1);

			*fact_u64(f, base) = (struct opt_u64){ f->flags & FF_SIGNED ? (uint64_t)-(int64_t)v : v, true };
		}
	}
}

static void make_full(struct snapshot *s, int nr_vms)
{
	memset(s, 0, sizeof(*s));
	s->interval_s = 2;
	s->wall_time = 1700000000;
	s->backend = "bpf";
	s->ksmd_cpu = 0.25;
	fill(host_facts, HOST_NR_FACTS, &s->host, 1000);
	strcpy(s->host.cpu_vendor, "amd");
	s->host.mem.mem_available_kb.v = s->host.mem.mem_total_kb.v;	/* the loader checks avail <= total */
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s->available.vm[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		s->available.host[k] = true;
		s->host_delta.c[k] = s->host_total.c[k] = 7 + k;
	}
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		s->available.vm_hist[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++) {
		s->available.host_hist[k] = true;
		s->host_hist_total.h[k].slot[20] = 1;
	}
	s->vms = calloc(nr_vms, sizeof(*s->vms));
	assert_non_null(s->vms);
	s->nr_vms = nr_vms;
	for (int i = 0; i < nr_vms; i++) {
		struct vm_snapshot *v = &s->vms[i];

		fill(vm_facts, VM_NR_FACTS, &v->info, 100 * i);
		v->info.pid = 100 + i;
		v->seq = i + 1;
		snprintf(v->info.name, sizeof(v->info.name), "vm%d", i);
		strcpy(v->info.comm, "qemu-system-x86");
		strcpy(v->info.uuid, "00000000-0000-0000-0000-000000000000");
		v->info.uuid[35] = '0' + i % 10;
		snprintf(v->info.qmp.socket, sizeof(v->info.qmp.socket), "/run/vm%d.qmp", i);
		v->info.qmp.up = true;
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			v->delta.c[k] = v->total.c[k] = 1000 * (i + 1) + k;
		for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
			v->hist_total.h[k].slot[12] = 1;
	}
}

static void check_object_size(json_t *o, const char *path, const struct fact *t, int n, bool host, int group)
{
	size_t want = nr_extras(host, group);

	assert_true(json_is_object(o));
	for (int i = 0; i < n; i++)
		want += t[i].json && (int)t[i].group == group;
	if (json_object_size(o) != want)
		fail_msg("%s has %zu keys, its facts and hand-written keys are %zu: a key is written twice",
			 path, json_object_size(o), want);
}

/* A key written twice replaces the first in jansson: so each object holds exactly as many keys
 * as the table and the writer name for it. */
static void test_json_keys_unique(void **state)
{
	struct snapshot s;
	json_t *o, *vm;

	(void)state;
	make_full(&s, 2);
	o = snapshot_to_json(&s);
	assert_non_null(o);
	check_object_size(json_object_get(o, "host"), ".host", host_facts, HOST_NR_FACTS, true, FG_TOP);
	check_object_size(json_object_get(json_object_get(o, "host"), "ksm"), ".host.ksm", host_facts, HOST_NR_FACTS,
			  true, FG_KSM);
	check_object_size(json_object_get(json_object_get(o, "host"), "thp"), ".host.thp", host_facts, HOST_NR_FACTS,
			  true, FG_THP);
	vm = json_array_get(json_object_get(o, "vms"), 0);
	check_object_size(vm, ".vms[0]", vm_facts, VM_NR_FACTS, false, FG_TOP);
	check_object_size(json_object_get(vm, "ksm_stat"), ".vms[0].ksm_stat", vm_facts, VM_NR_FACTS, false, FG_KSM_STAT);
	check_object_size(json_object_get(vm, "cgroup"), ".vms[0].cgroup", vm_facts, VM_NR_FACTS, false, FG_CGROUP);
	check_object_size(json_object_get(vm, "qmp"), ".vms[0].qmp", vm_facts, VM_NR_FACTS, false, FG_QMP);
	/* the KSM scans ksmd's hooks counted: once, under counters */
	assert_null(json_object_get(json_object_get(json_object_get(o, "host"), "ksm"), "scans"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(o, "host"), "counters"),
							    "ksm_scans")), 7 + VMMEM_H_ksm_scans);
	json_decref(o);
	snapshot_free(&s);
}

/* What the writer puts in JSON, the loader reads back: every fact with a JSON key. */
static void test_json_roundtrip(void **state)
{
	struct snapshot s, back;
	char *text, err[256];
	json_t *o;

	(void)state;
	make_full(&s, 2);
	o = snapshot_to_json(&s);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	assert_non_null(text);
	if (snapshot_load(text, strlen(text), &back, err, sizeof(err)))
		fail_msg("the loader refuses what the writer wrote: %s", err);
	for (int i = 0; i < HOST_NR_FACTS; i++) {
		const struct fact *f = &host_facts[i];

		if (!f->json)
			continue;
		if (f->type == FACT_U64 && memcmp(fact_u64(f, &s.host), fact_u64(f, &back.host), sizeof(struct opt_u64)))
			fail_msg("host fact %s: wrote %llu, read %llu", f->name,
				 (unsigned long long)fact_u64(f, &s.host)->v, (unsigned long long)fact_u64(f, &back.host)->v);
		if (f->type == FACT_STR)
			assert_string_equal(fact_str(f, &s.host), fact_str(f, &back.host));
	}
	assert_int_equal(back.nr_vms, 2);
	for (int v = 0; v < 2; v++)
		for (int i = 0; i < VM_NR_FACTS; i++) {
			const struct fact *f = &vm_facts[i];

			if (!f->json)
				continue;
			if (f->type == FACT_U64 &&
			    memcmp(fact_u64(f, &s.vms[v].info), fact_u64(f, &back.vms[v].info), sizeof(struct opt_u64)))
				fail_msg("VM fact %s: wrote %llu, read %llu", f->name,
					 (unsigned long long)fact_u64(f, &s.vms[v].info)->v,
					 (unsigned long long)fact_u64(f, &back.vms[v].info)->v);
			if (f->type == FACT_STR)
				assert_string_equal(fact_str(f, &s.vms[v].info), fact_str(f, &back.vms[v].info));
		}
	assert_true(back.available.host[VMMEM_H_ksm_scans]);
	assert_int_equal(back.host_delta.c[VMMEM_H_ksm_scans], 7 + VMMEM_H_ksm_scans);
	free(text);
	snapshot_free(&s);
	snapshot_free(&back);
}

/* Snapshots written by earlier versions: KSM scans under .host.ksm.scans only. */
static void test_loader_reads_old_keys(void **state)
{
	static const char old[] = "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":"
				  "1000,\"mem_available_kb\":500,\"counters\":{},\"ksm\":{\"run\":1,\"scans\":10,"
				  "\"scan_ns\":99}},\"vms\":[]}";
	struct snapshot s;
	char err[256];

	(void)state;
	if (snapshot_load(old, strlen(old), &s, err, sizeof(err)))
		fail_msg("an old snapshot is refused: %s", err);
	assert_true(s.available.host[VMMEM_H_ksm_scans]);
	assert_int_equal(s.host_delta.c[VMMEM_H_ksm_scans], 10);
	assert_true(s.host.ksm.present);
	snapshot_free(&s);
}

/* With every fact, counter and histogram present: each family is declared once and each
 * series (name and labels) appears once, in both formats (strict parsers, promtool and
 * OpenMetrics, reject a second "# TYPE" or a repeated series), and every family name is in
 * base units. */
static void test_prom_unique_and_named(void **state)
{
	struct snapshot s;

	(void)state;
	make_full(&s, 3);
	for (int fmt = EXPORT_FMT_TEXT; fmt <= EXPORT_FMT_OPENMETRICS; fmt++) {
		struct export_meta m = { .up = true, .version = "test" };
		struct strbuf sb;
		char *text, *save = NULL, **seen;
		size_t n = 0, families = 0;

		strbuf_init(&sb);
		assert_int_equal(export_prom_render(&sb, &s, &m, fmt), 0);
		assert_int_equal(export_prom_finish(&sb, 0.001, fmt), 0);
		text = strbuf_detach(&sb, NULL);
		seen = calloc(100000, sizeof(*seen));
		assert_non_null(seen);
		for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *key;

			if (!strncmp(line, "# TYPE ", 7)) {
				char *sp = strchr(line + 7, ' ');

				assert_non_null(sp);
				*sp = 0;
				key = line;	/* "# TYPE name": apart from the series of that name */
				families++;
				if (!matches("^vmmem_[a-z][a-z0-9_]*[a-z0-9]$", key + 7))
					fail_msg("family %s is not a vmmem_ snake-case name", key + 7);
				if (matches("_(kb|kib|ms|us|ns|millisecs|ticks)(_total)?$", key + 7))
					fail_msg("family %s is not in a base unit (bytes, seconds)", key + 7);
			} else if (line[0] == '#') {
				continue;
			} else {
				char *end = strchr(line, '}');

				end = end ? end + 1 : strchr(line, ' ');
				assert_non_null(end);
				*end = 0;
				key = line;
			}
			for (size_t i = 0; i < n; i++)
				if (!strcmp(seen[i], key)) {
					fail_msg("%s: '%s' appears twice", fmt ? "OpenMetrics" : "text", key);
				}
			assert_true(n < 100000);
			seen[n++] = key;
		}
		if (families < 40)
			fail_msg("only %zu families rendered", families);
		/* every exported fact is there */
		for (int i = 0; i < HOST_NR_FACTS + VM_NR_FACTS; i++) {
			const struct fact *f = i < HOST_NR_FACTS ? &host_facts[i] : &vm_facts[i - HOST_NR_FACTS];
			bool found = false;

			for (size_t j = 0; j < n && f->prom && !found; j++) {
				const char *fam = seen[j] + 7;

				found = !strncmp(seen[j], "# TYPE ", 7) && (!strcmp(fam, f->prom) ||
					(fmt == EXPORT_FMT_TEXT && f->kind == FK_COUNTER && ends_with(fam, "_total") &&
					 !strncmp(fam, f->prom, strlen(f->prom)) && strlen(fam) == strlen(f->prom) + 6));
			}
			if (f->prom && !found)
				fail_msg("fact %s: family %s not rendered", f->name, f->prom);
		}
		free(seen);
		free(text);
	}
	snapshot_free(&s);
}

UNIT_TESTS(
	cmocka_unit_test(test_tables),
	cmocka_unit_test(test_recording_layout),
	cmocka_unit_test(test_json_keys_unique),
	cmocka_unit_test(test_json_roundtrip),
	cmocka_unit_test(test_loader_reads_old_keys),
	cmocka_unit_test(test_prom_unique_and_named))
