// SPDX-License-Identifier: MIT
/* Unit tests: the DAMON sysfs probe on fake trees (user/damon_sysfs.c) - absent, someone
 * else's kdamond (with and without vaddr), free, malformed - and that a session refuses to
 * start on a busy tree without writing; the working-set figure and its window
 * (user/working_set.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "damon_sysfs.h"
#include "working_set.h"
#include "ws_monitor.h"

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256], cmd[320];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", p);
	assert_int_equal(system(cmd), 0);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *get(const char *rel)
{
	static char buf[64];
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = 0;
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/vmmem-damon-unit.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void test_probe(void **state)
{
	struct damon_probe p;
	struct damon_session *s = (void *)1;
	struct damon_attrs a;
	char why[320];
	pid_t pid = 1;

	(void)state;
	/* absent */
	assert_int_equal(damon_probe(root, &p), -ENOENT);
	assert_int_equal(p.verdict, DAMON_ABSENT);
	assert_non_null(strstr(p.why, "CONFIG_DAMON_SYSFS"));
	/* free */
	put("kdamonds/nr_kdamonds", "0\n");
	assert_int_equal(damon_probe(root, &p), 0);
	assert_int_equal(p.verdict, DAMON_FREE);
	/* malformed */
	put("kdamonds/nr_kdamonds", "x\n");
	assert_int_equal(damon_probe(root, &p), -EINVAL);
	assert_int_equal(p.verdict, DAMON_ERROR);
	/* someone else's, paddr only (this CI host's 6.18) */
	put("kdamonds/nr_kdamonds", "1\n");
	put("kdamonds/0/state", "on\n");
	put("kdamonds/0/contexts/0/avail_operations", "paddr\n");
	assert_int_equal(damon_probe(root, &p), 0);
	assert_int_equal(p.verdict, DAMON_NO_VADDR);
	assert_int_equal(p.nr_kdamonds, 1);
	assert_non_null(strstr(p.why, "did not set up"));
	assert_non_null(strstr(p.why, "no vaddr"));
	/* someone else's, with vaddr: busy */
	put("kdamonds/0/contexts/0/avail_operations", "vaddr fvaddr paddr\n");
	assert_int_equal(damon_probe(root, &p), 0);
	assert_int_equal(p.verdict, DAMON_BUSY);
	/* a session refuses, and writes nothing */
	ws_attrs(30, &a);
	assert_int_equal(damon_session_start(root, &pid, 1, &a, &s, why, sizeof(why)), -EBUSY);
	assert_null(s);
	assert_string_equal(get("kdamonds/nr_kdamonds"), "1\n");
	assert_string_equal(get("kdamonds/0/state"), "on\n");
	assert_non_null(strstr(why, "in use"));
}

static void test_figure(void **state)
{
	struct damon_attrs a;
	struct ws_vm v;

	(void)state;
	ws_attrs(30, &a);
	assert_true(a.aggr_us / a.sample_us < 10);	/* DAMON's merge threshold stays 0 */
	assert_int_equal(a.warm_max_age, 29);
	ws_attrs(2, &a);
	assert_int_equal(a.warm_max_age, 1);
	ws_vm_fill(&v, 0, (uint64_t[]){ 100, 20, 5 }, 10, 30);
	assert_false(v.available);			/* warming up: no figure */
	assert_non_null(strstr(v.why, "warming up"));
	ws_vm_fill(&v, 0, (uint64_t[]){ 100, 20, 0 }, 31, 30);
	assert_false(v.available);			/* no region aged past the window yet */
	ws_vm_fill(&v, 0, (uint64_t[]){ 100, 20, 0 }, 91, 30);
	assert_true(v.available);			/* 3 windows: everything is warm */
	ws_vm_fill(&v, 0, (uint64_t[]){ 100, 20, 5 }, 31, 30);
	assert_false(v.available);			/* cold bytes, but regions still settling */
	ws_vm_fill(&v, 0, (uint64_t[]){ 100, 20, 5 }, 61, 30);
	assert_true(v.available);
	assert_int_equal(v.working_set_bytes, 120);
	assert_int_equal(v.cold_bytes, 5);
	ws_vm_fill(&v, -ESRCH, (uint64_t[]){ 0, 0, 0 }, 100, 30);
	assert_false(v.available);
	assert_non_null(strstr(v.why, "exited"));
}

/* The sampler's monitor (user/core/ws_monitor.c): off, it says how to turn it on; on a tree
 * holding someone else's kdamond it opens without writing, and every VM reads null with the
 * reason; with no VMM at the start, it says so. */
static void test_monitor(void **state)
{
	struct ws_monitor *m;
	struct vmm_info i = { .pid = 42, .start_time = 7 };
	pid_t pid = 42;
	uint64_t start = 7;

	(void)state;
	ws_monitor_lookup(NULL, &i);
	assert_false(i.working_set_bytes.present);
	assert_string_equal(i.working_set_why, WS_REASON_OFF);

	put("kdamonds/nr_kdamonds", "1\n");
	put("kdamonds/0/state", "on\n");
	put("kdamonds/0/contexts/0/avail_operations", "vaddr fvaddr paddr\n");
	assert_int_equal(ws_monitor_open(&m, root, 30, &pid, &start, 1), 0);
	assert_string_equal(get("kdamonds/nr_kdamonds"), "1\n");	/* never written */
	assert_string_equal(get("kdamonds/0/state"), "on\n");
	i.working_set_bytes = (struct opt_u64){ 1, true };
	ws_monitor_lookup(m, &i);
	assert_false(i.working_set_bytes.present);
	assert_non_null(strstr(i.working_set_why, "DAMON is in use"));
	assert_non_null(strstr(ws_monitor_why(m), "DAMON is in use"));
	ws_monitor_free(m);
	assert_string_equal(get("kdamonds/nr_kdamonds"), "1\n");

	assert_int_equal(ws_monitor_open(&m, root, 30, NULL, NULL, 0), 0);
	ws_monitor_lookup(m, &i);
	assert_non_null(strstr(i.working_set_why, "no VMM ran"));
	ws_monitor_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test(test_figure),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
