// SPDX-License-Identifier: MIT
/* A process with a known working set, for the DAMON working-set rig: maps TOTAL MiB
 * (MADV_NOHUGEPAGE: 4 KiB pages, each touched on its own), writes every page once so all of it
 * is resident, prints its pid, then writes one byte of each page of the first HOT MiB, over
 * and over, and nothing else. SIGUSR1 doubles HOT (up to TOTAL); HOT 0 is an idle process.
 * The oracle is the set itself: exactly HOT MiB touched in any window longer than a pass.
 * usage: ws_worker TOTAL_MIB HOT_MIB */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t widen;

static void on_usr1(int sig)
{
	(void)sig;
	widen = 1;
}

int main(int argc, char **argv)
{
	size_t total, hot, page = 4096;
	volatile unsigned char *m;
	unsigned long passes = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: ws_worker TOTAL_MIB HOT_MIB\n");
		return 2;
	}
	total = strtoul(argv[1], NULL, 10) << 20;
	hot = strtoul(argv[2], NULL, 10) << 20;
	if (!total || hot > total) {
		fprintf(stderr, "ws_worker: need 0 <= HOT <= TOTAL, TOTAL > 0\n");
		return 2;
	}
	m = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise((void *)m, total, MADV_NOHUGEPAGE);
	for (size_t o = 0; o < total; o += page)
		m[o] = 1;
	signal(SIGUSR1, on_usr1);
	printf("%d\n", (int)getpid());
	fflush(stdout);
	for (;;) {
		if (widen) {
			widen = 0;
			hot = hot * 2 > total ? total : hot * 2;
			fprintf(stderr, "ws_worker %d: hot set now %zu MiB\n", (int)getpid(), hot >> 20);
		}
		if (!hot) {
			pause();
			continue;
		}
		for (size_t o = 0; o < hot; o += page)
			m[o]++;
		passes++;
	}
}
