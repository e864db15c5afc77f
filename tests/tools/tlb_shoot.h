/* SPDX-License-Identifier: MIT */
/* The TLB shootdown workload of tlb_worker and churn_vmm: a thread pinned to the second CPU
 * keeps touching 64 pages while the caller, pinned to the first, changes their protection,
 * so each change must shoot the other CPU's TLB entries down with an IPI (arch/x86/mm/tlb.c
 * flush_tlb_mm_range -> native_flush_tlb_multi: tlb:tlb_flush reason 4 in the caller).
 * Header only: every tool stays one .c file. */
#ifndef VMMEM_TLB_SHOOT_H
#define VMMEM_TLB_SHOOT_H

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TLB_PAGES	64

struct tlb_shoot {
	char *mem;
	long page;
	volatile int done;
	pthread_t toucher;
};

static void tlb_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* keeps the mm active on the other CPU, touching the pages so their TLB entries exist */
static void *tlb_toucher(void *arg)
{
	struct tlb_shoot *t = arg;

	tlb_pin(1);
	while (!t->done) {
		for (int i = 0; i < TLB_PAGES; i++)
			(void)*(volatile char *)(t->mem + i * t->page);
		sched_yield();
	}
	return NULL;
}

/* The pages, touched, and the caller pinned to the first CPU. 0 or -1. */
static int tlb_shoot_setup(struct tlb_shoot *t)
{
	memset(t, 0, sizeof(*t));
	t->page = sysconf(_SC_PAGESIZE);
	t->mem = mmap(NULL, TLB_PAGES * t->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (t->mem == MAP_FAILED)
		return -1;
	memset(t->mem, 1, TLB_PAGES * t->page);
	tlb_pin(0);
	return 0;
}

/* Starts the toucher; on attr's stack if attr is not NULL. 0 or an errno. */
static int tlb_shoot_start(struct tlb_shoot *t, const pthread_attr_t *attr)
{
	return pthread_create(&t->toucher, attr, tlb_toucher, t);
}

/* One round trip: read-only, then writable again, then a write (a fresh TLB entry) */
static void tlb_shoot_round(struct tlb_shoot *t)
{
	mprotect(t->mem, TLB_PAGES * t->page, PROT_READ);
	mprotect(t->mem, TLB_PAGES * t->page, PROT_READ | PROT_WRITE);
	memset(t->mem, 2, t->page);
}

static void tlb_shoot_stop(struct tlb_shoot *t)
{
	t->done = 1;
	pthread_join(t->toucher, NULL);
}

#endif
