// SPDX-License-Identifier: MIT
/* Bounded HTTP load for the exporter: THREADS clients scrape http://ADDR:PORT/metrics in a
 * loop for SECONDS, each response checked (status 200, complete body, vmmem_up 1).
 * Prints one line: scrapes, errors, scrapes/s, latency p50/p99/max, bytes per scrape, and
 * the server's own render time (vmmem_scrape_duration_seconds of each body) p50/p99: the
 * difference between the two is time a scrape waited or spent on the wire.
 * usage: scrape_load ADDR PORT SECONDS THREADS [openmetrics] */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 200000
#define DURATION "\nvmmem_scrape_duration_seconds "

static struct sockaddr_in addr;
static double deadline;
static int openmetrics;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double lat[MAX_SAMPLES], render[MAX_SAMPLES], first_byte[MAX_SAMPLES];
static long nr_lat, nr_render, nr_ttfb, nr_err;
static unsigned long long bytes;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One scrape; returns the body size (and the render time the body reports in *render_s,
 * the time from connect to the first response byte in *ttfb_s), or -1 with a reason on
 * stderr (first few only). */
static long scrape(char **buf, size_t *cap, double t0, double *render_s, double *ttfb_s)
{
	const char *req = openmetrics ?
		"GET /metrics HTTP/1.1\r\nHost: load\r\nConnection: close\r\n"
		"Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n\r\n" :
		"GET /metrics HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n";
	size_t len = 0;
	const char *why = NULL, *body = NULL, *dur;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		why = strerror(errno);
		goto out;
	}
	for (;;) {
		if (len + 65536 + 1 > *cap) {
			*cap = (len + 65536 + 1) * 2;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				abort();
		}
		n = read(fd, *buf + len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			why = strerror(errno);
			goto out;
		}
		if (n == 0)
			break;
		if (len == 0)
			*ttfb_s = now() - t0;
		len += (size_t)n;
	}
	(*buf)[len] = 0;
	body = strstr(*buf, "\r\n\r\n");
	if (strncmp(*buf, "HTTP/1.1 200", 12))
		why = "status is not 200";
	else if (!body)
		why = "no header end";
	else if (!strstr(body, "\nvmmem_up 1\n"))
		why = "no vmmem_up 1";
	else if (!(dur = strstr(body, DURATION)))
		why = "truncated body";
	else if (openmetrics && (len < 6 || strcmp(*buf + len - 6, "# EOF\n")))
		why = "OpenMetrics body does not end in # EOF";
	else
		*render_s = strtod(dur + sizeof(DURATION) - 1, NULL);
out:
	if (fd >= 0)
		close(fd);
	if (why) {
		static int shown;

		if (__atomic_fetch_add(&shown, 1, __ATOMIC_RELAXED) < 5)
			fprintf(stderr, "scrape_load: error: %s\n", why);
		return -1;
	}
	return (long)(len - (size_t)(body + 4 - *buf));
}

static void *client(void *arg)
{
	char *buf = NULL;
	size_t cap = 0;

	(void)arg;
	while (now() < deadline) {
		double t0 = now(), r = -1, ttfb = -1;
		long n = scrape(&buf, &cap, t0, &r, &ttfb);
		double dt = now() - t0;

		pthread_mutex_lock(&lock);
		if (n < 0) {
			nr_err++;
		} else {
			if (nr_lat < MAX_SAMPLES)
				lat[nr_lat++] = dt;
			if (r >= 0 && nr_render < MAX_SAMPLES)
				render[nr_render++] = r;
			if (ttfb >= 0 && nr_ttfb < MAX_SAMPLES)
				first_byte[nr_ttfb++] = ttfb;
			bytes += (unsigned long long)n;
		}
		pthread_mutex_unlock(&lock);
	}
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	pthread_t th[64];
	int threads;
	double secs, t0, el;

	if (argc < 5) {
		fprintf(stderr, "usage: scrape_load ADDR PORT SECONDS THREADS [openmetrics]\n");
		return 2;
	}
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)atoi(argv[2]));
	secs = atof(argv[3]);
	threads = atoi(argv[4]);
	openmetrics = argc > 5 && !strcmp(argv[5], "openmetrics");
	if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || threads < 1 || threads > 64 || secs <= 0 || secs > 600) {
		fprintf(stderr, "scrape_load: bad arguments\n");
		return 2;
	}
	t0 = now();
	deadline = t0 + secs;
	for (int i = 0; i < threads; i++)
		pthread_create(&th[i], NULL, client, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	el = now() - t0;
	qsort(lat, nr_lat, sizeof(lat[0]), cmp);
	qsort(render, nr_render, sizeof(render[0]), cmp);
	qsort(first_byte, nr_ttfb, sizeof(first_byte[0]), cmp);
	printf("scrapes=%ld errors=%ld scrapes_per_s=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f bytes_per_scrape=%llu"
	       " render_p50_ms=%.2f render_p99_ms=%.2f first_byte_p50_ms=%.2f first_byte_p99_ms=%.2f\n",
	       nr_lat, nr_err, nr_lat / el, nr_lat ? lat[nr_lat / 2] * 1e3 : 0,
	       nr_lat ? lat[(nr_lat * 99) / 100] * 1e3 : 0, nr_lat ? lat[nr_lat - 1] * 1e3 : 0,
	       nr_lat ? bytes / nr_lat : 0, nr_render ? render[nr_render / 2] * 1e3 : 0,
	       nr_render ? render[(nr_render * 99) / 100] * 1e3 : 0,
	       nr_ttfb ? first_byte[nr_ttfb / 2] * 1e3 : 0, nr_ttfb ? first_byte[(nr_ttfb * 99) / 100] * 1e3 : 0);
	return nr_err ? 1 : 0;
}
