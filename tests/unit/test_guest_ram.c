// SPDX-License-Identifier: MIT
/* Guest RAM tables for the balloon split (user/facts/guest_ram.c): /proc/PID/maps lines, QEMU's
 * `info ramblock` text, RAM blocks matched to MADV_DONTFORK mappings, and the table built from
 * memslots (aliases merged, backing classified, file ranges), with malformed input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "guest_ram.h"

static void test_maps_line(void **state)
{
	struct gr_vma v;

	(void)state;
	assert_int_equal(gr_parse_maps_line("7f0000000000-7f0004000000 rw-p 00000000 00:00 0 \n", &v), 0);
	assert_true(v.start == 0x7f0000000000ull && v.end == 0x7f0004000000ull);
	assert_false(v.shared);
	assert_int_equal(v.ino, 0);
	assert_int_equal(gr_parse_maps_line("7f0000000000-7f0000200000 rw-s 00001000 00:01 4242 /memfd:m (deleted)\n",
					    &v), 0);
	assert_true(v.shared);
	assert_int_equal(v.ino, 4242);
	assert_int_equal(v.dev, 1);		/* MKDEV(0, 1) */
	assert_int_equal(v.off, 0x1000);
	assert_int_equal(gr_parse_maps_line("559a-559b r-xp 00000000 fe:01 123 /usr/bin/qemu\n", &v), 0);
	assert_int_equal(v.dev, 0xfe << 20 | 1);
	/* malformed: no dash, end before start, bad perms, smaps field lines */
	assert_int_equal(gr_parse_maps_line("7f0000000000 rw-p 0 00:00 0\n", &v), -EINVAL);
	assert_int_equal(gr_parse_maps_line("2000-1000 rw-p 0 00:00 0\n", &v), -EINVAL);
	assert_int_equal(gr_parse_maps_line("1000-2000 rw 0 00:00 0\n", &v), -EINVAL);
	assert_int_equal(gr_parse_maps_line("Rss:                 4 kB\n", &v), -EINVAL);
	assert_int_equal(gr_parse_maps_line("", &v), -EINVAL);
}

static void test_ramblock_text(void **state)
{
	uint64_t sz[4];

	(void)state;
	/* QEMU 7.2, softmmu/physmem.c ram_block_format */
	assert_int_equal(gr_parse_ramblock_text(
		"              Block Name    PSize              Offset               Used              Total\r\n"
		"                  pc.ram    4 KiB  0x0000000000000000 0x0000000004000000 0x0000000004000000\r\n"
		"    /rom@etc/acpi/tables    4 KiB  0x0000000004080000 0x0000000000020000 0x0000000000200000\r\n",
		sz, 4), 2);
	assert_true(sz[0] == 0x4000000 && sz[1] == 0x200000);
	assert_int_equal(gr_parse_ramblock_text("Block Name PSize Offset Used Total\n", sz, 4), 0);
	assert_int_equal(gr_parse_ramblock_text("", sz, 4), -EPROTO);
	assert_int_equal(gr_parse_ramblock_text("unknown command: 'info ramblock'\r\n", sz, 4), -EPROTO);
	assert_int_equal(gr_parse_ramblock_text("Block Name PSize Offset Used Total\n pc.ram 4 KiB 0x0 0x10 zz\n",
						sz, 4), -EPROTO);
	assert_int_equal(gr_parse_ramblock_text("Block Name PSize Offset Used Total\n a 4 KiB 0x0 0x10 0x0\n",
						sz, 4), -EPROTO);	/* a zero size */
	assert_int_equal(gr_parse_ramblock_text("Block Name PSize Offset Used Total\n a 4 KiB 0x0 0x1 0x1\n"
						" b 4 KiB 0x0 0x1 0x1\n", sz, 1), -E2BIG);
}

