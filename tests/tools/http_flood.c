// SPDX-License-Identifier: MIT
/* A bounded connection flood against the exporter, on loopback only, with a scraper
 * measuring /metrics meanwhile.
 *
 *   http_flood PORT SECONDS IDLE SLOW SCRAPES_PER_S
 *     IDLE connections that send nothing and SLOW ones that send a request's headers one
 *     byte a second, spread over source addresses 127.0.1.1..127.0.1.100 (so that a
 *     per-address limit does not refuse them all); any the server closes is re-opened at
 *     once, as an attacker would. Meanwhile one scraper from 127.0.0.1 GETs /metrics
 *     SCRAPES_PER_S times a second, each on a fresh connection (the worst case: it must be
 *     accepted while the flood holds its connections). Prints one line of figures.
 *
 *   http_flood PORT perip N
 *     opens N connections from 127.0.2.1 and holds them 2 s: prints how many the server
 *     kept open (the rest it closed at once).
 *
 * Bounded: at most 4000 sockets, at most 600 s, loopback addresses only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS	4000
#define MAX_SCRAPES	100000
#define SLOW_REQ	"GET /metrics HTTP/1.1\r\nHost: flood\r\nX-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"

struct sock {
	int fd;
	bool slow;
	int sent;		/* bytes of SLOW_REQ sent */
	double opened, next_byte;
};

