/* /metrics over HTTP with libmicrohttpd, one thread per connection. The exposition of a
 * sample is rendered once per format, by the first scrape that asks for it (the others of
 * that format wait for it rather than render the same bytes again), and kept as one MHD
 * response that every later scrape of the same sample queues: MHD counts its users and
 * frees the body after the last one has been sent. The sampling thread is held only while
 * the snapshot is copied, once per sample.
 *
 * Why not a thread pool: MHD runs the request callback on the thread that polls the
 * connection, so in a pool a render stalls every other connection of that thread, and
 * Prometheus' keep-alive connections stay on one thread for good (measured with two
 * clients at 1000 VMs: p99 28-48 ms with a pool of 2, 20-23 ms per connection, before
 * caching). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "cli.h"
#include "export.h"

#define HTTP_MAX_CONNECTIONS	64	/* also the thread limit */
#define HTTP_TIMEOUT_S		15
#define HTTP_STACK_SIZE		(256 * 1024)	/* a request needs a few KiB of stack */

/* The exposition of one sample in one format, as a reusable MHD response. */
struct rendered {
	pthread_mutex_t lock;		/* held while rendering: one render per sample */
	struct MHD_Response *resp;	/* NULL until the first scrape */
	uint64_t gen;
	bool up;
};

struct export_http {
	struct MHD_Daemon *daemon;
	struct export_feed feed;
	const char *version;
	int fd;			/* the listen socket, bound before privileges are dropped */
	struct rendered cache[2];	/* by enum export_format */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int export_scrape(struct strbuf *out, const struct export_feed *feed, enum export_format fmt,
		  const char *version, bool *up_out, uint64_t *gen_out)
{
	double t0 = mono_s();
	struct snapshot s;
	uint64_t gen = 0;
	bool up = false;
	bool have = feed->latest(feed->ctx, &s, &up, &gen) == 0;
	struct export_meta m = { .up = up, .version = version };
	int ret;

	if (up_out)
		*up_out = up;
	if (gen_out)
		*gen_out = gen;
	ret = export_prom_render(out, have ? &s : NULL, &m, fmt);
	if (have)
		snapshot_free(&s);
	return ret ? ret : export_prom_finish(out, mono_s() - t0, fmt);
}

int export_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *sslen, char *err, size_t errsz)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	const char *colon = strrchr(s, ':');
	char host[256], port[8];
	size_t hl;
	long p;
	int ret;

	if (!colon || cli_parse_long(colon + 1, 1, 65535, &p)) {
		snprintf(err, errsz, "bad listen address '%s': need ADDR:PORT, [V6ADDR]:PORT or :PORT", s);
		return -EINVAL;
	}
	hl = colon - s;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
		hints.ai_family = AF_INET6;
	} else if (memchr(s, ':', hl)) {
		snprintf(err, errsz, "bad listen address '%s': write IPv6 addresses as [ADDR]:PORT", s);
		return -EINVAL;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, errsz, "bad listen address: host name too long");
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = 0;
	snprintf(port, sizeof(port), "%ld", p);
	ret = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (ret || !res || res->ai_addrlen > sizeof(*ss)) {
		snprintf(err, errsz, "bad listen address '%s': %s", host, ret ? gai_strerror(ret) : "no address");
		if (res)
			freeaddrinfo(res);
		return -EINVAL;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int status, const char *type,
			       char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned int status, const char *type,
				    const char *text)
{
	char *body = strdup(text);

	return body ? respond(conn, status, type, body, strlen(body)) : MHD_NO;
}

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>vmmemtop exporter</title></head><body>\n"
	"<h1>vmmemtop exporter</h1>\n"
	"<p>What the host's memory machinery (TDP faults, TLB shootdowns, KSM, THP, balloon) does to each KVM guest.</p>\n"
	"<p><a href=\"/metrics\">/metrics</a>: Prometheus text 0.0.4, or OpenMetrics 1.0.0 when asked for in Accept.</p>\n"
	"</body></html>\n";

