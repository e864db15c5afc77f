// SPDX-License-Identifier: MIT
/* The independent oracle of what KSM saved for a set of processes: each page of their
 * MADV_MERGEABLE areas (smaps VmFlags "mg") that /proc/PID/pagemap shows present is looked up
 * in /proc/kpageflags; pages with KPF_KSM are merged. Saved pages = merged pages - distinct KSM
 * page frames they map (a frame shared with processes outside the set still costs one page).
 * Prints "merged N frames F saved S". Root only (PFNs).
 * usage: ksm_frames PID... */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KPF_KSM 21
#define PM_PRESENT (1ull << 63)
#define PM_PFN_MASK ((1ull << 55) - 1)

static uint64_t *pfns;
static size_t npfn, cap;

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int scan(int pid, int kpf)
{
	char path[64], line[512];
	unsigned long start = 0, end = 0;
	int pm;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", pid);
	f = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm = open(path, O_RDONLY);
	if (!f || pm < 0) {
		fprintf(stderr, "ksm_frames: pid %d: %s\n", pid, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long s, e;

		if (sscanf(line, "%lx-%lx ", &s, &e) == 2 && strchr(line, ' ') - line < 40) {
			start = s, end = e;
			continue;
		}
		if (strncmp(line, "VmFlags:", 8) || !strstr(line, " mg"))
			continue;
		for (unsigned long a = start; a < end; a += 4096 * 512) {
			uint64_t ent[512];
			size_t n = (end - a) / 4096 < 512 ? (end - a) / 4096 : 512;
			ssize_t r = pread(pm, ent, n * 8, (off_t)(a / 4096 * 8));

			for (ssize_t i = 0; i < r / 8; i++) {
				uint64_t flags, pfn = ent[i] & PM_PFN_MASK;

				if (!(ent[i] & PM_PRESENT) || !pfn)
					continue;
				if (pread(kpf, &flags, 8, (off_t)(pfn * 8)) != 8 || !(flags >> KPF_KSM & 1))
					continue;
				if (npfn == cap) {
					cap = cap ? cap * 2 : 65536;
					pfns = realloc(pfns, cap * sizeof(*pfns));
					if (!pfns)
						return -1;
				}
				pfns[npfn++] = pfn;
			}
		}
	}
	fclose(f);
	close(pm);
	return 0;
}

int main(int argc, char **argv)
{
	size_t distinct = 0;
	int kpf = open("/proc/kpageflags", O_RDONLY);

	if (argc < 2 || kpf < 0) {
		fprintf(stderr, "usage: ksm_frames PID... (root: /proc/kpageflags)\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		if (scan(atoi(argv[i]), kpf))
			return 1;
	qsort(pfns, npfn, sizeof(*pfns), cmp);
	for (size_t i = 0; i < npfn; i++)
		distinct += !i || pfns[i] != pfns[i - 1];
	printf("merged %zu frames %zu saved %zu\n", npfn, distinct, npfn - distinct);
	return 0;
}
