// SPDX-License-Identifier: MIT
/* A VMM-like process whose memory khugepaged would collapse, done on demand: after SIGUSR1 it
 * faults N 2 MiB-aligned ranges in as 4 KiB pages and collapses each into a huge page with
 * madvise(MADV_COLLAPSE) (Linux 6.1+), which fires huge_memory:mm_collapse_huge_page with its
 * mm as khugepaged does. Prints "collapsed C" (C = calls that succeeded), then sleeps until
 * killed so smaps_rollup can be read. usage: thp_collapse N */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25	/* include/uapi/asm-generic/mman-common.h */
#endif
#define HUGE (2ul << 20)

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

/*
 * One MADV_COLLAPSE, tried again while it fails for want of a free huge page (ENOMEM) or a
 * transient one (EAGAIN: a page locked or isolated; mm/khugepaged.c madvise_collapse): a host
 * that just ran guests can be short of free 2 MiB blocks for a moment, and every attempt
 * compacts. Only succeeded collapses count, here as in the oracle (status=succeeded).
 */
static int collapse(char *range)
{
	for (int tries = 0; tries < 20; tries++) {
		if (madvise(range, HUGE, MADV_COLLAPSE) == 0)
			return 1;
		if (errno != ENOMEM && errno != EAGAIN)
			break;
		usleep(50000);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc == 2 ? atol(argv[1]) : 0, ok = 0;
	char *map, *mem;

	if (n <= 0 || n > 512) {
		fprintf(stderr, "usage: thp_collapse N(1..512)\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	map = mmap(NULL, (n + 1) * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	mem = (char *)(((uintptr_t)map + HUGE - 1) & ~(HUGE - 1));
	printf("%d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();
	/* Needs THP "madvise" (the tests set it): the faults then give 4 KiB pages, and
	 * khugepaged leaves this VMA alone (it is not MADV_HUGEPAGE), so every collapse is
	 * ours, in this process (MADV_COLLAPSE ignores the sysfs mode) */
	memset(mem, 1, n * HUGE);
	for (long i = 0; i < n; i++)
		ok += collapse(mem + i * HUGE);
	printf("collapsed %ld\n", ok);
	fflush(stdout);
	for (;;)
		pause();
}
