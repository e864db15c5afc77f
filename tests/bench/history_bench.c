// SPDX-License-Identifier: MIT
/* History benchmark: 1000 synthetic VMs updated at 1 Hz for 24 simulated hours. Prints the
 * CPU per update (and as a share of one core at 1 Hz) and the resident memory added, beside
 * the cost of building the same snapshot without history (the baseline). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "history.h"

#define VMS 1000
#define SECONDS (24 * 3600)

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = atol(line + 6);
	if (f)
		fclose(f);
	return kb;
}

static void fill(struct snapshot *s, int t)
{
	for (int i = 0; i < VMS; i++) {
		s->vms[i].delta.c[VMMEM_C_tdp_faults] = (uint64_t)(i * 7 + t) % 5000;
		s->vms[i].delta.c[VMMEM_C_exits] = (uint64_t)(i + t) % 20000;
	}
}

int main(void)
{
	static struct snapshot s;
	struct history *h;
	double c0, c1, c2, base, with;
	long r0, r1;

	s.vms = calloc(VMS, sizeof(*s.vms));
	s.nr_vms = VMS;
	s.interval_s = 1;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		s.available.vm[k] = true;
	for (int i = 0; i < VMS; i++) {
		s.vms[i].info.pid = 1000 + i;
		s.vms[i].seq = i + 1;
	}
	c0 = cpu_s();
	for (int t = 0; t < 600; t++)
		fill(&s, t);
	base = (cpu_s() - c0) / 600;
	r0 = rss_kb();
	h = history_new();
	c1 = cpu_s();
	for (int t = 0; t < SECONDS; t++) {
		fill(&s, t);
		history_push(h, &s, t);
	}
	c2 = cpu_s();
	r1 = rss_kb();
	with = (c2 - c1) / SECONDS;
	printf("history: %d VMs, 1 Hz, 24 h simulated (%d updates)\n", VMS, SECONDS);
	printf("  cpu per update: %.3f ms (baseline: filling the snapshot alone %.3f ms)\n", with * 1e3, base * 1e3);
	printf("  share of one core at 1 Hz: %.3f %% (goal <= 1 %%)\n", (with - base) * 100);
	printf("  resident memory for 24 h of history: %.1f MiB (%zu bytes per VM; goal <= 64 MiB)\n",
	       (r1 - r0) / 1024.0, history_bytes_per_vm());
	history_free(h);
	free(s.vms);
	return 0;
}
