// SPDX-License-Identifier: MIT
/* libFuzzer target: the HTTP request headers the exporter interprets itself (MHD parses the
 * request line and header framing): Accept, for the exposition format, and Accept-Encoding,
 * for gzip. The input is the two values separated by a NUL byte. The choice must be one of
 * the two formats, and gzip must be refused for values that never say gzip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "export.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2), *ae;
	enum export_format f;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = 0;
	ae = buf + strlen(buf) + 1;
	if (ae > buf + size)
		ae = buf + size;	/* no NUL: an empty Accept-Encoding */
	f = export_negotiate(buf);
	if (f != EXPORT_FMT_TEXT && f != EXPORT_FMT_OPENMETRICS)
		__builtin_trap();
	if (export_accepts_gzip(ae) && !strcasestr(ae, "gzip"))
		__builtin_trap();
	free(buf);
	return 0;
}
