// SPDX-License-Identifier: MIT
/* Unit tests: advisor hysteresis (no flip-flop), contradiction guard, never what is in place,
 * and the snapshot loader on malformed input. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "advise.h"
#include "snapshot_load.h"

/* the fixture every advisor test starts from (pressure(): under memory pressure) */
static struct vm_snapshot vms[2];
static struct snapshot s;
static struct advise_state st;
static struct advice a[ADVISE_MAX];
static int n;

/* host with avail_pct % free; VM 0 busy, VM 1 idle */
static void make(struct snapshot *s, double avail_pct)
{
	memset(s, 0, sizeof(*s));
	memset(vms, 0, sizeof(vms));
	s->interval_s = 10;
	s->host.mem.mem_total_kb = (struct opt_u64){ 16 << 20, true };
	s->host.mem.mem_available_kb = (struct opt_u64){ (uint64_t)((16 << 20) * avail_pct / 100), true };
	s->available.vm[VMMEM_C_tdp_faults] = true;
	for (int i = 0; i < 2; i++) {
		snprintf(vms[i].info.name, sizeof(vms[i].info.name), "%s", i ? "idle" : "busy");
		vms[i].info.rss_kb = (struct opt_u64){ 6 << 20, true };
		vms[i].info.mem_configured_kb = (struct opt_u64){ 6 << 20, true };
	}
	vms[0].delta.c[VMMEM_C_tdp_faults] = 5000;
	s->vms = vms;
	s->nr_vms = 2;
}

/* setup: 12 % of the host free (pressure), VM 0 busy, no hysteresis state yet */
static int pressure(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	make(&s, 12);
	return 0;
}

/* one evaluation of s into a[n], with the hysteresis of st or none */
static void eval(bool hyst)
{
	n = advise_evaluate(&s, hyst ? &st : NULL, a, ADVISE_MAX);
}

static const struct advice *find(const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(a[i].id, id))
			return &a[i];
	return NULL;
}

/* one evaluation without hysteresis, which must give advice ID */
static const struct advice *evaluated(const char *id)
{
	eval(false);
	assert_non_null(find(id));
	return find(id);
}

static bool has(const char *id)
{
	return find(id) != NULL;
}

/* KSM present and off, at the default pages_to_scan */
static void ksm_off(void)
{
	s.host.ksm = (struct host_ksm){ .present = true, .run = { 0, true }, .pages_to_scan = { 100, true } };
}

static void test_hysteresis(void **state)
{
	(void)state;
	for (int i = 1; i <= ADVISE_ENTER_STREAK; i++) {
		eval(true);
		assert_int_equal(has("balloon-inflate"), i == ADVISE_ENTER_STREAK);
	}
	/* 22 %: past the threshold but inside the relaxed band: it stays, no flip */
	make(&s, 22);
	for (int i = 0; i < 5; i++) {
		eval(true);
		assert_true(has("balloon-inflate"));
	}
	/* alternating samples of the same borderline state never flip it */
	for (int i = 0; i < 6; i++) {
		make(&s, i % 2 ? 19 : 22);
		eval(true);
		assert_true(has("balloon-inflate"));
	}
	/* clearly healthy: leaves after ADVISE_EXIT_STREAK evaluations */
	make(&s, 60);
	for (int i = 1; i <= ADVISE_EXIT_STREAK; i++) {
		eval(true);
		assert_int_equal(has("balloon-inflate"), i < ADVISE_EXIT_STREAK);
	}
	eval(true);
	assert_true(has("healthy"));
}

/* A VM the host swaps: advised with the eviction evidence; never without the counters (an
 * unavailable counter is not a 0 that clears it, nor a rate that raises it); the idle neighbour
 * is the one to shrink, and the swapped VM is not also told to inflate its own balloon. */
