// SPDX-License-Identifier: MIT
/* The text table (`snapshot`, the view's `-b`): its cells come from the fact and counter tables,
 * with the view's titles; what is unavailable prints "-", never 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "snapshot_table.h"

/* A test's snapshot (two VMs, made by fill()) and the table printed from it, kept in its
 * cmocka state: freed after the test, also when an assertion fails (cmocka leaves a failing
 * test by longjmp, past any free at its end). */
struct fixture {
	struct snapshot s;
	struct vm_snapshot vms[2];
	char *table;
};

/* The table of f->s, as one string (freed by teardown). */
static const char *table_of(struct fixture *f)
{
	size_t len = 0;
	FILE *out;

	free(f->table);
	f->table = NULL;
	out = open_memstream(&f->table, &len);
	assert_non_null(out);
	snapshot_print_table(&f->s, out);
	fclose(out);
	return f->table;
}

static void fill(struct snapshot *s, struct vm_snapshot *vms)
{
	memset(s, 0, sizeof(*s));
	memset(vms, 0, 2 * sizeof(*vms));
	s->interval_s = 2;
	s->backend = "bpf";
	snprintf(s->host.cpu_vendor, sizeof(s->host.cpu_vendor), "amd");
	s->host.mem.mem_total_kb = (struct opt_u64){ 8 << 20, true };
	s->host.mem.mem_available_kb = (struct opt_u64){ 6 << 20, true };
	s->host.mem.swap_total_kb = (struct opt_u64){ 1 << 20, true };
	s->host.mem.swap_free_kb = (struct opt_u64){ 768 << 10, true };
	s->host.ksm.run = (struct opt_u64){ 1, true };
	s->host.ksm.pages_sharing = (struct opt_u64){ 1234, true };
	snprintf(s->host.thp.enabled, sizeof(s->host.thp.enabled), "madvise");
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s->available.vm[k] = true;
	s->available.vm[VMMEM_C_tlb_shootdown_ipis] = false;	/* a hook this kernel lacks */
	s->nr_vms = 2;
	s->vms = vms;

	vms[0].info.pid = 4242;
	snprintf(vms[0].info.name, sizeof(vms[0].info.name), "guest-with-a-long-name");
	vms[0].info.vcpus = (struct opt_u64){ 4, true };
	vms[0].info.rss_kb = (struct opt_u64){ 2 << 20, true };
	vms[0].info.ksm.ksm_merging_pages = (struct opt_u64){ 77, true };
	vms[0].delta.c[VMMEM_C_tdp_faults] = 2000;
	vms[0].delta.c[VMMEM_C_exits] = 30;
	vms[0].delta.c[VMMEM_C_balloon_inflate_bytes] = 4 << 20;	/* 2 MiB/s */
	vms[0].total.c[VMMEM_C_tdp_map_4k] = 1;
	vms[0].total.c[VMMEM_C_tdp_map_2m] = 3;

	vms[1].info.pid = 7;
	snprintf(vms[1].info.name, sizeof(vms[1].info.name), "b");
	vms[0].info.working_set_bytes = (struct opt_u64){ 640ull << 20, true };
	vms[1].exited = true;
	vms[1].unavailable = 1ull << VMMEM_C_balloon_inflate_bytes;	/* guest RAM not known yet */
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	fill(&f->s, f->vms);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->table);
	free(f);
	return 0;
}

static void test_rows(void **state)
{
	assert_string_equal(table_of(*state),
		"host: mem 8.0G avail 6.0G swap 256M/1.0G  ksm run=on sharing=1234  thp madvise/-  backend bpf  interval 2.0s\n"
		"NAME                 PID VCPU     RSS    NPTV/s   EXITS/s  2M%  TLBIPI/s  KSMPAGES   INFL/s   DEFL/s    WSET\n"
		"guest-with-a-lon    4242    4    2.0G      1000        15  75%         -        77     2.0M       0K    640M\n"
		"b                      7    -       -         0         0    -         -         -        -       0K       - (exited)\n");
}

static void test_empty_and_dropped(void **state)
{
	struct fixture *f = *state;
	const char *t;

	f->s.nr_vms = 0;
	f->s.dropped_events = 5;
	f->s.host.ksm.run.present = false;
	f->s.host.mem.swap_free_kb.present = false;
	snprintf(f->s.host.cpu_vendor, sizeof(f->s.host.cpu_vendor), "intel");
	t = table_of(f);
	assert_non_null(strstr(t, " swap -/1.0G  ksm run=- "));
	assert_non_null(strstr(t, "\nNAME                 PID VCPU     RSS    EPTV/s "));
	assert_non_null(strstr(t, "\n(no VMM processes)\ndropped events: 5\n"));
}

/* fmt_fact formats any fact by its table entry: the view's detail uses it too. */
static void test_fmt_fact(void **state)
{
	struct vmm_info i;
	char buf[32];

	(void)state;
	memset(&i, 0, sizeof(i));
	assert_string_equal(fmt_fact(&vm_facts[VF_rss_kb], &i, buf, sizeof(buf)), "-");
	i.rss_kb = (struct opt_u64){ 0, true };
	assert_string_equal(fmt_fact(&vm_facts[VF_rss_kb], &i, buf, sizeof(buf)), "0K");
	i.ksm.ksm_process_profit = (struct opt_u64){ (uint64_t)-4096, true };
	assert_string_equal(fmt_fact(&vm_facts[VF_ksm_process_profit], &i, buf, sizeof(buf)), "-4K");
	i.cgroup.swap_current = (struct opt_u64){ 3 << 20, true };
	assert_string_equal(fmt_fact(&vm_facts[VF_cgroup_swap_current], &i, buf, sizeof(buf)), "3.0M");
	assert_string_equal(fmt_fact(&vm_facts[VF_cgroup_path], &i, buf, sizeof(buf)), "-");
	i.majflt = (struct opt_u64){ 12, true };
	assert_string_equal(fmt_fact(&vm_facts[VF_majflt], &i, buf, sizeof(buf)), "12");
}

UNIT_TESTS(
	cmocka_unit_test_setup_teardown(test_rows, setup, teardown),
	cmocka_unit_test_setup_teardown(test_empty_and_dropped, setup, teardown),
	cmocka_unit_test(test_fmt_fact))
