// SPDX-License-Identifier: MIT
/* Unit tests: the KSM forecast's arithmetic (groups, per-VM attribution, max_page_sharing,
 * use_zero_pages), the smaps area parser and the result-file parser on malformed input, and
 * the page hash (seeded, sensitive to every word). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "ksm_forecast.h"
#include "ksm_forecast_file.h"
#include "ksm_scan.h"
#include "page_hash.h"

/* VM 0: A A B C (zero 3); VM 1: A C D (zero 0); VM 2: C (zero 2) */
static void test_groups(void **state)
{
	uint64_t keys[] = { KF_KEY(0xA000, 0), KF_KEY(0xA000, 0), KF_KEY(0xB000, 0), KF_KEY(0xC000, 0),
			    KF_KEY(0xA000, 1), KF_KEY(0xC000, 1), KF_KEY(0xD000, 1), KF_KEY(0xC000, 2) };
	uint64_t zero[] = { 3, 0, 2 }, pages[] = { 7, 3, 3 };
	struct kf_result v[3], h;

	(void)state;
	assert_int_equal(ksm_forecast_count(keys, 8, zero, NULL, pages, 3, 256, v, &h), 0);
	/* VM 0 keeps A, C and a zero page: saves its second A and two zero pages */
	assert_int_equal(v[0].dup_within, 1 + 2);
	assert_int_equal(v[0].dup_across, 0);
	assert_int_equal(v[0].saved, 3);
	/* VM 1: A and C exist in VM 0 already */
	assert_int_equal(v[1].dup_within, 0);
	assert_int_equal(v[1].dup_across, 2);
	assert_int_equal(v[1].saved, 2);
	/* VM 2: C across, its first zero page across, second within */
	assert_int_equal(v[2].dup_across, 2);
	assert_int_equal(v[2].dup_within, 1);
	assert_int_equal(h.saved, 3 + 2 + 3);
	/* groups: A x3 -> 2, C x3 -> 2, zero x5 -> 4 */
	assert_int_equal(h.saved, 2 + 2 + 4);
	assert_int_equal(h.zero, 5);
	assert_int_equal(h.scanned, 13);
	/* use_zero_pages=1: all 5 zero pages are saved, not 4 */
	assert_int_equal(h.saved_uzp, h.saved + 1);
	assert_int_equal(v[0].saved_uzp, 1 + 3);
	assert_int_equal(v[2].saved_uzp, 1 + 2);
}

/* one group of 600 identical pages: KSM pages take 256 sharers, so 3 KSM pages stay */
static void test_max_page_sharing(void **state)
{
	static uint64_t keys[600];
	uint64_t zero[2] = { 0, 300 }, pages[2] = { 600, 300 };
	struct kf_result v[2], h;

	(void)state;
	for (int i = 0; i < 600; i++)
		keys[i] = KF_KEY(0x1234000, 0);
	assert_int_equal(ksm_forecast_count(keys, 600, zero, NULL, pages, 2, 256, v, &h), 0);
	assert_int_equal(h.cap_loss, 2 + 1);
	assert_int_equal(h.saved, (600 - 3) + (300 - 2));
	assert_int_equal(h.saved_uzp, (600 - 3) + 300);
	assert_int_equal(v[0].saved, 597);
	assert_int_equal(v[1].saved, 298);
	/* max_page_sharing 0 means the default, 1 is impossible */
	assert_int_equal(ksm_forecast_count(keys, 600, zero, NULL, pages, 2, 0, v, &h), 0);
	assert_int_equal(ksm_forecast_count(keys, 600, zero, NULL, pages, 2, 1, v, &h), -EINVAL);
}

/* THP zero subpages: freed by the split, not merged (not in saved), all in saved_uzp */
static void test_thp_zero(void **state)
{
	uint64_t zero[2] = { 10, 10 }, thp[2] = { 512, 0 }, pages[2] = { 600, 10 };
	struct kf_result v[2], h;

	(void)state;
	assert_int_equal(ksm_forecast_count(NULL, 0, zero, thp, pages, 2, 256, v, &h), 0);
	assert_int_equal(h.saved, 19);
	assert_int_equal(h.thp_zero, 512);
	assert_int_equal(h.zero, 532);
	assert_int_equal(h.freed, 19 + 512);
	assert_int_equal(h.saved_uzp, 532);
	assert_int_equal(v[0].saved_uzp, 522);
}

static void test_bad_vm_index(void **state)
{
	uint64_t keys[] = { KF_KEY(0x1000, 5), KF_KEY(0x1000, 5) }, zero[1] = { 0 }, pages[1] = { 2 };
	struct kf_result v[1], h;

	(void)state;
	assert_int_equal(ksm_forecast_count(keys, 2, zero, NULL, pages, 1, 256, v, &h), -EINVAL);
	assert_int_equal(ksm_forecast_count(NULL, 0, zero, NULL, pages, 1, 256, v, &h), 0);
	assert_int_equal(h.saved, 0);
}

static int parse(const char *text, struct ksm_area *a, int max)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int n = smaps_areas_parse(f, a, max);

	fclose(f);
	return n;
}