static void test_vm_host_swapped(void **state)
{
	(void)state;	/* pressure: balloon-inflate would pick "idle" */
	vms[0].delta.c[VMMEM_C_tdp_faults] = 0;	/* a swapped VM stalls: it looks idle too */
	vms[0].delta.c[VMMEM_C_kvm_major_faults] = 20000;	/* 2000/s */
	vms[0].info.rss_kb.v = 7 << 20;		/* and is the larger one */
	eval(false);
	assert_false(has("vm-host-swapped"));	/* the counter is unavailable */
	s.available.vm[VMMEM_C_kvm_major_faults] = true;
	s.available.vm[VMMEM_C_swapin_bytes] = true;
	eval(false);
	assert_true(has("vm-host-swapped"));
	for (int i = 0; i < n; i++) {
		if (!strcmp(a[i].id, "vm-host-swapped")) {
			assert_string_equal(a[i].target, "vm:busy");
			assert_non_null(strstr(a[i].evidence, "2000 KVM major faults/s"));
			assert_non_null(strstr(a[i].command, "virsh setmem idle "));
		}
		/* never both "shrink busy" and "busy is being swapped" */
		if (!strcmp(a[i].id, "balloon-inflate"))
			assert_string_not_equal(a[i].target, "vm:busy");
	}
	/* below both thresholds: nothing */
	vms[0].delta.c[VMMEM_C_kvm_major_faults] = 500;	/* 50/s */
	vms[0].delta.c[VMMEM_C_swapin_bytes] = 5 << 20;	/* 0.5 MiB/s */
	eval(false);
	assert_false(has("vm-host-swapped"));
}

static void test_single_snapshot_and_in_place(void **state)
{
	(void)state;
	eval(false);
	assert_true(has("balloon-inflate"));
	assert_string_equal(a[0].target, "vm:idle");	/* never the busy one */
	/* KSM on already: never ksm-enable; THP always: never thp-enable */
	s.host.ksm = (struct host_ksm){ .present = true, .run = { 1, true }, .pages_to_scan = { 1250, true },
				       .general_profit = { 1 << 30, true }, .pages_sharing = { 1 << 20, true } };
	snprintf(s.host.thp.enabled, sizeof(s.host.thp.enabled), "always");
	snprintf(s.host.thp.defrag, sizeof(s.host.thp.defrag), "madvise");
	s.host.thp.present = true;
	vms[0].delta.c[VMMEM_C_tdp_faults] = 1000000;	/* a storm */
	eval(false);
	assert_false(has("ksm-enable"));
	assert_false(has("thp-enable"));
	/* a VM that is ballooned and faulting: deflate, never inflate it too */
	vms[1].total.c[VMMEM_C_balloon_inflate_bytes] = 1 << 30;
	vms[1].delta.c[VMMEM_C_tdp_faults] = 50000;
	eval(false);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			assert_false(!strcmp(a[i].target, a[j].target) && !strcmp(a[i].id, "balloon-inflate") &&
				     !strcmp(a[j].id, "balloon-deflate"));
	assert_true(has("balloon-deflate"));
}

/* An advice whose action the operator took leaves on the next evaluation, not after the
 * exit streak: the view must never show "turn KSM on" while KSM is on. */
static void test_in_place_clears_at_once(void **state)
{
	(void)state;
	ksm_off();
	for (int i = 0; i < ADVISE_ENTER_STREAK; i++)
		eval(true);
	assert_non_null(find("ksm-enable"));
	s.host.ksm.run.v = 1;
	eval(true);
	assert_null(find("ksm-enable"));
	assert_null(find("ksm-disable"));	/* profit unknown, pressure: keep it on */
}

/* The kernel's advisor is preferred over manual pages_to_scan when the kernel has one. */
static void test_ksm_advisor_preferred(void **state)
{
	const struct advice *e;

	(void)state;
	ksm_off();
	e = evaluated("ksm-enable");
	assert_non_null(strstr(e->command, "pages_to_scan"));
	assert_null(strstr(e->command, "advisor_mode"));
	snprintf(s.host.ksm.advisor_mode, sizeof(s.host.ksm.advisor_mode), "none");
	e = evaluated("ksm-enable");
	assert_non_null(strstr(e->command, "echo scan-time > /sys/kernel/mm/ksm/advisor_mode"));
	/* on, under pressure, advisor already running: nothing to tune by hand */
	s.host.ksm.run.v = 1;
	snprintf(s.host.ksm.advisor_mode, sizeof(s.host.ksm.advisor_mode), "scan-time");
	eval(false);
	assert_null(find("ksm-scan-faster"));
	assert_null(find("ksm-enable"));
}

