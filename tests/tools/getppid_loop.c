// SPDX-License-Identifier: MIT
/* Host-wide syscall cost: ns per getppid() (the raw syscall: glibc does not cache it), timed
 * in blocks on request, so one process (same CPU, warm caches) times every block of a bench
 * that alternates states around it. With "switch", a pipe round trip to a child process
 * instead: two context switches between two address spaces (on one CPU when pinned), the path
 * of sched_switch and of switch_mm's tlb_flush tracepoint. With "switch@CPU", the child runs
 * on CPU (sched_setaffinity) while the parent stays where it was started: each round trip is
 * a cross-CPU wake-up on both sides, and each CPU switches to its idle task and back.
 * usage: getppid_loop [switch|switch@CPU] CALLS CHUNKS
 * For each line read on stdin, times CHUNKS chunks of CALLS calls and prints one line:
 *   median min wall cpu
 * ns per call: the median and the least chunk (a chunk the loop was preempted in, or took an
 * interrupt in, is an outlier the median ignores), the whole block's wall time, and the
 * block's thread CPU time (no preemption, but interrupts) over all calls. */
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long parse_count(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	return *s && !*end && v > 0 && v <= 100000000 ? v : -1;
}

/* The child of "switch": echoes each byte back until the parent closes its pipe. */
static void echo_child(int in, int out)
{
	char b;

	while (read(in, &b, 1) == 1 && write(out, &b, 1) == 1)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	bool sw = argc == 4 && !strncmp(argv[1], "switch", 6);
	int child_cpu = -1;
	long calls = argc == 3 + sw ? parse_count(argv[1 + sw]) : -1;
	long chunks = argc == 3 + sw ? parse_count(argv[2 + sw]) : -1;
	int to_child[2], from_child[2];
	char line[256], b = 0;
	double *ns;

	if (sw && argv[1][6]) {
		char *end;

		child_cpu = argv[1][6] == '@' ? (int)strtol(argv[1] + 7, &end, 10) : -1;
		if (child_cpu < 0 || end == argv[1] + 7 || *end || child_cpu >= CPU_SETSIZE)
			calls = -1;
	}
	if (calls < 0 || chunks < 0 || chunks > 1000000) {
		fprintf(stderr, "usage: getppid_loop [switch|switch@CPU] CALLS CHUNKS (then one line on stdin per block)\n");
		return 2;
	}
	if (sw) {
		if (pipe(to_child) || pipe(from_child)) {
			perror("getppid_loop: pipe");
			return 1;
		}
		switch (fork()) {
		case -1:
			perror("getppid_loop: fork");
			return 1;
		case 0:
			if (child_cpu >= 0) {
				cpu_set_t set;

				CPU_ZERO(&set);
				CPU_SET(child_cpu, &set);
				if (sched_setaffinity(0, sizeof(set), &set)) {
					perror("getppid_loop: sched_setaffinity");
					_exit(1);
				}
			}
			close(to_child[1]);
			close(from_child[0]);
			echo_child(to_child[0], from_child[1]);
		}
		close(to_child[0]);
		close(from_child[1]);
	}
	ns = calloc(chunks, sizeof(*ns));
	if (!ns) {
		perror("getppid_loop: calloc");
		return 1;
	}
	while (fgets(line, sizeof(line), stdin)) {
		double w0 = clock_ns(CLOCK_MONOTONIC), c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID), w1, c1;

		for (long c = 0; c < chunks; c++) {
			double t0 = clock_ns(CLOCK_MONOTONIC);

			for (long i = 0; i < calls; i++) {
				if (!sw)
					syscall(SYS_getppid);
				else if (write(to_child[1], &b, 1) != 1 || read(from_child[0], &b, 1) != 1)
					return 1;
			}
			ns[c] = (clock_ns(CLOCK_MONOTONIC) - t0) / calls;
		}
		w1 = clock_ns(CLOCK_MONOTONIC);
		c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		qsort(ns, chunks, sizeof(*ns), cmp_double);
		printf("%.2f %.2f %.2f %.2f\n", chunks % 2 ? ns[chunks / 2] : (ns[chunks / 2 - 1] + ns[chunks / 2]) / 2,
		       ns[0], (w1 - w0) / (calls * chunks), (c1 - c0) / (calls * chunks));
		fflush(stdout);
	}
	free(ns);
	return 0;
}
