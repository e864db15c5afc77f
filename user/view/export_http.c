// SPDX-License-Identifier: MIT
/* /metrics over HTTP(S) with libmicrohttpd: an epoll event loop on a small pool of worker
 * threads, so idle or slow clients cost a little memory each and no thread.
 *
 * The exposition of a sample is rendered once per format, by the first scrape that asks for
 * it (the others of that format wait for it rather than render the same bytes again), and
 * kept as one MHD response that every later scrape of the same sample queues (its gzip
 * variant too, compressed by the first scrape that accepts gzip): MHD counts its users and
 * frees the body after the last one has been sent.
 *
 * What bounds a hostile client (none of it touches a scrape being answered):
 * - per source address: at most max_per_ip connections (MHD refuses the rest at accept);
 * - in total: max_connections, each with a 16 KiB request buffer (larger headers get 431);
 * - per connection: no traffic for timeout_s closes it (MHD), and a sweep shuts down a
 *   connection whose request headers have not all arrived timeout_s after it was accepted
 *   or answered its last request (a client sending one byte a second), or that has spent
 *   HTTP_RESPONSE_DEADLINE_S on one response;
 * - in flight: above max_requests requests being answered, a request gets 503 at once, so
 *   the responses pinned by slow readers are bounded too.
 * A render stalls the other connections of its worker for its duration (~60 ms at 1000 VMs),
 * once per sample. */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <zlib.h>
#include "numparse.h"
#include "export.h"
#include "web_config.h"

#define HTTP_THREADS		2		/* epoll workers; renders are shared, not parallel */
#define HTTP_CONN_MEMORY	(16 * 1024)	/* request line and headers, per connection */
#define HTTP_RESPONSE_DEADLINE_S 60		/* longer than any Prometheus scrape_timeout */
#define HTTP_SWEEP_MS		250

/* One accepted connection, for the deadline sweep. */
struct conn {
	struct conn *prev, *next;
	int fd;
	double since;		/* accepted, or its last response finished, or its request began */
	bool busy;		/* a request is being answered */
	bool shut;		/* the sweep shut it down; MHD closes it */
};

/* The exposition of one sample in one format, as reusable MHD responses. */
struct rendered {
	pthread_mutex_t lock;		/* held while rendering: one render per sample */
	struct MHD_Response *resp[2];	/* identity, gzip; NULL until asked for */
	const char *body;		/* resp[0]'s body, freed with it */
	size_t len;
	uint64_t gen;
	bool up;
};

struct export_http {
	struct MHD_Daemon *daemon;
	struct export_feed feed;
	const char *version;
	struct export_http_opts opt;
	int fd;			/* the listen socket, bound before privileges are dropped */
	struct rendered cache[2];	/* by enum export_format */
	atomic_uint in_flight;		/* requests being answered */
	atomic_ulong refused;		/* 503s given */
	atomic_bool serving;		/* MHD's log is muted from then on */
	pthread_mutex_t conns_lock;
	struct conn conns;		/* list head */
	pthread_t sweeper;
	bool sweeping;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stop;
};