static void test_match(void **state)
{
	/* pc.ram (2 vmas with different flags), a guard page, a ROM, an unrelated dc run */
	struct gr_vma v[] = {
		{ .start = 0x10000, .end = 0x18000, .dontcopy = true },
		{ .start = 0x18000, .end = 0x20000, .dontcopy = true },
		{ .start = 0x20000, .end = 0x21000 },
		{ .start = 0x30000, .end = 0x32000, .dontcopy = true },
		{ .start = 0x40000, .end = 0x41000 },
	};
	struct gr_span out[4];
	uint64_t sizes[] = { 0x10000, 0x2000 };
	uint64_t missing[] = { 0x10000, 0x3000 };
	struct gr_vma twins[] = {
		{ .start = 0x10000, .end = 0x12000, .dontcopy = true },
		{ .start = 0x20000, .end = 0x22000, .dontcopy = true },
	};
	uint64_t one[] = { 0x2000 };

	(void)state;
	assert_int_equal(gr_match_ramblocks(sizes, 2, v, 5, out, 4), 2);
	assert_true(out[0].start == 0x10000 && out[0].len == 0x10000);
	assert_true(out[1].start == 0x30000 && out[1].len == 0x2000);
	assert_int_equal(gr_match_ramblocks(missing, 2, v, 5, out, 4), -ENOENT);
	/* two runs of a size for one block: which is RAM would be a guess */
	assert_int_equal(gr_match_ramblocks(one, 1, twins, 2, out, 4), -ENOENT);
	assert_int_equal(gr_match_ramblocks(sizes, 0, v, 5, out, 4), -ENOENT);
}

static void test_build(void **state)
{
	/* private anon RAM at 0x100000 (two vmas), a memfd at 0x400000 mapped from offset 0x1000 */
	struct gr_vma v[] = {
		{ .start = 0x100000, .end = 0x180000 },
		{ .start = 0x180000, .end = 0x200000 },
		{ .start = 0x400000, .end = 0x500000, .off = 0x1000, .ino = 77, .dev = 1, .shared = true },
	};
	/* slot 0 covers the anon RAM, an SMM alias covers part of it again, slot 1 the memfd,
	 * a slot whose memory is not mapped adds nothing */
	struct gr_span s[] = {
		{ 0x400000, 0x100000 }, { 0x100000, 0x100000 }, { 0x140000, 0x20000 }, { 0x900000, 0x1000 },
	};
	struct vmmem_guest_ram g = { .gen = 5 };
	struct gr_span many[VMMEM_GUEST_RANGES + 1];
	struct gr_vma mv[VMMEM_GUEST_RANGES + 1];

	(void)state;
	assert_int_equal(gr_build(s, 4, v, 3, &g), 0);
	assert_int_equal(g.state, VMMEM_GR_KNOWN);
	assert_int_equal(g.gen, 5);			/* left to the caller */
	assert_int_equal(g.nr, 2);
	assert_true(g.r[0].start == 0x100000 && g.r[0].len == 0x100000 && !(g.r[0].flags & VMMEM_GR_SHARED));
	assert_true(g.r[1].start == 0x400000 && g.r[1].len == 0x100000 && (g.r[1].flags & VMMEM_GR_SHARED));
	assert_int_equal(g.nr_files, 1);
	assert_true(g.f[0].ino == 77 && g.f[0].dev == 1 && g.f[0].off == 0x1000 && g.f[0].len == 0x100000);
	/* more disjoint ranges than the kernel table holds: unusable, state unknown */
	for (int i = 0; i <= VMMEM_GUEST_RANGES; i++) {
		mv[i] = (struct gr_vma){ .start = 0x100000 * (i + 1), .end = 0x100000 * (i + 1) + 0x1000,
					 .shared = i & 1 };
		many[i] = (struct gr_span){ mv[i].start, 0x1000 };
	}
	assert_int_equal(gr_build(many, VMMEM_GUEST_RANGES + 1, mv, VMMEM_GUEST_RANGES + 1, &g), -E2BIG);
	assert_int_equal(g.state, VMMEM_GR_UNKNOWN);
	assert_int_equal(g.nr, 0);
	/* nothing mapped: known and empty (every discard is the VMM's own) */
	assert_int_equal(gr_build(s + 3, 1, v, 3, &g), 0);
	assert_int_equal(g.nr, 0);
}

UNIT_TESTS(
	cmocka_unit_test(test_maps_line),
	cmocka_unit_test(test_ramblock_text),
	cmocka_unit_test(test_match),
	cmocka_unit_test(test_build))
