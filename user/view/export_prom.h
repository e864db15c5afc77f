/* SPDX-License-Identifier: MIT */
/* Snapshot -> Prometheus text exposition 0.0.4 or OpenMetrics 1.0.0. Pure functions into a
 * growable buffer, so the HTTP server, the textfile writer and the unit tests share them. */
#ifndef VMMEM_EXPORT_PROM_H
#define VMMEM_EXPORT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "snapshot.h"

enum export_format {
	EXPORT_FMT_TEXT,		/* text/plain; version=0.0.4 */
	EXPORT_FMT_OPENMETRICS,		/* application/openmetrics-text; version=1.0.0 */
};

/* A growable byte buffer. On allocation failure oom is set and later appends are dropped. */
struct strbuf {
	char *buf;
	size_t len, cap;
	bool oom;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_put(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the buffer to the caller (NUL-terminated, malloc'd; NULL after oom). */
char *strbuf_detach(struct strbuf *sb, size_t *len);

/* What the renderer needs besides the snapshot. */
struct export_meta {
	bool up;			/* the backend is counting and the snapshot is fresh */
	const char *version;		/* vmmemtop version for vmmem_build_info */
};

/* Append every family for s (NULL: no sample yet, only vmmem_up and the build info).
 * Exited VMs and unavailable counters are left out. Returns 0 or -ENOMEM. */
int export_prom_render(struct strbuf *out, const struct snapshot *s, const struct export_meta *m,
		       enum export_format fmt);

/* Append vmmem_scrape_duration_seconds and, for OpenMetrics, the closing "# EOF".
 * Returns 0 or -ENOMEM. */
int export_prom_finish(struct strbuf *out, double scrape_seconds, enum export_format fmt);

/* Append a label value escaped for both formats (\\, \", \n); invalid UTF-8 bytes become
 * U+FFFD, since Prometheus rejects a label value that is not UTF-8. */
void export_label_escape(struct strbuf *out, const char *s);

/* Choose the format for an HTTP Accept header (NULL or absent: text). OpenMetrics only when
 * the client ranks it above text/plain. */
enum export_format export_negotiate(const char *accept);
const char *export_content_type(enum export_format fmt);

/* Prometheus family name of a counter: "vmmem_" + name, unit suffix added when missing,
 * nanoseconds turned into seconds (*scale gets the factor). Without "_total".
 * Returns 0, or -ENAMETOOLONG. */
int export_counter_family(char *out, size_t outsz, const char *name, const char *unit, double *scale);

#endif