/* Request contexts (MHD's con_cls): whether the request counts against max_requests. */
static char req_counted, req_uncounted;

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
	if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	if (status == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(conn, "vmmemtop", r);
	else
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

int export_gzip(const void *in, size_t len, void **out, size_t *out_len)
{
	z_stream z = { 0 };
	size_t cap;
	void *buf;
	int ret;

	/* level 1: ~8x smaller for expositions, several times faster than the default level */
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len);
	buf = malloc(cap ? cap : 1);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = len;
	z.next_out = buf;
	z.avail_out = cap;
	ret = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

/* Does an Accept-Encoding value accept gzip? A "gzip" or "x-gzip" coding with a non-zero q.
 * "*" is not taken as gzip: identity is always acceptable too, so no client needs it. */
bool export_accepts_gzip(const char *ae)
{
	const char *b = ae;

	if (!ae)
		return false;
	while (*b) {
		const char *e = strchr(b, ','), *semi, *p;
		size_t n;

		if (!e)
			e = b + strlen(b);
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		semi = memchr(b, ';', e - b);
		n = (semi ? semi : e) - b;
		while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
			n--;
		if ((n == 4 && !strncasecmp(b, "gzip", 4)) || (n == 6 && !strncasecmp(b, "x-gzip", 6))) {
			bool zero = false;

			for (p = semi; p && p < e; p = memchr(p + 1, ';', e - p - 1)) {
				const char *q = p + 1;

				while (q < e && (*q == ' ' || *q == '\t'))
					q++;
				if (e - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
					q += 2;
					zero = q < e && *q == '0';
					for (q++; zero && q < e && *q != ';' && *q != ' '; q++)
						zero = *q == '0' || *q == '.';
				}
			}
			if (!zero)
				return true;
		}
		b = *e ? e + 1 : e;
	}
	return false;
}

static struct MHD_Response *body_response(void *body, size_t len, enum export_format fmt, bool gz)
{
	struct MHD_Response *r = MHD_create_response_from_buffer_with_free_callback_cls(len, body, free_body, body);

	if (!r) {
		free(body);
		return NULL;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, export_content_type(fmt));
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (gz)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	return r;
}

/* Queue the exposition of the feed's current sample in fmt (gzip-compressed if gz),
 * rendering or compressing it first if no scrape has yet. MHD_queue_response() takes its own
 * reference to the response, so a cached one may be replaced (and destroyed) as soon as the
 * lock is dropped. */
static enum MHD_Result respond_metrics(struct export_http *h, struct MHD_Connection *conn, enum export_format fmt,
				       bool gz)
{
	struct rendered *c = &h->cache[fmt];
	enum MHD_Result ret = MHD_NO;
	uint64_t gen = 0;
	bool up = false;

	h->feed.latest(h->feed.ctx, NULL, &up, &gen);
	pthread_mutex_lock(&c->lock);
	if (!c->resp[0] || c->gen != gen || c->up != up) {
		struct strbuf sb;
		char *body;
		size_t len;

		strbuf_init(&sb);
		export_scrape(&sb, &h->feed, fmt, h->version, &up, &gen);
		body = strbuf_detach(&sb, &len);
		for (int i = 0; i < 2; i++) {
			if (c->resp[i])	/* scrapes still sending it keep it alive */
				MHD_destroy_response(c->resp[i]);
			c->resp[i] = NULL;
		}
		c->resp[0] = body ? body_response(body, len, fmt, false) : NULL;
		c->body = c->resp[0] ? body : NULL;
		c->len = len;
		c->gen = gen;
		c->up = up;
	}
	if (gz && c->resp[0] && !c->resp[1]) {
		size_t len;
		void *z;

		/* the identity body is still owned by resp[0], which this lock keeps alive */
		if (export_gzip(c->body, c->len, &z, &len) == 0)
			c->resp[1] = body_response(z, len, fmt, true);
	}
	if (c->resp[gz && c->resp[1]])
		ret = MHD_queue_response(conn, MHD_HTTP_OK, c->resp[gz && c->resp[1]]);
	else
		ret = respond_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "text/plain", "out of memory\n");
	pthread_mutex_unlock(&c->lock);
	return ret;
}

static struct conn *conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void conn_mark(struct export_http *h, struct MHD_Connection *conn, bool busy)
{
	struct conn *c = conn_of(conn);

	if (!c)
		return;
	pthread_mutex_lock(&h->conns_lock);
	c->busy = busy;
	c->since = mono_s();
	pthread_mutex_unlock(&h->conns_lock);
}

/* A client certificate, where the web config asks for one: verified against client_ca_file. */
static bool client_cert_ok(struct export_http *h, struct MHD_Connection *conn)
{
	const struct web_config *w = h->opt.web;
	const union MHD_ConnectionInfo *ci;
	unsigned int status = 0;
	int ret;

	if (!w || !w->tls || w->client_auth == WEB_CLIENT_NONE)
		return true;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	ret = gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status);
	if (ret == GNUTLS_E_NO_CERTIFICATE_FOUND || (ret == 0 && !gnutls_certificate_get_peers(
			(gnutls_session_t)ci->tls_session, &(unsigned int){ 0 })))
		return w->client_auth == WEB_CLIENT_VERIFY_IF_GIVEN;
	return ret == 0 && status == 0;
}

