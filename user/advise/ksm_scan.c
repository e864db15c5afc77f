// SPDX-License-Identifier: MIT
/* Reading one VMM's resident anonymous memory for the KSM forecast.
 * Never faults anything in: a page is read only when /proc/PID/pagemap says it is present
 * (PM_PRESENT) and anonymous (no PM_FILE: KSM only merges anonymous pages, mm/ksm.c
 * scan_get_next_rmap_item), and it is read right after that check, in runs of at most
 * RUN_PAGES, so a page swapped out in between is the only exposure (a window of microseconds).
 * Swapped pages (PM_SWAP) are counted and never read. Each page is hashed in a buffer that is
 * overwritten by the next run: contents never leave this file, hashes only as sort keys.
 * Transparent huge pages: pagemap lists each 4 KiB subpage, and KSM scans them one by one
 * too (it splits the THP to merge a subpage, mm/ksm.c try_to_merge_one_page), so each
 * subpage counts as a page; zero subpages are told apart (KPF_THP) because since 6.12 the
 * split itself maps them to the zero page (ksm_forecast.c). hugetlbfs areas never merge (VM_HUGETLB) and do not count. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "ksm_forecast.h"
#include "ksm_scan.h"
#include "page_hash.h"

#define PAGE		4096u
#define BATCH		512		/* pagemap entries per read (2 MiB of address space) */
#define RUN_PAGES	16		/* pages per process_vm_readv */
#define MAX_AREAS	65536		/* vm.max_map_count's default is 65530 */

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAP		(1ULL << 62)
#define PM_FILE		(1ULL << 61)	/* file page or shared anonymous */
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define KPF_THP		22		/* include/uapi/linux/kernel-page-flags.h */
#define KPF_ZERO_PAGE	24

double ksm_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static double thread_cpu(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static bool has_flag(const char *flags, const char *f)
{
	for (const char *p = flags; (p = strstr(p, f)); p += 2)
		if ((p == flags || p[-1] == ' ') && (p[2] == ' ' || p[2] == '\n' || !p[2]))
			return true;
	return false;
}

int smaps_areas_parse(FILE *f, struct ksm_area *areas, int max)
{
	char line[512], perms[8];
	struct ksm_area cur;
	bool open = false;
	int n = 0;

	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, kb;
		int used = 0;

		if (!strchr(line, '\n') && !feof(f))
			return -EINVAL;		/* an over-long line: not smaps */
		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s%n", &s, &e, perms, &used) == 3 && used) {
			if (open)
				return -EINVAL;	/* the previous area had no VmFlags line */
			if (e <= s || strlen(perms) != 4)
				return -EINVAL;
			cur = (struct ksm_area){ .start = s, .end = e, .eligible = perms[3] == 'p' };
			open = true;
		} else if (!strncmp(line, "VmFlags:", 8)) {
			const char *fl = line + 8;

			if (!open)
				return -EINVAL;
			while (*fl == ' ')
				fl++;
			/* mm/ksm.c vma_ksm_compatible: shared, PFN/IO/mixed maps, hugetlb and
			 * DONTEXPAND areas are never merged */
			if (has_flag(fl, "sh") || has_flag(fl, "ms") || has_flag(fl, "pf") ||
			    has_flag(fl, "io") || has_flag(fl, "ht") || has_flag(fl, "mm") ||
			    has_flag(fl, "de"))
				cur.eligible = false;
			cur.mergeable = cur.eligible && has_flag(fl, "mg");
			if (n < max)
				areas[n] = cur;
			n++;
			open = false;
		} else if (open && sscanf(line, "Anonymous: %llu kB", &kb) == 1) {
			cur.anon_kb = kb;
		} else if (!open) {
			return -EINVAL;
		}
	}
	return open ? -EINVAL : n;
}

static int keys_push(struct ksm_keys *k, uint64_t key)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap + k->cap / 2 : 1 << 16;
		uint64_t *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	k->v[k->n++] = key;
	return 0;
}

