// SPDX-License-Identifier: MIT
/* Strict number parsing for the command line and the config files: every number goes through
 * strto* with an end pointer and errno, so "10x", "" and out-of-range values are errors. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include "numparse.h"

int cli_parse_double(const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || isnan(v))
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int cli_parse_pid(const char *s, pid_t *out)
{
	long v;
	int ret = cli_parse_long(s, 1, INT_MAX, &v);

	if (!ret)
		*out = v;
	return ret;
}