/* A fresh KSM forecast decides ksm-enable: under 1 % of RAM it vetoes it even under pressure,
 * at 10 % or more it advises it (info) without pressure; a stale one decides nothing. */
static void test_ksm_forecast(void **state)
{
	const struct advice *e;

	(void)state;
	s.wall_time = 1000000;
	ksm_off();
	s.host.ksm_forecast = (struct host_ksm_forecast){ .present = true, .time = s.wall_time - 60,
		.scanned_bytes = 12ULL << 30, .saved_bytes = 16ULL << 20, .saved_bytes_uzp = 16ULL << 20,
		.vms = 2, .seconds = 120, .cpu_seconds = 8, .rate_mib = 100 };
	eval(false);
	assert_null(find("ksm-enable"));
	s.host.ksm_forecast.time = s.wall_time - 2 * 86400;	/* stale: the old rule decides */
	e = evaluated("ksm-enable");
	assert_non_null(strstr(e->evidence, "stale: not used"));
	make(&s, 60);	/* plenty free: ksmtuned would leave KSM off */
	s.wall_time = 1000000;
	ksm_off();
	eval(false);
	assert_null(find("ksm-enable"));
	s.host.ksm_forecast = (struct host_ksm_forecast){ .present = true, .time = s.wall_time - 60,
		.scanned_bytes = 12ULL << 30, .saved_bytes = 4ULL << 30, .saved_bytes_uzp = 4ULL << 30,
		.vms = 2, .seconds = 120, .cpu_seconds = 8, .rate_mib = 100 };
	e = evaluated("ksm-enable");
	assert_int_equal(e->severity, ADVICE_INFO);
	assert_non_null(strstr(e->evidence, "KSM would save ~4.0 GiB across 2 VMs (forecast, 60 s old)"));
}

/* A VM name is one shell word in the commands, whatever it contains. */
static void test_vm_name_quoted(void **state)
{
	const struct advice *e;

	(void)state;
	snprintf(vms[1].info.name, sizeof(vms[1].info.name), "a b'c;\nrm");
	/* not a libvirt domain: no virsh command (virsh knows no such VM), QMP only */
	e = evaluated("balloon-inflate");
	assert_null(strstr(e->command, "virsh"));
	assert_non_null(strstr(e->command, "qmp: {\"execute\":\"balloon\""));
	/* a libvirt domain: virsh names the domain, quoted */
	snprintf(vms[1].info.libvirt_domain, sizeof(vms[1].info.libvirt_domain), "a b'c;\nrm");
	e = evaluated("balloon-inflate");
	assert_non_null(strstr(e->command, "virsh setmem 'a b'\\''c;?rm' "));
	/* 95 % of the configured 6 GiB, in KiB */
	assert_non_null(strstr(e->command, " 5976883K --live"));
	/* already ballooned by 1 GiB: the step is from the 5 GiB it has now */
	vms[1].total.c[VMMEM_C_balloon_inflate_bytes] = 1ull << 30;
	e = evaluated("balloon-inflate");
	assert_non_null(strstr(e->command, " 4980736K --live"));
}

/* Working set from the host (DAMON, no guest agent): a VM using 1 of its 6 GiB is a candidate
 * to inflate (to working set + 25 %), with hysteresis; a ballooned VM whose working set
 * presses what the balloon leaves it, to deflate; a VM in between, neither. */
