/* Unit tests: advisor hysteresis (no flip-flop), contradiction guard, never what is in place. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "advise.h"

static struct vm_snapshot vms[2];

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

static bool has(const struct advice *a, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(a[i].id, id))
			return true;
	return false;
}

static void test_hysteresis(void **state)
{
	static struct advise_state st;
	struct advice a[ADVISE_MAX];
	struct snapshot s;
	int n;

	(void)state;
	memset(&st, 0, sizeof(st));
	make(&s, 12);		/* pressure: below 20 % */
	for (int i = 1; i <= ADVISE_ENTER_STREAK; i++) {
		n = advise_evaluate(&s, &st, a, ADVISE_MAX);
		assert_int_equal(has(a, n, "balloon-inflate"), i == ADVISE_ENTER_STREAK);
	}
	/* 22 %: past the threshold but inside the relaxed band: it stays, no flip */
	make(&s, 22);
	for (int i = 0; i < 5; i++) {
		n = advise_evaluate(&s, &st, a, ADVISE_MAX);
		assert_true(has(a, n, "balloon-inflate"));
	}
	/* alternating samples of the same borderline state never flip it */
	for (int i = 0; i < 6; i++) {
		make(&s, i % 2 ? 19 : 22);
		n = advise_evaluate(&s, &st, a, ADVISE_MAX);
		assert_true(has(a, n, "balloon-inflate"));
	}
	/* clearly healthy: leaves after ADVISE_EXIT_STREAK evaluations */
	make(&s, 60);
	for (int i = 1; i <= ADVISE_EXIT_STREAK; i++) {
		n = advise_evaluate(&s, &st, a, ADVISE_MAX);
		assert_int_equal(has(a, n, "balloon-inflate"), i < ADVISE_EXIT_STREAK);
	}
	n = advise_evaluate(&s, &st, a, ADVISE_MAX);
	assert_true(has(a, n, "healthy"));
}

static void test_single_snapshot_and_in_place(void **state)
{
	struct advice a[ADVISE_MAX];
	struct snapshot s;
	int n;

	(void)state;
	make(&s, 12);
	n = advise_evaluate(&s, NULL, a, ADVISE_MAX);
	assert_true(has(a, n, "balloon-inflate"));
	assert_string_equal(a[0].target, "vm:idle");	/* never the busy one */
	/* KSM on already: never ksm-enable; THP always: never thp-enable */
	s.host.ksm = (struct host_ksm){ .present = true, .run = { 1, true }, .pages_to_scan = { 1250, true },
				       .general_profit = { 1 << 30, true }, .pages_sharing = { 1 << 20, true } };
	snprintf(s.host.thp.enabled, sizeof(s.host.thp.enabled), "always");
	snprintf(s.host.thp.defrag, sizeof(s.host.thp.defrag), "madvise");
	s.host.thp.present = true;
	vms[0].delta.c[VMMEM_C_tdp_faults] = 1000000;	/* a storm */
	n = advise_evaluate(&s, NULL, a, ADVISE_MAX);
	assert_false(has(a, n, "ksm-enable"));
	assert_false(has(a, n, "thp-enable"));
	/* a VM that is ballooned and faulting: deflate, never inflate it too */
	vms[1].total.c[VMMEM_C_balloon_inflate_bytes] = 1 << 30;
	vms[1].delta.c[VMMEM_C_tdp_faults] = 50000;
	n = advise_evaluate(&s, NULL, a, ADVISE_MAX);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			assert_false(!strcmp(a[i].target, a[j].target) && !strcmp(a[i].id, "balloon-inflate") &&
				     !strcmp(a[j].id, "balloon-deflate"));
	assert_true(has(a, n, "balloon-deflate"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_single_snapshot_and_in_place),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