static void rate_wait(struct ksm_rate *r, size_t bytes)
{
	double due, now;

	r->bytes += bytes;
	if (r->bytes_per_s <= 0)
		return;
	due = r->start_s + r->bytes / r->bytes_per_s;
	now = ksm_now();
	if (due > now + 0.001) {
		double d = due - now;
		struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

struct scan_ctx {
	pid_t pid;
	int idx, kpf_fd;
	bool thp_split_zero;
	uint64_t seed;
	struct ksm_keys *keys;
	struct ksm_rate *rate;
	struct ksm_scan_vm *out;
	unsigned char buf[RUN_PAGES * PAGE];
};

bool ksm_thp_split_frees_zero(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 12);
}

/* A zero-filled page may be the kernel's zero page (a read fault on untouched anonymous
 * memory maps it, mm/memory.c do_anonymous_page) or the huge zero page: no memory to save,
 * and KSM skips it (it is not an anonymous page). /proc/kpageflags tells (KPF_ZERO_PAGE), and
 * whether the page is part of a THP (KPF_THP). */
static uint64_t pfn_flags(struct scan_ctx *c, uint64_t pfn)
{
	uint64_t fl;

	if (c->kpf_fd < 0 || !pfn)
		return 0;
	if (pread(c->kpf_fd, &fl, sizeof(fl), pfn * sizeof(fl)) != sizeof(fl))
		return 0;
	return fl;
}

static int run_read(struct scan_ctx *c, uint64_t addr, const uint64_t *pm, int k)
{
	struct iovec l = { c->buf, (size_t)k * PAGE }, r = { (void *)(uintptr_t)addr, (size_t)k * PAGE };
	ssize_t got = process_vm_readv(c->pid, &l, 1, &r, 1, 0);
	int ret;

	if (got < 0)
		return errno == EFAULT ? 0 : -errno;	/* unmapped since pagemap: skip */
	for (int i = 0; i < got / (ssize_t)PAGE; i++) {
		const unsigned char *p = c->buf + (size_t)i * PAGE;

		if (page_is_zero(p, PAGE)) {
			uint64_t fl = pfn_flags(c, pm[i] & PM_PFN_MASK);

			if (fl >> KPF_ZERO_PAGE & 1) {
				c->out->zero_mapped_pages++;
				continue;
			}
			c->out->zero_pages++;
			if ((fl >> KPF_THP & 1) && c->thp_split_zero)
				c->out->thp_zero_pages++;
		} else {
			ret = keys_push(c->keys, KF_KEY(page_hash(p, PAGE, c->seed), c->idx));
			if (ret)
				return ret;
		}
		c->out->scanned_pages++;
	}
	memset(c->buf, 0, (size_t)got);		/* no guest bytes linger after the run */
	rate_wait(c->rate, (size_t)got);
	return 0;
}

static int area_scan(struct scan_ctx *c, int pm_fd, const struct ksm_area *a)
{
	uint64_t pm[BATCH];

	for (uint64_t va = a->start; va < a->end; ) {
		size_t want = (a->end - va) / PAGE < BATCH ? (a->end - va) / PAGE : BATCH;
		ssize_t got = pread(pm_fd, pm, want * sizeof(*pm), va / PAGE * sizeof(*pm));
		int n, run = 0, ret;

		if (got < 0)
			return -errno;
		n = got / sizeof(*pm);
		if (!n)
			return 0;
		for (int i = 0; i <= n; i++) {
			bool take = i < n && (pm[i] & (PM_PRESENT | PM_FILE)) == PM_PRESENT;

			if (i < n && !(pm[i] & PM_PRESENT) && (pm[i] & PM_SWAP))
				c->out->swapped_pages++;
			if (take && run < RUN_PAGES) {
				run++;
				continue;
			}
			if (run) {
				ret = run_read(c, va + (uint64_t)(i - run) * PAGE, pm + i - run, run);
				if (ret)
					return ret;
			}
			run = take;
		}
		va += (uint64_t)n * PAGE;
	}
	return 0;
}

int ksm_scan_vm(pid_t pid, int idx, bool all_anon, uint64_t seed, struct ksm_keys *keys,
		struct ksm_rate *rate, struct ksm_scan_vm *out, char *err, size_t errsz)
{
	double t0 = ksm_now(), c0 = thread_cpu();
	struct ksm_area *areas = NULL;
	struct scan_ctx *c = NULL;
	int n, pm_fd = -1, ret;
	char path[64];
	FILE *f;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(-ret));
		return ret;
	}
	areas = calloc(MAX_AREAS, sizeof(*areas));
	c = calloc(1, sizeof(*c));
	if (!areas || !c) {
		fclose(f);
		ret = -ENOMEM;
		snprintf(err, errsz, "out of memory");
		goto out_free;
	}
	n = smaps_areas_parse(f, areas, MAX_AREAS);
	fclose(f);
	if (n < 0 || n > MAX_AREAS) {
		ret = n < 0 ? n : -E2BIG;
		snprintf(err, errsz, "%s: %s", path, n < 0 ? "malformed" : "more than 65536 areas");
		goto out_free;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		ret = -errno;
		snprintf(err, errsz, "cannot open %s: %s", path, strerror(-ret));
		goto out_free;
	}
	*c = (struct scan_ctx){ .pid = pid, .idx = idx, .seed = seed, .keys = keys, .rate = rate,
				.out = out, .kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC),
				.thp_split_zero = ksm_thp_split_frees_zero() };
	ret = 0;
	for (int i = 0; i < n && !ret; i++) {
		if (!(areas[i].mergeable || (all_anon && areas[i].eligible))) {
			out->unmergeable_anon_kb += areas[i].anon_kb;
			continue;
		}
		out->areas++;
		ret = area_scan(c, pm_fd, &areas[i]);
	}
	if (ret)
		snprintf(err, errsz, "reading pid %d: %s%s", (int)pid, strerror(-ret),
			 ret == -EPERM ? " (needs root: ptrace access to the VMM)" : "");
	if (c->kpf_fd >= 0)
		close(c->kpf_fd);
	close(pm_fd);
out_free:
	free(c);
	free(areas);
	out->seconds = ksm_now() - t0;
	out->cpu_seconds = thread_cpu() - c0;
	return ret;
}