static void test_balloon_working_set(void **state)
{
	const struct advice *e;

	(void)state;
	make(&s, 60);				/* no host pressure: the advice is info */
	vms[1].info.working_set_bytes = (struct opt_u64){ 1ull << 30, true };
	for (int i = 1; i <= ADVISE_ENTER_STREAK; i++) {
		eval(true);
		assert_int_equal(has("balloon-inflate"), i == ADVISE_ENTER_STREAK);
	}
	e = find("balloon-inflate");
	assert_string_equal(e->target, "vm:idle");
	assert_int_equal(e->severity, ADVICE_INFO);
	assert_non_null(strstr(e->evidence, "working set 1024 MiB = 17% of its 6144 MiB (-m;"));
	/* 1.25 GiB in bytes, QMP; the busy VM has no figure and no pressure: nothing for it */
	assert_non_null(strstr(e->command, "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":1342177280}}"));
	assert_non_null(strstr(e->action, "frees 4864 MiB"));
	/* 3.5 of 6 GiB: inside the relaxed band (50 % / 0.8 = 62.5 %): it stays, no flip */
	vms[1].info.working_set_bytes.v = 3584ull << 20;
	eval(true);
	assert_non_null(find("balloon-inflate"));
	/* 4 of 6 GiB: not far below; it leaves after the exit streak */
	vms[1].info.working_set_bytes.v = 4ull << 30;
	for (int i = 1; i <= ADVISE_EXIT_STREAK; i++) {
		eval(true);
		assert_int_equal(has("balloon-inflate"), i < ADVISE_EXIT_STREAK);
	}
	/* under host pressure, the VM with a working-set figure is judged by it, not by idleness:
	 * 4 of 6 GiB used is no candidate even though it takes no TDP faults */
	make(&s, 12);
	vms[1].info.working_set_bytes = (struct opt_u64){ 4ull << 30, true };
	eval(false);
	assert_null(find("balloon-inflate"));
	vms[1].info.working_set_bytes.v = 1ull << 30;
	e = evaluated("balloon-inflate");
	assert_int_equal(e->severity, ADVICE_WARN);
	/* ballooned to 2 GiB (QMP actual) with a 1.9 GiB working set: deflate to 2433 MiB (+25 %), the
	 * libvirt command too; never inflate it as well */
	make(&s, 60);
	snprintf(vms[1].info.libvirt_domain, sizeof(vms[1].info.libvirt_domain), "idle");
	vms[1].info.qmp.v[VMM_QMP_balloon_actual_bytes] = (struct opt_u64){ 2ull << 30, true };
	vms[1].info.working_set_bytes = (struct opt_u64){ 1946ull << 20, true };
	e = evaluated("balloon-deflate");
	assert_null(find("balloon-inflate"));
	assert_non_null(strstr(e->evidence, "working set 1946 MiB = 95% of the 2048 MiB the balloon leaves it "
					   "(balloon actual (QMP);"));
	assert_non_null(strstr(e->command, "virsh setmem idle 2491392K --live"));
	/* 1.2 of 2 GiB: neither */
	vms[1].info.working_set_bytes.v = 1200ull << 20;
	eval(false);
	assert_null(find("balloon-deflate"));
	assert_null(find("balloon-inflate"));
}

