// SPDX-License-Identifier: MIT
/* Host-wide state from /proc/meminfo, /proc/cpuinfo and /sys/kernel/mm (no tracing needed).
 * A missing file or field leaves its value absent (present=false), never an error. */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "host_state.h"
#include "vmm_info.h"

int sysfs_num_parse(const char *s, struct opt_u64 *out)
{
	char *end;
	long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	out->v = (uint64_t)v;
	out->present = true;
	return 0;
}

int meminfo_parse(const char *text, struct host_meminfo *out)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "MemTotal:", offsetof(struct host_meminfo, mem_total_kb) },
		{ "MemFree:", offsetof(struct host_meminfo, mem_free_kb) },
		{ "MemAvailable:", offsetof(struct host_meminfo, mem_available_kb) },
		{ "Buffers:", offsetof(struct host_meminfo, buffers_kb) },
		{ "Cached:", offsetof(struct host_meminfo, cached_kb) },
		{ "SwapTotal:", offsetof(struct host_meminfo, swap_total_kb) },
		{ "SwapFree:", offsetof(struct host_meminfo, swap_free_kb) },
		{ "AnonHugePages:", offsetof(struct host_meminfo, anon_huge_kb) },
	};
	int found = 0;

	memset(out, 0, sizeof(*out));
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t n = strlen(keys[i].key);
			struct opt_u64 *v = (struct opt_u64 *)((char *)out + keys[i].off);
			unsigned long long x;
			char *end;

			if (strncmp(line, keys[i].key, n))
				continue;
			const char *num = line + n;

			while (*num == ' ' || *num == '\t')
				num++;
			errno = 0;
			x = strtoull(num, &end, 10);
			if (errno || end == num || *num == '-')
				break;
			v->v = x;
			v->present = true;
			found++;
			break;
		}
	}
	return found ? 0 : -EINVAL;
}

int sysfs_choice_parse(const char *text, char *out, size_t outsz)
{
	const char *a = strchr(text, '['), *b;

	if (!a || !(b = strchr(a, ']')) || b == a + 1 || (size_t)(b - a - 1) >= outsz)
		return -EINVAL;
	for (const char *p = a + 1; p < b; p++)
		if (*p == ' ' || *p == '[' || *p == '\n')
			return -EINVAL;
	memcpy(out, a + 1, b - a - 1);
	out[b - a - 1] = 0;
	return 0;
}

static void read_num(const char *root, const char *path, struct opt_u64 *out)
{
	char full[512], buf[64];

	out->present = false;
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (read_small_file(full, buf, sizeof(buf)) > 0)
		sysfs_num_parse(buf, out);
}

static void read_choice(const char *root, const char *path, char *out, size_t outsz)
{
	char full[512], buf[256];

	out[0] = 0;
	snprintf(full, sizeof(full), "%s%s", root, path);
	if (read_small_file(full, buf, sizeof(buf)) > 0 && sysfs_choice_parse(buf, out, outsz))
		out[0] = 0;
}

void cpuinfo_vendor_parse(const char *text, char *out, size_t outsz)
{
	out[0] = 0;
	if (strstr(text, "GenuineIntel"))
		snprintf(out, outsz, "intel");
	else if (strstr(text, "AuthenticAMD") || strstr(text, "HygonGenuine"))
		snprintf(out, outsz, "amd");
}

static void read_vendor(const char *root, char *out, size_t outsz)
{
	char path[512], buf[4096];

	out[0] = 0;
	snprintf(path, sizeof(path), "%s/proc/cpuinfo", root);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		cpuinfo_vendor_parse(buf, out, outsz);
}

int ksmd_stat_parse(const char *text, struct opt_u64 *out)
{
	unsigned long long ut, st;
	const char *p;

	if (!strstr(text, " (ksmd) "))
		return -ENOENT;
	p = strrchr(text, ')');
	/* fields 14 and 15 (utime, stime); p points at the end of field 2, and p + 2 is
	 * past the text's terminator when the ')' is its last character */
	if (p && p[1] && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
		out->v = ut + st;
		out->present = true;
		return 0;
	}
	return -EINVAL;
}

