/* SPDX-License-Identifier: MIT */
/* What every unit test file shares: cmocka (with the headers it needs first) and main(), which
 * runs the file's tests in the order UNIT_TESTS lists them:
 *	UNIT_TESTS(cmocka_unit_test(test_a), cmocka_unit_test_setup(test_b, setup_b))
 */
#ifndef VMMEM_UNIT_H
#define VMMEM_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define UNIT_TESTS(...)							\
	int main(void)							\
	{								\
		const struct CMUnitTest tests[] = { __VA_ARGS__ };	\
									\
		return cmocka_run_group_tests(tests, NULL, NULL);	\
	}

#endif