static void test_smaps(void **state)
{
	struct ksm_area a[4];

	(void)state;
	assert_int_equal(parse(
		"7f0000000000-7f0040000000 rw-p 00000000 00:00 0 \n"
		"Rss:             1024 kB\nAnonymous:       1000 kB\nAnonHugePages:  0 kB\n"
		"VmFlags: rd wr mr mw me ac sd mg \n"
		"7f0040000000-7f0040001000 rw-s 00000000 00:05 12  /memfd:ram (deleted)\n"
		"Anonymous:          0 kB\nVmFlags: rd wr sh mr mw me ms sd mg\n"
		"7f0050000000-7f0050200000 rw-p 00000000 00:00 0 \n"
		"Anonymous:       2048 kB\nVmFlags: rd wr mr mw me ac ht\n"
		"7f0060000000-7f0060001000 rw-p 00000000 00:00 0 \n"
		"Anonymous:          4 kB\nVmFlags: rd wr mr mw me ac mgx\n", a, 4), 4);
	assert_true(a[0].mergeable && a[0].eligible);
	assert_int_equal(a[0].anon_kb, 1000);
	assert_int_equal(a[0].start, 0x7f0000000000ULL);
	assert_false(a[1].mergeable || a[1].eligible);	/* shared: KSM never merges it */
	assert_false(a[2].eligible);			/* hugetlb */
	assert_true(a[3].eligible && !a[3].mergeable);	/* "mgx" is not "mg" */
	/* more areas than room: counted, not stored */
	assert_int_equal(parse("1000-2000 rw-p 0 00:00 0\nVmFlags: mg\n3000-4000 rw-p 0 00:00 0\nVmFlags: mg\n", a, 1), 2);
	/* malformed */
	assert_int_equal(parse("1000-2000 rw-p 0 00:00 0\nRss: 4 kB\n", a, 4), -EINVAL);	/* no VmFlags */
	assert_int_equal(parse("VmFlags: mg\n", a, 4), -EINVAL);
	assert_int_equal(parse("2000-1000 rw-p 0 00:00 0\nVmFlags: mg\n", a, 4), -EINVAL);
	assert_int_equal(parse("garbage\n", a, 4), -EINVAL);
	assert_int_equal(parse("", a, 4), 0);
}

static void test_file_parse(void **state)
{
	struct host_ksm_forecast f;
	char err[256];
	const char *good = "{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":1700000000,\"rate_mib_per_s\":100,"
		"\"host\":{\"scanned_bytes\":4096000,\"saved_bytes\":2048000,\"saved_bytes_use_zero_pages\":2052096,"
		"\"vms\":2,\"seconds\":1.5,\"cpu_seconds\":0.1}}";

	(void)state;
	assert_int_equal(ksm_forecast_parse(good, strlen(good), &f, err, sizeof(err)), 0);
	assert_true(f.present);
	assert_int_equal(f.saved_bytes, 2048000);
	assert_int_equal(f.vms, 2);
	assert_int_equal(f.time, 1700000000);
	const char *bad[] = {
		"", "[]", "{\"schema\":\"vmmemtop.snapshot/1\"}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":1,\"rate_mib_per_s\":1,\"host\":{}}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":1,\"rate_mib_per_s\":1,\"host\":{\"scanned_bytes\":1,"
		"\"saved_bytes\":2,\"saved_bytes_use_zero_pages\":0,\"vms\":1,\"seconds\":1,\"cpu_seconds\":1}}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":1,\"rate_mib_per_s\":1,\"host\":{\"scanned_bytes\":-1,"
		"\"saved_bytes\":0,\"saved_bytes_use_zero_pages\":0,\"vms\":1,\"seconds\":1,\"cpu_seconds\":1}}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":\"x\",\"rate_mib_per_s\":1,\"host\":{}}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\",\"time\":1,\"rate_mib_per_s\":1,\"host\":{\"scanned_bytes\":\"1\"}}",
		"{\"schema\":\"vmmemtop.ksm-forecast/1\"", };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(ksm_forecast_parse(bad[i], strlen(bad[i]), &f, err, sizeof(err)), -EINVAL);
		assert_false(f.present);
		assert_true(err[0] != 0);
	}
}

static void test_hash(void **state)
{
	static unsigned char a[4096], b[4096];

	(void)state;
	assert_true(page_is_zero(a, sizeof(a)));
	a[4095] = 1;
	assert_false(page_is_zero(a, sizeof(a)));
	memcpy(b, a, sizeof(a));
	assert_true(page_hash(a, 4096, 1) == page_hash(b, 4096, 1));
	assert_true(page_hash(a, 4096, 1) != page_hash(a, 4096, 2));	/* seeded */
	/* one flipped bit anywhere changes the hash, in every 8-byte word */
	for (int i = 0; i < 4096; i += 8) {
		b[i] ^= 0x80;
		assert_true(page_hash(a, 4096, 7) != page_hash(b, 4096, 7));
		b[i] ^= 0x80;
	}
	/* two pages that differ only by swapping two words differ */
	memset(b, 0, sizeof(b));
	b[0] = 1;
	memset(a, 0, sizeof(a));
	a[8] = 1;
	assert_true(page_hash(a, 4096, 7) != page_hash(b, 4096, 7));
}

UNIT_TESTS(
	cmocka_unit_test(test_groups),
	cmocka_unit_test(test_max_page_sharing),
	cmocka_unit_test(test_thp_zero),
	cmocka_unit_test(test_bad_vm_index),
	cmocka_unit_test(test_smaps),
	cmocka_unit_test(test_file_parse),
	cmocka_unit_test(test_hash))