/* CPU time of the ksmd kernel thread: the real cost of KSM (its scans include sleeps).
 * Its pid is remembered, as a hint checked by the comm in its stat each time: a readdir of
 * /proc instantiates the entry of every process it returns, thousands on a busy host. */
static void read_ksmd_cpu(const char *root, struct opt_u64 *out)
{
	static __thread char hint[17];
	char path[512], buf[1024];
	struct dirent *de;
	DIR *d;

	out->present = false;
	if (hint[0]) {
		snprintf(path, sizeof(path), "%s/proc/%s/stat", root, hint);
		if (read_small_file(path, buf, sizeof(buf)) > 0 && ksmd_stat_parse(buf, out) != -ENOENT)
			return;
	}
	snprintf(path, sizeof(path), "%s/proc", root);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/proc/%.16s/stat", root, de->d_name);
		if (read_small_file(path, buf, sizeof(buf)) > 0 && ksmd_stat_parse(buf, out) != -ENOENT) {
			snprintf(hint, sizeof(hint), "%.16s", de->d_name);
			break;
		}
	}
	closedir(d);
}

int host_state_read(const char *root, struct host_state *out)
{
	char path[512], buf[8192];
	struct host_ksm *k = &out->ksm;
	struct host_thp *t = &out->thp;

	if (!root)
		root = "";
	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/proc/meminfo", root);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		meminfo_parse(buf, &out->mem);

	read_num(root, "/sys/kernel/mm/ksm/run", &k->run);
	k->present = k->run.present;
	read_num(root, "/sys/kernel/mm/ksm/pages_to_scan", &k->pages_to_scan);
	read_num(root, "/sys/kernel/mm/ksm/sleep_millisecs", &k->sleep_millisecs);
	read_num(root, "/sys/kernel/mm/ksm/pages_shared", &k->pages_shared);
	read_num(root, "/sys/kernel/mm/ksm/pages_sharing", &k->pages_sharing);
	read_num(root, "/sys/kernel/mm/ksm/pages_unshared", &k->pages_unshared);
	read_num(root, "/sys/kernel/mm/ksm/pages_volatile", &k->pages_volatile);
	read_num(root, "/sys/kernel/mm/ksm/full_scans", &k->full_scans);
	read_num(root, "/sys/kernel/mm/ksm/general_profit", &k->general_profit);
	read_num(root, "/sys/kernel/mm/ksm/ksm_zero_pages", &k->ksm_zero_pages);
	read_num(root, "/sys/kernel/mm/ksm/merge_across_nodes", &k->merge_across_nodes);
	read_num(root, "/sys/kernel/mm/ksm/use_zero_pages", &k->use_zero_pages);
	read_choice(root, "/sys/kernel/mm/ksm/advisor_mode", k->advisor_mode, sizeof(k->advisor_mode));
	if (k->present)
		read_ksmd_cpu(root, &k->ksmd_cpu_ticks);

	read_choice(root, "/sys/kernel/mm/transparent_hugepage/enabled", t->enabled, sizeof(t->enabled));
	read_choice(root, "/sys/kernel/mm/transparent_hugepage/defrag", t->defrag, sizeof(t->defrag));
	t->present = t->enabled[0] != 0;
	read_num(root, "/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs",
		 &t->khugepaged_scan_sleep_ms);
	read_num(root, "/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed",
		 &t->khugepaged_pages_collapsed);
	read_vendor(root, out->cpu_vendor, sizeof(out->cpu_vendor));
	return 0;
}

const char *tdp_fault_name(const char *cpu_vendor)
{
	if (cpu_vendor && !strcmp(cpu_vendor, "intel"))
		return "EPT violations";
	if (cpu_vendor && !strcmp(cpu_vendor, "amd"))
		return "NPT violations";
	return "TDP faults";
}
