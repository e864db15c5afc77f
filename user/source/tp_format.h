/* SPDX-License-Identifier: MIT */
/* Field offsets of classic tracepoints, from tracefs' events/<category>/<name>/format: what
 * the BPF backend's *_fmt_tp programs read where the event's struct has no BTF. */
#ifndef VMMEM_TP_FORMAT_H
#define VMMEM_TP_FORMAT_H

#include <stdint.h>

/* Find "field:<type> NAME;\toffset:N;\tsize:M;" in a format file's text. Returns 0 and sets
 * *off and *size (1, 2, 4 or 8), -ENOENT if NAME is not a field, -EINVAL if its line is
 * malformed or out of range. */
int tp_format_field(const char *text, const char *name, uint32_t *off, uint32_t *size);

/* The same, reading TRACEFS/events/CATEGORY/EVENT/format. Returns 0 or negative errno. */
int tp_format_read(const char *tracefs, const char *category, const char *event, const char *name,
		   uint32_t *off, uint32_t *size);

#endif
