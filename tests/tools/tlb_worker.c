// SPDX-License-Identifier: MIT
/* TLB shootdown workload: two threads pinned to different CPUs share an address space; one
 * repeatedly changes protections of memory both have touched, which makes the kernel send
 * TLB shootdown IPIs to the other CPU. Waits for SIGUSR1, works SECONDS, then sleeps until
 * killed. "idle" mode starts the threads and never works.
 * usage: tlb_worker SECONDS [idle] */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGES 64

static volatile sig_atomic_t go;
static volatile int done;
static char *mem;
static long page;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* keeps the mm active on the other CPU, touching the pages so their TLB entries exist */
static void *toucher(void *arg)
{
	(void)arg;
	pin(1);
	while (!done) {
		for (int i = 0; i < PAGES; i++)
			(void)*(volatile char *)(mem + i * page);
		sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int seconds = argc >= 2 ? atoi(argv[1]) : 0;
	int idle = argc >= 3 && !strcmp(argv[2], "idle");
	struct timespec start, now;
	pthread_t t;

	if (seconds <= 0) {
		fprintf(stderr, "usage: tlb_worker SECONDS [idle]\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	signal(SIGUSR1, on_usr1);
	mem = mmap(NULL, PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(mem, 1, PAGES * page);
	pin(0);
	while (!go)
		pause();
	if (idle) {
		for (;;)
			pause();
	}
	pthread_create(&t, NULL, toucher, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		mprotect(mem, PAGES * page, PROT_READ);
		mprotect(mem, PAGES * page, PROT_READ | PROT_WRITE);
		memset(mem, 2, page);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec - start.tv_sec < seconds);
	done = 1;
	pthread_join(t, NULL);
	for (;;)
		pause();
}