static bool contradict_pair(const char *x, const char *y)
{
	static const char *const pairs[][2] = {
		{ "ksm-enable", "ksm-disable" }, { "ksm-scan-faster", "ksm-scan-slower" },
		{ "ksm-disable", "ksm-scan-faster" }, { "ksm-disable", "ksm-scan-slower" },
		{ "balloon-inflate", "balloon-deflate" }, { "thp-enable", "thp-defrag" },
		{ "thp-enable", "hugepages-vm" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if ((!strcmp(x, pairs[i][0]) && !strcmp(y, pairs[i][1])) ||
		    (!strcmp(x, pairs[i][1]) && !strcmp(y, pairs[i][0])))
			return true;
	return false;
}

/* Sweep a grid of host states, with and without hysteresis: every advice is from the
 * vocabulary, complete, never in place already, never contradicted for its target. */
static void test_grid_invariants(void **state)
{
	static const char *const thp[] = { "never", "madvise", "always" };
	static const char *const defrag[] = { "never", "defer", "madvise" };
	int combos = 0;

	(void)state;
	for (int pct = 5; pct <= 95; pct += 15)
	for (int run = 0; run <= 2; run++)
	for (int ti = 0; ti < 3; ti++)
	for (int di = 0; di < 3; di++)
	for (int storm = 0; storm <= 1; storm++)
	for (int hyst = 0; hyst <= 1; hyst++) {
		make(&s, pct);
		s.host.ksm = (struct host_ksm){ .present = true, .run = { run, true },
			.pages_to_scan = { 1250, true }, .general_profit = { (uint64_t)-4096, true },
			.pages_sharing = { 10, true } };
		s.ksmd_cpu = 0.5;
		s.host.thp.present = true;
		snprintf(s.host.thp.enabled, sizeof(s.host.thp.enabled), "%s", thp[ti]);
		snprintf(s.host.thp.defrag, sizeof(s.host.thp.defrag), "%s", defrag[di]);
		s.available.vm[VMMEM_C_tdp_map_4k] = true;
		vms[0].delta.c[VMMEM_C_tdp_faults] = storm ? 1000000 : 10;
		vms[0].delta.c[VMMEM_C_tdp_map_4k] = 100000;
		vms[1].total.c[VMMEM_C_balloon_inflate_bytes] = storm ? 1 << 30 : 0;
		vms[1].delta.c[VMMEM_C_tdp_faults] = storm ? 100000 : 0;
		eval(hyst);
		assert_true(n >= 1);
		for (int i = 0; i < n; i++) {
			bool known = false;

			for (int k = 0; advice_ids[k]; k++)
				known |= !strcmp(advice_ids[k], a[i].id);
			assert_true(known);
			assert_true(a[i].evidence[0] && a[i].action[0]);
			assert_true(!strcmp(a[i].id, "healthy") || a[i].command[0]);
			assert_false(!strcmp(a[i].id, "ksm-enable") && run != 0);
			assert_false(!strcmp(a[i].id, "ksm-disable") && run != 1);
			assert_false(!strcmp(a[i].id, "ksm-scan-faster"));	/* already at 1250 */
			assert_false(!strcmp(a[i].id, "thp-enable") && ti != 0);
			assert_false(!strcmp(a[i].id, "thp-defrag") && di == 2);
			assert_false(!strcmp(a[i].id, "healthy") && n > 1);
			for (int j = 0; j < n; j++) {
				if (!strcmp(a[i].target, a[j].target) && contradict_pair(a[i].id, a[j].id))
					fail_msg("%s and %s both for %s (free %d%%, run %d, thp %s/%s)",
						 a[i].id, a[j].id, a[i].target, pct, run, thp[ti], defrag[di]);
				assert_false(i != j && !strcmp(a[i].id, a[j].id) && !strcmp(a[i].target, a[j].target));
			}
		}
		combos++;
	}
	assert_int_equal(combos, 7 * 3 * 3 * 3 * 2 * 2);
}

static const char good[] =
	"{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"backend\":\"bpf\","
	"\"host\":{\"mem_total_kb\":1000000,\"mem_available_kb\":500000,\"swap_total_kb\":null,"
	"\"ksm\":{\"run\":1,\"general_profit\":-8192,\"advisor_mode\":null,\"pages_volatile\":null},"
	"\"thp\":{\"enabled\":\"madvise\",\"defrag\":null}},"
	"\"vms\":[{\"pid\":7,\"name\":\"v\",\"rss_kb\":null,\"counters\":{\"tdp_faults\":50,\"exits\":null},"
	"\"ksm_stat\":{\"ksm_process_profit\":-4096}}],\"dropped_events\":null}";

static int load(const char *text, struct snapshot *s, char *err, size_t errsz)
{
	return snapshot_load(text, strlen(text), s, err, errsz);
}

static void test_loader_accepts_nulls(void **state)
{
	struct snapshot s;
	char err[256] = "";

	(void)state;
	assert_int_equal(load(good, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nr_vms, 1);
	assert_false(s.host.mem.swap_total_kb.present);
	assert_false(s.host.ksm.pages_volatile.present);
	assert_int_equal((int64_t)s.host.ksm.general_profit.v, -8192);
	assert_int_equal((int64_t)s.vms[0].info.ksm.ksm_process_profit.v, -4096);
	assert_false(s.vms[0].info.rss_kb.present);
	assert_true(s.available.vm[VMMEM_C_tdp_faults]);
	assert_false(s.available.vm[VMMEM_C_exits]);	/* null: unavailable, never 0 */
	assert_int_equal(s.vms[0].delta.c[VMMEM_C_tdp_faults], 50);
	assert_string_equal(s.host.ksm.advisor_mode, "");
	snapshot_free(&s);
}

/* Each malformed input: -EINVAL, one line, and the words that say what is wrong. */
static void test_loader_malformed(void **state)
{
	static const struct { const char *text, *want[4]; } cases[] = {
		{ "", { "not valid JSON" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_t", { "not valid JSON" } },
		{ "[1,2]", { "top level is not an object" } },
		{ "{\"schema\":\"vmmemtop.snapshot/2\"}", { "schema is 'vmmemtop.snapshot/2'", "expected" } },
		{ "{\"interval_s\":1}", { "schema is '(missing)'" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\"}", { "missing required fields", ".interval_s", ".host", ".vms" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{},\"vms\":[{}]}",
		  { ".host.mem_total_kb", ".host.mem_available_kb", ".vms[0].pid", ".vms[0].counters" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":-5,"
		  "\"mem_available_kb\":1},\"vms\":[]}", { ".host.mem_total_kb", "negative" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":1e30,"
		  "\"mem_available_kb\":1},\"vms\":[]}", { ".host.mem_total_kb", "absurdly large" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":"
		  "99999999999999999999999,\"mem_available_kb\":1},\"vms\":[]}", { "not valid JSON", "too big" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":10,"
		  "\"mem_available_kb\":20},\"vms\":[]}", { "larger than .host.mem_total_kb" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":-1,\"host\":{\"mem_total_kb\":10,"
		  "\"mem_available_kb\":2},\"vms\":[]}", { ".interval_s" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":10,"
		  "\"mem_available_kb\":2},\"vms\":[{\"pid\":1,\"counters\":{\"tdp_faults\":\"x\"}}]}",
		  { ".vms[0].counters.tdp_faults", "not a number" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"interval_s\":10,\"host\":{\"mem_total_kb\":10,"
		  "\"mem_available_kb\":2},\"vms\":[{\"pid\":1,\"counters\":{\"tdp_faults\":1.5}}]}",
		  { "not a whole number" } },
		{ "{\"schema\":\"vmmemtop.snapshot/1\",\"schema\":\"vmmemtop.snapshot/1\"}", { "duplicate" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct snapshot s;
		char err[512] = "";
		int ret = load(cases[i].text, &s, err, sizeof(err));

		if (ret != -EINVAL)
			fail_msg("case %zu: got %d, expected -EINVAL (%s)", i, ret, cases[i].text);
		assert_null(strchr(err, '\n'));
		for (int w = 0; w < 4 && cases[i].want[w]; w++)
			if (!strstr(err, cases[i].want[w]))
				fail_msg("case %zu: error '%s' lacks '%s'", i, err, cases[i].want[w]);
	}
}

UNIT_TESTS(
	cmocka_unit_test_setup(test_hysteresis, pressure),
	cmocka_unit_test_setup(test_vm_host_swapped, pressure),
	cmocka_unit_test_setup(test_single_snapshot_and_in_place, pressure),
	cmocka_unit_test_setup(test_in_place_clears_at_once, pressure),
	cmocka_unit_test_setup(test_ksm_advisor_preferred, pressure),
	cmocka_unit_test_setup(test_ksm_forecast, pressure),
	cmocka_unit_test_setup(test_vm_name_quoted, pressure),
	cmocka_unit_test_setup(test_balloon_working_set, pressure),
	cmocka_unit_test_setup(test_grid_invariants, pressure),
	cmocka_unit_test(test_loader_accepts_nulls),
	cmocka_unit_test(test_loader_malformed))
