// SPDX-License-Identifier: MIT
/* Host-wide syscall cost: ns per getppid() (the raw syscall: glibc does not cache it), the
 * best of REPS runs of N calls each (the minimum is the least disturbed by other load).
 * usage: getppid_loop [N [REPS]] */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000, reps = argc > 2 ? atol(argv[2]) : 5;
	double best = 0;

	if (n <= 0 || reps <= 0) {
		fprintf(stderr, "usage: getppid_loop [N [REPS]]\n");
		return 2;
	}
	for (long r = 0; r < reps; r++) {
		double t0 = now_ns(), ns;

		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		ns = (now_ns() - t0) / n;
		if (r == 0 || ns < best)
			best = ns;
	}
	printf("%.1f\n", best);
	return 0;
}
