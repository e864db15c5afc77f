// SPDX-License-Identifier: MIT
/* TLB shootdown workload: two threads pinned to different CPUs share an address space; one
 * repeatedly changes protections of memory both have touched, which makes the kernel send
 * TLB shootdown IPIs to the other CPU. Waits for SIGUSR1, works SECONDS, then sleeps until
 * killed. "idle" mode starts the threads and never works.
 * usage: tlb_worker SECONDS [idle] */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "tlb_shoot.h"

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	int seconds = argc >= 2 ? atoi(argv[1]) : 0;
	int idle = argc >= 3 && !strcmp(argv[2], "idle");
	struct timespec start, now;
	struct tlb_shoot t;

	if (seconds <= 0) {
		fprintf(stderr, "usage: tlb_worker SECONDS [idle]\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	if (tlb_shoot_setup(&t)) {
		perror("mmap");
		return 1;
	}
	while (!go)
		pause();
	if (idle) {
		for (;;)
			pause();
	}
	tlb_shoot_start(&t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		tlb_shoot_round(&t);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	tlb_shoot_stop(&t);
	for (;;)
		pause();
}
