// SPDX-License-Identifier: MIT
/* Parses tracefs format files (kernel/trace/trace_events.c, f_show: one
 * "\tfield:TYPE NAME;\toffset:N;\tsize:M;\tsigned:S;" line per field). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tp_format.h"

/* a trace record is at most a page: anything beyond is not a real offset */
#define TP_RECORD_MAX	4096

static int parse_u32_after(const char *line, const char *key, uint32_t *out)
{
	const char *p = strstr(line, key);
	char *end;
	unsigned long v;

	if (!p)
		return -EINVAL;
	p += strlen(key);
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (errno || *end != ';' || v > TP_RECORD_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

int tp_format_field(const char *text, const char *name, uint32_t *off, uint32_t *size)
{
	size_t n = strlen(name);
	const char *line = text;

	if (!text || !n)
		return -EINVAL;
	while (line && *line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		const char *f = strstr(line, "field:");
		const char *semi;
		char buf[512];

		if (f && f < line + len && len < sizeof(buf)) {
			memcpy(buf, line, len);
			buf[len] = 0;
			semi = strchr(buf, ';');
			/* the name ends the declaration: "field:unsigned int exit_reason;" */
			if (semi && (size_t)(semi - buf) > n && !memcmp(semi - n, name, n) &&
			    (semi[-(long)n - 1] == ' ' || semi[-(long)n - 1] == '*')) {
				uint32_t o, s;

				if (parse_u32_after(buf, "offset:", &o) || parse_u32_after(buf, "size:", &s))
					return -EINVAL;
				if ((s != 1 && s != 2 && s != 4 && s != 8) || o + s > TP_RECORD_MAX)
					return -EINVAL;
				*off = o;
				*size = s;
				return 0;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	return -ENOENT;
}

int tp_format_read(const char *tracefs, const char *category, const char *event, const char *name,
		   uint32_t *off, uint32_t *size)
{
	char path[512], text[8192];
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/%s/%s/format", tracefs, category, event);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = 0;
	return tp_format_field(text, name, off, size);
}
