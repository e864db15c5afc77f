// SPDX-License-Identifier: MIT
/* Unit tests: the collector over the synthetic source. Oracle: the source's own formula
 * (VM i, counter k: i + k + 1 per sample, totals growing by that every sample), and the
 * thread and the step-by-step mode publishing the same thing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "collector.h"
#include "history.h"

static struct collector *open_synthetic(const char *backend, char *err, size_t errsz, int *ret)
{
	struct collector_options o = { .core = { .backend = backend }, .interval_s = 0.05, .history = true,
				       .advise = true };
	struct collector *c = NULL;

	*ret = collector_open(&c, &o, err, errsz);
	return c;
}

static void check_sample(const struct snapshot *s, int n)
{
	assert_string_equal(s->backend, "synthetic");
	assert_int_equal(s->nr_vms, n + 1);	/* and the exited one */
	for (int i = 0; i < s->nr_vms; i++) {
		const struct vm_snapshot *v = &s->vms[i];
		int id = v->info.pid - 4200000;

		assert_true(id >= 0 && id <= n);
		assert_int_equal(v->exited, id == n);
		if (v->exited)
			continue;
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
			assert_int_equal(v->delta.c[k], (uint64_t)(id + k + 1));
			assert_int_equal(v->total.c[k] % (uint64_t)(id + k + 1), 0);
		}
		assert_true(v->info.qmp.up);
		assert_true(v->info.rss_kb.present);
	}
}

static void test_step_by_step(void **state)
{
	char err[256];
	struct snapshot s;
	float pts[8];
	int ret;
	struct collector *c = open_synthetic("synthetic:5", err, sizeof(err), &ret);

	(void)state;
	assert_int_equal(ret, 0);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(collector_next(c, 0, NULL, &s, err, sizeof(err)), 0);
		check_sample(&s, 5);
		snapshot_free(&s);
	}
	assert_int_equal(collector_generation(c), 3);
	/* the collector's history saw every sample: VM 2's tdp_faults, 2 + 0 + 1 per sample */
	assert_true(collector_history(c, 4200002, 3, HM_tdp_faults, HISTORY_RES_1S, pts, 8) >= 1);
	assert_string_equal(collector_backend(c), "synthetic");
	collector_stop(c);
}

static void test_thread(void **state)
{
	char err[256];
	struct snapshot s;
	uint64_t gen = 0;
	bool up = false;
	int ret;
	struct collector *c = open_synthetic("synthetic:3", err, sizeof(err), &ret);

	(void)state;
	assert_int_equal(ret, 0);
	assert_int_equal(collector_status(c, NULL, &up, &gen), -EAGAIN);
	assert_false(up);
	assert_int_equal(collector_run(c, err, sizeof(err)), 0);
	for (int i = 0; i < 100 && collector_generation(c) < 2; i++)
		collector_wait(c, collector_generation(c), 100);
	assert_int_equal(collector_status(c, &s, &up, &gen), 0);
	assert_true(up);
	assert_true(gen >= 2);
	check_sample(&s, 3);
	snapshot_free(&s);
	collector_stop(c);
}

static void test_bad_count(void **state)
{
	static const char *const bad[] = { "synthetic:", "synthetic:-1", "synthetic:1024", "synthetic:3x" };
	char err[256];
	int ret;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_null(open_synthetic(bad[i], err, sizeof(err), &ret));
		assert_int_equal(ret, -EINVAL);
		assert_non_null(strstr(err, "from 0 to 1023"));
	}
}

UNIT_TESTS(
	cmocka_unit_test(test_step_by_step),
	cmocka_unit_test(test_thread),
	cmocka_unit_test(test_bad_count))
