// SPDX-License-Identifier: MIT
/* Unit tests: history rings (wrap-around, roll-up, grace period) and rates across resets. */
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
#include "core.h"
#include "history.h"

static struct vm_snapshot vm;

static void one(struct snapshot *s, uint64_t faults_delta, bool exited)
{
	memset(s, 0, sizeof(*s));
	memset(&vm, 0, sizeof(vm));
	s->interval_s = 1;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s->available.vm[k] = true;
	vm.info.pid = 42;
	vm.seq = 7;
	vm.exited = exited;
	vm.delta.c[VMMEM_C_tdp_faults] = faults_delta;
	s->vms = &vm;
	s->nr_vms = 1;
}

static void test_wrap_and_rollup(void **state)
{
	struct history *h = history_new();
	static float out[2000];
	struct snapshot s;
	int n;

	(void)state;
	/* 1000 s: the 1 s ring (300) wraps; values are the second number */
	for (int t = 1; t <= 1000; t++) {
		one(&s, t, false);
		history_push(h, &s, t);
	}
	n = history_get(h, 42, 7, HM_tdp_faults, HISTORY_RES_1S, out, 2000);
	assert_int_equal(n, 300);
	assert_true(out[0] == 701 && out[299] == 1000);	/* oldest first, newest last */
	/* 10 s points are averages of ten 1 s points: the last is mean(991..1000) */
	n = history_get(h, 42, 7, HM_tdp_faults, HISTORY_RES_10S, out, 2000);
	assert_int_equal(n, 100);
	assert_true(fabsf(out[99] - 995.5f) < 1e-3);
	assert_true(fabsf(out[0] - 5.5f) < 1e-3);
	/* 60 s points: 16 complete minutes, the last mean(901..960) */
	n = history_get(h, 42, 7, HM_tdp_faults, HISTORY_RES_60S, out, 2000);
	assert_int_equal(n, 16);
	assert_true(fabsf(out[15] - 930.5f) < 1e-3);
	/* unknown VM or bad arguments give nothing */
	assert_int_equal(history_get(h, 42, 8, HM_tdp_faults, HISTORY_RES_1S, out, 10), 0);
	assert_int_equal(history_get(h, 42, 7, 99, HISTORY_RES_1S, out, 10), 0);
	history_free(h);
}

static void test_interval_spreads_and_grace(void **state)
{
	struct history *h = history_new();
	float out[16];
	struct snapshot s;

	(void)state;
	one(&s, 50, false);
	s.interval_s = 5;		/* 50 over 5 s: five points of 10/s */
	history_push(h, &s, 5);
	assert_int_equal(history_get(h, 42, 7, HM_tdp_faults, HISTORY_RES_1S, out, 16), 5);
	assert_true(out[4] == 10);
	one(&s, 0, true);
	history_push(h, &s, 6);
	assert_int_equal(history_nr_vms(h), 1);		/* exited: kept ... */
	s.nr_vms = 0;
	history_push(h, &s, 6 + HISTORY_GRACE_S + 1);
	assert_int_equal(history_nr_vms(h), 0);		/* ... until the grace period ends */
	history_free(h);
}

static void test_rates_across_reset(void **state)
{
	struct vmmem_vm_counters prev = { 0 }, cur = { 0 }, d;

	(void)state;
	prev.c[VMMEM_C_exits] = 1000;
	cur.c[VMMEM_C_exits] = 1500;
	core_counters_delta(&cur, &prev, &d);
	assert_int_equal(d.c[VMMEM_C_exits], 500);
	cur.c[VMMEM_C_exits] = 30;	/* reset (kmod reset ioctl): counts from zero, never negative */
	core_counters_delta(&cur, &prev, &d);
	assert_int_equal(d.c[VMMEM_C_exits], 30);
}

UNIT_TESTS(
	cmocka_unit_test(test_wrap_and_rollup),
	cmocka_unit_test(test_interval_spreads_and_grace),
	cmocka_unit_test(test_rates_across_reset))
