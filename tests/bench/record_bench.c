// SPDX-License-Identifier: MIT
/* Recording writer and reader throughput on a synthetic event storm (no kernel): a TDP fault
 * storm of 4 vCPUs (sequential guest pages, a few exits between), written by the real writer
 * at zlib levels 1 and 6, against a baseline measured in the same run: the same records
 * written raw (56 bytes each, like a perf.data sample stream). Prints events/s written,
 * bytes/event, and events/s read back.
 * usage: record_bench [EVENTS] [DIR] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "record_reader.h"
#include "record_writer.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void storm(struct vmmem_event *ev, long n)
{
	uint64_t ts = 1000000000ull, gpa[4] = { 0x100000, 0x40100000, 0x80100000, 0xc0100000 };
	unsigned int seed = 42;

	for (long i = 0; i < n; i++) {
		int v = rand_r(&seed) % 4;

		ts += 200 + rand_r(&seed) % 1600;	/* ~1 M events/s, 4 vCPUs interleaved */
		memset(&ev[i], 0, sizeof(ev[i]));
		ev[i].ts_ns = ts;
		ev[i].tgid = 4242;
		ev[i].tid = 4250 + v;
		ev[i].cpu = v;
		if (rand_r(&seed) % 8 == 0) {
			ev[i].type = VMMEM_EV_exit;
			ev[i].a = 0x400;		/* SVM NPF */
			ev[i].b = 2;
		} else {
			ev[i].type = VMMEM_EV_tdp_fault;
			gpa[v] += 4096 * (1 + (rand_r(&seed) % 16 == 0) * (rand_r(&seed) % 512));
			ev[i].a = gpa[v];
			ev[i].b = 0x100000006ull;
		}
	}
}

static int write_rec(const char *path, const struct vmmem_event *ev, long n, int level, double *secs, off_t *bytes)
{
	const struct rec_kv meta[] = { { "host", "bench" } };
	struct rec_writer *w;
	double t0 = now();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || rec_writer_open(&w, fd, meta, 1, level))
		return -1;
	for (long i = 0; i < n; i++)
		if (rec_writer_event(w, &ev[i]))
			return -1;
	if (rec_writer_finish(w, ev[n - 1].ts_ns) || fsync(fd))
		return -1;
	rec_writer_free(w);
	*secs = now() - t0;
	*bytes = lseek(fd, 0, SEEK_END);
	close(fd);
	return 0;
}

static int write_raw(const char *path, const struct vmmem_event *ev, long n, double *secs, off_t *bytes)
{
	double t0 = now();
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	size_t len = n * sizeof(*ev), off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t w = write(fd, (const char *)ev + off, len - off > (1 << 20) ? (1 << 20) : len - off);

		if (w <= 0)
			return -1;
		off += w;
	}
	if (fsync(fd))
		return -1;
	*secs = now() - t0;
	*bytes = lseek(fd, 0, SEEK_END);
	close(fd);
	return 0;
}

static int read_rec(const char *path, long want, double *secs)
{
	struct rec_reader *r;
	struct rec_item it;
	char err[512];
	double t0 = now();
	long n = 0;
	int ret;

	if (rec_reader_open_file(&r, path, err, sizeof(err))) {
		fprintf(stderr, "record_bench: %s\n", err);
		return -1;
	}
	while ((ret = rec_reader_next(r, &it)) > 0)
		n += it.kind == REC_ITEM_EVENT;
	rec_reader_close(r);
	*secs = now() - t0;
	return ret == 0 && n == want ? 0 : -1;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	struct vmmem_event *ev = malloc(sizeof(*ev) * (n > 0 ? n : 1));
	char path[512], raw[512];
	double t_raw, t1, t6, tr;
	off_t b_raw, b1, b6;

	if (n <= 0 || !ev) {
		fprintf(stderr, "usage: record_bench [EVENTS] [DIR]\n");
		return 2;
	}
	storm(ev, n);
	snprintf(path, sizeof(path), "%s/record_bench.rec", dir);
	snprintf(raw, sizeof(raw), "%s/record_bench.raw", dir);
	if (write_raw(raw, ev, n, &t_raw, &b_raw) || write_rec(path, ev, n, 6, &t6, &b6) ||
	    write_rec(path, ev, n, 1, &t1, &b1) || read_rec(path, n, &tr)) {
		fprintf(stderr, "record_bench: a write or read failed\n");
		return 1;
	}
	unlink(raw);
	unlink(path);
	printf("%-34s %14s %12s %14s\n", "synthetic storm, events", "events/s", "bytes/event", "vs raw bytes");
	printf("%-34s %14.0f %12.1f %13.2fx\n", "raw 56-byte records (baseline)", n / t_raw, (double)b_raw / n, 1.0);
	printf("%-34s %14.0f %12.2f %13.3fx\n", "vmmemtop record, zlib level 1", n / t1, (double)b1 / n, (double)b1 / b_raw);
	printf("%-34s %14.0f %12.2f %13.3fx\n", "vmmemtop record, zlib level 6", n / t6, (double)b6 / n, (double)b6 / b_raw);
	printf("%-34s %14.0f\n", "reader (level 1 file)", n / tr);
	printf("bench record: writer %.2f M events/s at %.2f bytes/event (level 1; %.1fx smaller than raw, "
	       "%.2fx its speed); reader %.2f M events/s\n", n / t1 / 1e6, (double)b1 / n, (double)b_raw / b1,
	       (n / t1) / (n / t_raw), n / tr / 1e6);
	free(ev);
	return 0;
}
