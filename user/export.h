/* The export view's outputs: the /metrics HTTP server and the node_exporter textfile writer.
 * Both read snapshots only through a feed, so neither ever waits for a sample to be taken. */
#ifndef VMMEM_EXPORT_H
#define VMMEM_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "export_prom.h"
#include "snapshot.h"

/* Where scrapes get their data: a deep copy of the last complete snapshot. */
struct export_feed {
	/* 0 and *out filled (caller frees with snapshot_free), or -EAGAIN before the first
	 * sample. *up is false when the last sampling attempt failed or is overdue; *gen counts
	 * the samples published so far. out may be NULL: then only *up and *gen are set (cheap).
	 * Must not block on sampling. */
	int (*latest)(void *ctx, struct snapshot *out, bool *up, uint64_t *gen);
	void *ctx;
};

/* Render one complete exposition (families, scrape duration, OpenMetrics EOF) from the
 * feed's latest snapshot; *up and *gen (may be NULL) say what it was rendered from.
 * Returns 0 or -ENOMEM. */
int export_scrape(struct strbuf *out, const struct export_feed *feed, enum export_format fmt,
		  const char *version, bool *up, uint64_t *gen);

/* Parse "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" (all addresses). ADDR may be a name from
 * /etc/hosts. Returns 0, or -EINVAL with one line in err. */
int export_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errsz);

struct export_http;

/* Bind listen (done here, so it can happen before privileges are dropped) and serve
 * /metrics and /, one thread per connection. An exposition is rendered once per sample and
 * format and shared by every scrape of that sample. Returns 0, or negative errno with one
 * line in err. */
int export_http_start(struct export_http **out, const char *listen, const struct export_feed *feed,
		      const char *version, char *err, size_t errsz);
void export_http_stop(struct export_http *h);

/* Write the text exposition to path atomically: path.PID.tmp, fsync, rename (node_exporter's
 * textfile collector reads only *.prom, so it never sees a half-written file).
 * Returns 0, or negative errno with one line in err. */
int export_textfile_write(const char *path, const struct export_feed *feed, const char *version,
			  char *err, size_t errsz);

#endif
