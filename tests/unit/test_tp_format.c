// SPDX-License-Identifier: MIT
/* Unit tests: tracefs format parsing (user/source/tp_format.c) on real formats of 5.10 and 6.1 and on
 * malformed ones. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "tp_format.h"

/* 5.10's kvm:kvm_exit and 6.1's kvm:kvm_page_fault, as tracefs prints them */
static const char exit_510[] =
	"name: kvm_exit\nID: 1234\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
	"\tfield:unsigned int exit_reason;\toffset:8;\tsize:4;\tsigned:0;\n"
	"\tfield:unsigned long guest_rip;\toffset:16;\tsize:8;\tsigned:0;\n"
	"\tfield:u32 isa;\toffset:24;\tsize:4;\tsigned:0;\n"
	"\tfield:u64 info1;\toffset:32;\tsize:8;\tsigned:0;\n\n"
	"print fmt: \"reason %s\", REC->exit_reason\n";

static const char pf_61[] =
	"name: kvm_page_fault\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned long fault_address;\toffset:8;\tsize:8;\tsigned:0;\n"
	"\tfield:unsigned int error_code;\toffset:16;\tsize:4;\tsigned:0;\n";

static void test_real_formats(void **state)
{
	static const struct { const char *format, *field; uint32_t off, size; } want[] = {
		{ exit_510, "exit_reason", 8, 4 }, { exit_510, "isa", 24, 4 },
		{ pf_61, "fault_address", 8, 8 }, { pf_61, "error_code", 16, 4 },
	};
	uint32_t off = 99, size = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(tp_format_field(want[i].format, want[i].field, &off, &size), 0);
		assert_int_equal(off, want[i].off);
		assert_int_equal(size, want[i].size);
	}
	/* a suffix of another field's name is not that field */
	assert_int_equal(tp_format_field(exit_510, "reason", &off, &size), -ENOENT);
	assert_int_equal(tp_format_field(exit_510, "rip", &off, &size), -ENOENT);
	assert_int_equal(tp_format_field(exit_510, "vcpu_id", &off, &size), -ENOENT);
}

static void test_malformed(void **state)
{
	uint32_t off, size;

	(void)state;
	assert_int_equal(tp_format_field("", "isa", &off, &size), -ENOENT);
	assert_int_equal(tp_format_field(NULL, "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field(exit_510, "", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:;\tsize:4;\n", "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:8;\tsize:3;\n", "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:-8;\tsize:4;\n", "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:99999999999999999999;\tsize:4;\n", "isa",
					 &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:4094;\tsize:4;\n", "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:8 size:4;\n", "isa", &off, &size), -EINVAL);
	assert_int_equal(tp_format_field("\tfield:u32 isa\toffset:8;\tsize:4;\n", "isa", &off, &size), -ENOENT);
	/* no newline at the end, and a line too long to be a field line */
	assert_int_equal(tp_format_field("\tfield:u32 isa;\toffset:8;\tsize:4;", "isa", &off, &size), 0);
	{
		char big[2048];

		memset(big, 'x', sizeof(big));
		memcpy(big, "\tfield:u32 isa;", 15);
		big[sizeof(big) - 1] = 0;
		assert_int_equal(tp_format_field(big, "isa", &off, &size), -ENOENT);
	}
	assert_int_equal(tp_format_read("/nonexistent", "kvm", "kvm_exit", "isa", &off, &size), -ENOENT);
}

UNIT_TESTS(
	cmocka_unit_test(test_real_formats),
	cmocka_unit_test(test_malformed))