static bool basic_auth_ok(struct export_http *h, struct MHD_Connection *conn)
{
	const struct web_config *w = h->opt.web;
	char *pass = NULL, *user;
	bool ok;

	if (!w || !w->nr_users)
		return true;
	user = MHD_basic_auth_get_username_password(conn, &pass);
	ok = user && pass && web_auth_check(w, user, pass);
	if (pass) {
		explicit_bzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **req)
{
	struct export_http *h = cls;

	(void)version;
	(void)upload_data;
	if (!*req) {
		/* first call: headers are in. Queue nothing yet but a refusal: MHD closes a
		 * connection whose response was queued before the whole request was read */
		conn_mark(h, conn, true);
		if (atomic_fetch_add(&h->in_flight, 1) >= h->opt.max_requests) {
			atomic_fetch_sub(&h->in_flight, 1);
			atomic_fetch_add(&h->refused, 1);
			*req = &req_uncounted;
			return respond_text(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
					    "too many requests in flight (--web.max-requests): retry\n");
		}
		*req = &req_counted;
		return MHD_YES;
	}
	if (*upload_size) {		/* a request with a body: ignore the body */
		*upload_size = 0;
		return MHD_YES;
	}
	if (!client_cert_ok(h, conn))
		return MHD_NO;		/* as a failed handshake would: close */
	if (!basic_auth_ok(h, conn))
		return respond_text(conn, MHD_HTTP_UNAUTHORIZED, "text/plain", "unauthorized\n");
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return respond_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
	if (!strcmp(url, "/"))
		return respond_text(conn, MHD_HTTP_OK, "text/html; charset=utf-8", index_html);
	if (strcmp(url, "/metrics"))
		return respond_text(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found: try /metrics\n");

	return respond_metrics(h, conn,
			       export_negotiate(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT)),
			       export_accepts_gzip(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
									       MHD_HTTP_HEADER_ACCEPT_ENCODING)));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req, enum MHD_RequestTerminationCode toe)
{
	struct export_http *h = cls;

	(void)toe;
	if (*req == &req_counted)
		atomic_fetch_sub(&h->in_flight, 1);
	*req = NULL;
	conn_mark(h, conn, false);	/* the next request's headers are due from now */
}

/* MHD calls CLOSED before it closes the socket (MHD_cleanup_connections), so under
 * conns_lock the sweep never shuts down a descriptor that was reused. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct export_http *h = cls;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		c = calloc(1, sizeof(*c));
		if (!c || !ci) {
			free(c);
			return;		/* untracked: MHD's idle timeout still applies */
		}
		c->fd = ci->connect_fd;
		c->since = mono_s();
		pthread_mutex_lock(&h->conns_lock);
		c->next = h->conns.next;
		c->prev = &h->conns;
		c->next->prev = c;
		h->conns.next = c;
		pthread_mutex_unlock(&h->conns_lock);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED && (c = *socket_context)) {
		pthread_mutex_lock(&h->conns_lock);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		pthread_mutex_unlock(&h->conns_lock);
		free(c);
		*socket_context = NULL;
	}
}

/* Shut down connections past their deadline; MHD then sees the error and closes them. */
static void *sweep_main(void *arg)
{
	struct export_http *h = arg;
	struct timespec ts;

	pthread_mutex_lock(&h->stop_lock);
	while (!h->stop) {
		double now = mono_s();

		pthread_mutex_lock(&h->conns_lock);
		for (struct conn *c = h->conns.next; c != &h->conns; c = c->next) {
			double limit = c->busy ? HTTP_RESPONSE_DEADLINE_S : h->opt.timeout_s;

			if (!c->shut && now - c->since > limit) {
				shutdown(c->fd, SHUT_RDWR);
				c->shut = true;
			}
		}
		pthread_mutex_unlock(&h->conns_lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += HTTP_SWEEP_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&h->stop_cond, &h->stop_lock, &ts);
	}
	pthread_mutex_unlock(&h->stop_lock);
	return NULL;
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
	/* a deep backlog (capped by net.core.somaxconn): when a flood re-opens its connections
	 * in a burst, a short one overflows and a scraper's SYN is dropped, costing it the 1 s
	 * SYN retransmission */
	if (bind(fd, (struct sockaddr *)&ss, sslen) || listen(fd, 4096))
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
		for (int k = 0; k < 2; k++)
			if (h->cache[i].resp[k])
				MHD_destroy_response(h->cache[i].resp[k]);
		pthread_mutex_destroy(&h->cache[i].lock);
	}
	pthread_mutex_destroy(&h->conns_lock);
	pthread_mutex_destroy(&h->stop_lock);
	pthread_cond_destroy(&h->stop_cond);
	free(h);
}