static void free_body(void *body)
{
	free(body);
}

/* Queue the exposition of the feed's current sample in fmt, rendering it first if no
 * scrape has yet. MHD_queue_response() takes its own reference to the response, so the
 * cached one may be replaced (and destroyed) as soon as the lock is dropped. */
static enum MHD_Result respond_metrics(struct export_http *h, struct MHD_Connection *conn, enum export_format fmt)
{
	struct rendered *c = &h->cache[fmt];
	enum MHD_Result ret = MHD_NO;
	uint64_t gen = 0;
	bool up = false;

	h->feed.latest(h->feed.ctx, NULL, &up, &gen);
	pthread_mutex_lock(&c->lock);
	if (!c->resp || c->gen != gen || c->up != up) {
		struct MHD_Response *r;
		struct strbuf sb;
		char *body;
		size_t len;

		strbuf_init(&sb);
		export_scrape(&sb, &h->feed, fmt, h->version, &up, &gen);
		body = strbuf_detach(&sb, &len);
		r = body ? MHD_create_response_from_buffer_with_free_callback_cls(len, body, free_body, body) : NULL;
		if (!r) {
			free(body);
			pthread_mutex_unlock(&c->lock);
			return respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
		}
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, export_content_type(fmt));
		if (c->resp)
			MHD_destroy_response(c->resp);	/* scrapes still sending it keep it alive */
		c->resp = r;
		c->gen = gen;
		c->up = up;
	}
	ret = MHD_queue_response(conn, MHD_HTTP_OK, c->resp);
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **req)
{
	struct export_http *h = cls;

	(void)version;
	(void)upload_data;
	(void)req;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
	if (*upload_size)		/* a GET with a body: ignore the body */
		*upload_size = 0;
	if (!strcmp(url, "/"))
		return respond_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8", index_html);
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics\n");

	return respond_metrics(h, conn,
			       export_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)));
}

static int listen_socket(const char *listen_addr, char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1, ret;

	ret = export_listen_parse(listen_addr, &ss, &sslen, err, errsz);
	if (ret)
		return ret;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) || listen(fd, 128))
		goto fail;
	return fd;
fail:
	ret = -errno;
	snprintf(err, errsz, "cannot listen on %s: %s%s", listen_addr, strerror(-ret),
		 ret == -EADDRINUSE ? " (another exporter running? pick another port)" :
		 ret == -EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)" : "");
	if (fd >= 0)
		close(fd);
	return ret;
}

static void export_http_free(struct export_http *h)
{
	for (int i = 0; i < 2; i++) {
		if (h->cache[i].resp)
			MHD_destroy_response(h->cache[i].resp);
		pthread_mutex_destroy(&h->cache[i].lock);
	}
	free(h);
}

int export_http_start(struct export_http **out, const char *listen_addr, const struct export_feed *feed,
		      const char *version, char *err, size_t errsz)
{
	struct export_http *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	h->feed = *feed;
	h->version = version;
	for (int i = 0; i < 2; i++)
		pthread_mutex_init(&h->cache[i].lock, NULL);
	h->fd = listen_socket(listen_addr, err, errsz);
	if (h->fd < 0) {
		int ret = h->fd;

		export_http_free(h);
		return ret;
	}
	h->daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
				     MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				     on_request, h,
				     MHD_OPTION_LISTEN_SOCKET, h->fd,
				     MHD_OPTION_THREAD_STACK_SIZE, (size_t)HTTP_STACK_SIZE,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_MAX_CONNECTIONS,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!h->daemon) {
		snprintf(err, errsz, "cannot start the HTTP server on %s (libmicrohttpd refused; see above)",
			 listen_addr);
		close(h->fd);
		export_http_free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

void export_http_stop(struct export_http *h)
{
	if (!h)
		return;
	/* quiesce hands the listen socket back, so exactly one close happens, here */
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);

	MHD_stop_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	export_http_free(h);
}