static int port;
static double deadline;
static struct sock socks[MAX_SOCKS];
static long reopened[2], cut_lives;
static double cut_life_sum;
static double lat[MAX_SCRAPES];
static long nr_lat, nr_bad, bad_status[6];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_from(const char *src, bool nonblock)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in s = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0), 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	inet_pton(AF_INET, src, &s.sin_addr);
	if (bind(fd, (struct sockaddr *)&s, sizeof(s)) ||
	    (connect(fd, (struct sockaddr *)&a, sizeof(a)) && errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void sock_open(int ep, int i)
{
	char src[32];
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.u32 = (uint32_t)i };

	snprintf(src, sizeof(src), "127.0.1.%d", 1 + i % 100);
	socks[i].fd = open_from(src, true);
	socks[i].sent = 0;
	socks[i].opened = now();
	socks[i].next_byte = socks[i].opened;
	if (socks[i].fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, socks[i].fd, &ev);
}

static void *scraper(void *arg)
{
	double period = 1.0 / *(double *)arg, next = now();
	static char buf[1 << 16];

	while (now() < deadline) {
		const char *req = "GET /metrics HTTP/1.1\r\nHost: scraper\r\nConnection: close\r\n\r\n";
		double t0 = now();
		int fd = open_from("127.0.0.1", false);
		struct timeval tv = { .tv_sec = 5 };
		size_t head = 0;
		ssize_t n = -1;

		if (fd >= 0) {
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			if (write(fd, req, strlen(req)) == (ssize_t)strlen(req)) {
				/* keep the first bytes (the status line), read the rest over each other */
				while ((n = read(fd, buf + (head < 16 ? head : 16), sizeof(buf) - 16)) > 0)
					if (head < 16)
						head += (size_t)n;
			}
			close(fd);
		}
		if (n == 0 && head >= 12 && !strncmp(buf, "HTTP/1.1 200", 12)) {
			if (nr_lat < MAX_SCRAPES)
				lat[nr_lat++] = now() - t0;
		} else {
			nr_bad++;
			if (head >= 12 && buf[9] >= '1' && buf[9] <= '5')
				bad_status[buf[9] - '0']++;
			else
				bad_status[0]++;
		}
		next += period;
		while (now() < next && now() < deadline)
			usleep(1000);
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int per_ip(int n)
{
	int fds[MAX_SOCKS], open_n = 0;
	char c;

	for (int i = 0; i < n; i++)
		fds[i] = open_from("127.0.2.1", false);
	sleep(2);
	for (int i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
		if (recv(fds[i], &c, 1, MSG_PEEK) < 0 && errno == EAGAIN)
			open_n++;	/* nothing to read and no EOF: the server holds it */
		close(fds[i]);
	}
	printf("perip: %d connections from 127.0.2.1, %d held open by the server, %d closed\n", n, open_n, n - open_n);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { MAX_SOCKS + 64, MAX_SOCKS + 64 };
	int idle, slow, ep, n, open_end = 0;
	double secs, rate;
	pthread_t th;

	if (argc == 4 && !strcmp(argv[2], "perip")) {
		port = atoi(argv[1]);
		setrlimit(RLIMIT_NOFILE, &rl);
		n = atoi(argv[3]);
		return n > 0 && n <= MAX_SOCKS ? per_ip(n) : 2;
	}
	if (argc != 6) {
		fprintf(stderr, "usage: http_flood PORT SECONDS IDLE SLOW SCRAPES_PER_S | http_flood PORT perip N\n");
		return 2;
	}
	port = atoi(argv[1]);
	secs = atof(argv[2]);
	idle = atoi(argv[3]);
	slow = atoi(argv[4]);
	rate = atof(argv[5]);
	if (port <= 0 || secs <= 0 || secs > 600 || idle < 0 || slow < 0 || idle + slow > MAX_SOCKS || rate <= 0 ||
	    rate > 1000) {
		fprintf(stderr, "http_flood: bad arguments\n");
		return 2;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl))
		perror("http_flood: setrlimit");
	ep = epoll_create1(EPOLL_CLOEXEC);
	for (int i = 0; i < idle + slow; i++) {
		socks[i].slow = i >= idle;
		sock_open(ep, i);
	}
	deadline = now() + secs;
	pthread_create(&th, NULL, scraper, &rate);
	while (now() < deadline) {
		struct epoll_event evs[256];
		double t = now();

		n = epoll_wait(ep, evs, 256, 100);
		for (int k = 0; k < n; k++) {
			struct sock *s = &socks[evs[k].data.u32];
			char buf[4096];
			ssize_t r;

			if (s->fd < 0)
				continue;
			r = read(s->fd, buf, sizeof(buf));
			if ((r > 0 && !(evs[k].events & (EPOLLRDHUP | EPOLLHUP))) || (r < 0 && errno == EAGAIN))
				continue;	/* a response (a slow one cut short may get one): wait for EOF */
			close(s->fd);
			if (s->slow) {
				cut_lives++;
				cut_life_sum += t - s->opened;
			}
			reopened[s->slow]++;
			sock_open(ep, (int)(s - socks));
		}
		for (int i = idle; i < idle + slow; i++) {
			struct sock *s = &socks[i];

			if (s->fd < 0) {
				sock_open(ep, i);
				continue;
			}
			if (t >= s->next_byte && s->sent < (int)sizeof(SLOW_REQ) - 1) {
				if (write(s->fd, SLOW_REQ + s->sent, 1) == 1)
					s->sent++;
				s->next_byte += 1.0;
			}
		}
	}
	pthread_join(th, NULL);
	for (int i = 0; i < idle + slow; i++) {
		char c;

		if (socks[i].fd >= 0 && recv(socks[i].fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && errno == EAGAIN)
			open_end++;
	}
	qsort(lat, nr_lat, sizeof(lat[0]), cmp);
	printf("flood: %d idle + %d slow connections for %.0f s: %ld idle and %ld slow closed by the server and "
	       "re-opened, slow ones cut after %.1f s on average; %d open at the end; scraper: %ld x 200, %ld failed "
	       "(000:%ld 4xx:%ld 5xx:%ld), p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
	       idle, slow, secs, reopened[0], reopened[1], cut_lives ? cut_life_sum / cut_lives : 0.0, open_end,
	       nr_lat, nr_bad, bad_status[0], bad_status[4], bad_status[5],
	       nr_lat ? lat[nr_lat / 2] * 1e3 : -1, nr_lat ? lat[(nr_lat * 99) / 100] * 1e3 : -1,
	       nr_lat ? lat[nr_lat - 1] * 1e3 : -1);
	return 0;
}