/* MHD's messages: at start-up they explain a refusal (a bad key, a port); once serving they
 * are about single clients (each closed or refused connection), which a flood would turn
 * into a flood of log lines, so they are dropped. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct export_http *h = cls;

	if (atomic_load(&h->serving))
		return;
	fputs("vmmemtop: libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

static struct MHD_Daemon *start_daemon(struct export_http *h)
{
	const struct web_config *w = h->opt.web;
	struct MHD_OptionItem tls[5];
	int n = 0;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	if (w && w->tls) {
		flags |= MHD_USE_TLS;
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, w->cert_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, w->key_pem };
		tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)w->priorities };
		if (w->client_auth != WEB_CLIENT_NONE)	/* makes MHD request a client certificate */
			tls[n++] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_TRUST, 0, w->client_ca_pem };
	}
	tls[n] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	return MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,	/* first, or MHD warns */
				MHD_OPTION_LISTEN_SOCKET, h->fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, h->opt.max_connections,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->opt.max_per_ip,
				MHD_OPTION_CONNECTION_TIMEOUT, h->opt.timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_ARRAY, tls,
				MHD_OPTION_END);
}

int export_http_start(struct export_http **out, const struct export_http_opts *opt, const struct export_feed *feed,
		      const char *version, char *err, size_t errsz)
{
	struct export_http *h = calloc(1, sizeof(*h));
	int ret;

	if (!h) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	h->feed = *feed;
	h->version = version;
	h->opt = *opt;
	h->conns.next = h->conns.prev = &h->conns;
	for (int i = 0; i < 2; i++)
		pthread_mutex_init(&h->cache[i].lock, NULL);
	pthread_mutex_init(&h->conns_lock, NULL);
	pthread_mutex_init(&h->stop_lock, NULL);
	pthread_cond_init(&h->stop_cond, NULL);
	h->fd = listen_socket(opt->listen, err, errsz);
	if (h->fd < 0) {
		ret = h->fd;
		export_http_free(h);
		return ret;
	}
	h->daemon = start_daemon(h);
	if (!h->daemon) {
		snprintf(err, errsz, "cannot start the HTTP server on %s (libmicrohttpd refused; see above)",
			 opt->listen);
		close(h->fd);
		export_http_free(h);
		return -EIO;
	}
	atomic_store(&h->serving, true);
	ret = pthread_create(&h->sweeper, NULL, sweep_main, h);
	if (ret) {
		snprintf(err, errsz, "cannot start the connection sweep: %s", strerror(ret));
		export_http_stop(h);
		return -ret;
	}
	h->sweeping = true;
	*out = h;
	return 0;
}

unsigned long export_http_refused(const struct export_http *h)
{
	return h ? atomic_load(&h->refused) : 0;
}

void export_http_stop(struct export_http *h)
{
	if (!h)
		return;
	if (h->sweeping) {
		pthread_mutex_lock(&h->stop_lock);
		h->stop = true;
		pthread_cond_signal(&h->stop_cond);
		pthread_mutex_unlock(&h->stop_lock);
		pthread_join(h->sweeper, NULL);
	}
	/* quiesce hands the listen socket back, so exactly one close happens, here */
	MHD_socket fd = MHD_quiesce_daemon(h->daemon);

	MHD_stop_daemon(h->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	export_http_free(h);
}
