// SPDX-License-Identifier: MIT
/* Memory of known content for the KSM forecast tests, all MADV_MERGEABLE:
 *   ZERO pages written with zeros (real pages), SHARED pages whose content depends only on KEY
 *   and the index (identical in every worker given the same KEY, distinct from each other),
 *   DUP copies of one page unique to this process, RANDOM pages unique to this process, and
 *   UNTOUCHED pages only read (mapped to the kernel's zero page: no memory, nothing to merge).
 * Options: -H madvise(MADV_HUGEPAGE) first (THP-backed where the kernel gives them);
 *          -p after filling, MADV_PAGEOUT the RANDOM pages (to swap, when there is swap);
 *          -w not mergeable until SIGUSR1 (then MADV_MERGEABLE; SIGUSR2: MADV_UNMERGEABLE),
 *             so a test can measure ksmd without these pages first.
 * Prints its pid, then waits until killed.
 * usage: ksm_content [-H] [-p] [-w] KEY ZERO SHARED DUP RANDOM UNTOUCHED */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

static volatile sig_atomic_t want = -1;

static void on_signal(int sig)
{
	want = sig == SIGUSR1;
}

static void fill(unsigned char *p, long page, uint64_t s)
{
	s = s * 0x9e3779b97f4a7c15ULL + 1;
	for (long i = 0; i < page; i += 8) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		memcpy(p + i, &s, 8);
	}
}

int main(int argc, char **argv)
{
	long page = sysconf(_SC_PAGESIZE), n[5], total = 0, huge = 2 << 20;
	int opt, thp = 0, pageout = 0, wait = 0;
	unsigned char *mem, *p;
	volatile unsigned char sink = 0;
	uint64_t key;

	while ((opt = getopt(argc, argv, "Hpw")) != -1) {
		if (opt == 'w')
			wait = 1;
		else if (opt == 'H')
			thp = 1;
		else if (opt == 'p')
			pageout = 1;
		else
			return 2;
	}
	if (argc - optind != 6) {
		fprintf(stderr, "usage: ksm_content [-H] [-p] [-w] KEY ZERO SHARED DUP RANDOM UNTOUCHED\n");
		return 2;
	}
	key = strtoull(argv[optind], NULL, 0);
	for (int i = 0; i < 5; i++) {
		n[i] = atol(argv[optind + 1 + i]);
		if (n[i] < 0)
			return 2;
		total += n[i];
	}
	/* 2 MiB aligned, so THP can back it */
	mem = mmap(NULL, total * page + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	mem = (unsigned char *)(((uintptr_t)mem + huge - 1) & ~(uintptr_t)(huge - 1));
	if (thp && madvise(mem, total * page, MADV_HUGEPAGE))
		perror("madvise(MADV_HUGEPAGE)");
	p = mem;
	for (long i = 0; i < n[0]; i++, p += page)
		memset(p, 0, page);
	for (long i = 0; i < n[1]; i++, p += page)
		fill(p, page, key ^ ((uint64_t)i << 20));
	for (long i = 0; i < n[2]; i++, p += page)
		fill(p, page, key ^ 0xd0d0d0d0ULL ^ ((uint64_t)getpid() << 32));
	for (long i = 0; i < n[3]; i++, p += page)
		fill(p, page, key ^ ((uint64_t)getpid() << 32) ^ (0x5eedULL << 48) ^ (uint64_t)i);
	for (long i = 0; i < n[4]; i++, p += page)
		sink += *p;
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	if (!wait && madvise(mem, total * page, MADV_MERGEABLE)) {
		perror("madvise(MADV_MERGEABLE)");
		return 1;
	}
	if (pageout && n[3] && madvise(mem + (n[0] + n[1] + n[2]) * page, n[3] * page, MADV_PAGEOUT)) {
		perror("madvise(MADV_PAGEOUT)");
		return 1;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	for (;;) {
		pause();
		if (want >= 0 && madvise(mem, total * page, want ? MADV_MERGEABLE : MADV_UNMERGEABLE))
			perror("madvise");
		want = -1;
	}
}
