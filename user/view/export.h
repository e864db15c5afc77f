/* SPDX-License-Identifier: MIT */
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
struct web_config;

struct export_http_opts {
	const char *listen;		/* ADDR:PORT, as export_listen_parse() takes it */
	unsigned int max_connections;	/* open at once, in total */
	unsigned int max_per_ip;	/* open at once from one source address */
	unsigned int max_requests;	/* being answered at once; above it, 503 */
	unsigned int timeout_s;		/* idle connections, and the wait for a request's headers */
	const struct web_config *web;	/* TLS and basic auth; NULL: plain HTTP, no auth */
};

/* Bind o->listen (done here, so it can happen before privileges are dropped) and serve
 * /metrics and / from an epoll event loop, with the limits of o. An exposition is rendered
 * once per sample and format (and compressed once, for clients accepting gzip) and shared
 * by every scrape of that sample. Returns 0, or negative errno with one line in err. */
int export_http_start(struct export_http **out, const struct export_http_opts *o, const struct export_feed *feed,
		      const char *version, char *err, size_t errsz);
void export_http_stop(struct export_http *h);
/* Requests answered 503 so far. */
unsigned long export_http_refused(const struct export_http *h);

/* gzip (RFC 1952) of in: 0 and a malloc'd *out, or negative errno. */
int export_gzip(const void *in, size_t len, void **out, size_t *out_len);
/* Whether an Accept-Encoding header value accepts gzip (NULL: no). */
bool export_accepts_gzip(const char *accept_encoding);

/* Write the text exposition to path atomically: path.PID.tmp, fsync, rename (node_exporter's
 * textfile collector reads only *.prom, so it never sees a half-written file).
 * Returns 0, or negative errno with one line in err. */
int export_textfile_write(const char *path, const struct export_feed *feed, const char *version,
			  char *err, size_t errsz);

#endif
