// SPDX-License-Identifier: MIT
/* Unit tests: word wrapping for the advice pane (user/view/text_wrap.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "text_wrap.h"

/* the wrapped lines joined with '|' */
static const char *wrap(const char *s, int width)
{
	static char out[4096];
	int start[64], len[64], n = text_wrap(s, width, start, len, 64), o = 0;

	out[0] = 0;
	for (int i = 0; i < n && i < 64; i++) {
		assert_true(len[i] <= (width < 1 ? 1 : width));
		o += snprintf(out + o, sizeof(out) - o, "%s%.*s", i ? "|" : "", len[i], s + start[i]);
	}
	return out;
}

static void test_wrap(void **state)
{
	int start[2], len[2];
	char longtext[600];

	(void)state;
	assert_string_equal(wrap("host free 5.0% of RAM; idle is idle", 12), "host free|5.0% of RAM;|idle is idle");
	assert_string_equal(wrap("short", 80), "short");
	assert_string_equal(wrap("", 10), "");
	assert_string_equal(wrap("exactly ten", 11), "exactly ten");
	assert_string_equal(wrap("exactly ten", 10), "exactly|ten");
	assert_string_equal(wrap("averyveryverylongword and more", 8), "averyver|yverylon|gword|and more");
	assert_string_equal(wrap("a  b   c", 3), "a|b|c");		/* spaces at a break are dropped */
	assert_string_equal(wrap("a  b   c", 5), "a  b|c");
	assert_string_equal(wrap("one\ntwo three", 20), "one|two three");
	assert_string_equal(wrap("x", 0), "x");
	assert_string_equal(wrap("trailing   ", 4), "trai|ling");
	/* more lines than the caller's arrays: the count says so, nothing is written past max */
	memset(longtext, 'w', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = 0;
	assert_int_equal(text_wrap(longtext, 10, start, len, 2), 60);
	assert_int_equal(start[1], 10);
	/* every character of a text comes back once, in order (but the spaces at breaks) */
	{
		const char *t = "1 VM(s); host free 62.5% of RAM (pressure below 20%); no VM above 5000 TDP faults/s";
		char joined[256] = "";

		for (int w = 1; w <= 90; w++) {
			int st[128], ln[128], n = text_wrap(t, w, st, ln, 128), o = 0;

			for (int i = 0; i < n; i++)
				o += snprintf(joined + o, sizeof(joined) - o, "%.*s", ln[i], t + st[i]);
			for (const char *p = t, *q = joined; *p; p++) {
				if (*p == ' ' && *q != ' ')
					continue;
				if (*p != *q)
					fail_msg("width %d: '%s' lost text of '%s'", w, joined, t);
				q++;
			}
		}
	}
}

UNIT_TESTS(
	cmocka_unit_test(test_wrap))
