// SPDX-License-Identifier: MIT
/* Reading one VMM's facts from /proc: identity (stat, cmdline, fds: once per process instance),
 * memory counters (status, every sample), KSM (ksm_stat), and the page-table walk of smaps_rollup
 * (AnonHugePages: rarely, see core.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmm_info.h"

ssize_t read_small_file(const char *path, char *buf, size_t bufsz)
{
	size_t off = 0;
	int fd;

	if (bufsz == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (off < bufsz - 1) {
		ssize_t n = read(fd, buf + off, bufsz - 1 - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	buf[off] = 0;
	return off;
}

int proc_stat_parse(const char *text, char comm[16], uint64_t *start_time)
{
	const char *open = strchr(text, '('), *close = strrchr(text, ')');
	size_t n;

	if (!open || !close || close < open)
		return -EINVAL;
	n = close - open - 1;
	if (n > 15)
		n = 15;
	memcpy(comm, open + 1, n);
	comm[n] = 0;
	return proc_stat_field(text, 22, start_time);	/* starttime */
}

int proc_stat_exiting(const char *text)
{
	const char *p = strrchr(text, ')');
	uint64_t flags;

	if (!p || p[1] != ' ' || !p[2])
		return -EINVAL;
	p += 2;
	if (*p == 'Z' || *p == 'X' || *p == 'x')
		return 1;
	if (proc_stat_field(text, 9, &flags))	/* 9: flags */
		return -EINVAL;
	return (flags & 0x4) != 0;	/* PF_EXITING (include/linux/sched.h) */
}

bool vmm_exiting(const char *proc_root, pid_t pid)
{
	char path[256], buf[1024];

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return true;		/* gone already */
	return proc_stat_exiting(buf) == 1;
}

int proc_stat_field(const char *text, int n, uint64_t *out)
{
	const char *close = strrchr(text, ')'), *p;
	unsigned long long v;
	char *end;

	if (!close || n < 3)
		return -EINVAL;
	/* field 3 (state) follows the comm's closing parenthesis */
	p = close + 1;
	for (int field = 3; field < n; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		while (*p && *p != ' ')
			p++;
	}
	while (*p == ' ')
		p++;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || end == p || *p == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/* "Key:   123 kB" lines: sets *v if key found with a valid number. */
static void kv_parse(const char *text, const char *key, struct opt_u64 *v, bool is_signed)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		char *end;

		if (strncmp(line, key, n) || (line[n] != ':' && line[n] != ' '))
			continue;
		line += n + (line[n] == ':');
		while (*line == ' ' || *line == '\t')
			line++;
		errno = 0;
		if (is_signed) {
			long long x = strtoll(line, &end, 10);

			if (errno || end == line)
				return;
			v->v = (uint64_t)x;
		} else {
			unsigned long long x = strtoull(line, &end, 10);

			if (errno || end == line || *line == '-')
				return;
			v->v = x;
		}
		if (*end && *end != ' ' && *end != '\n')
			return;
		v->present = true;
		return;
	}
}

int smaps_rollup_parse(const char *text, struct vmm_info *out)
{
	out->rss_kb = (struct opt_u64){ 0 };
	out->swap_kb = (struct opt_u64){ 0 };
	out->anon_huge_kb = (struct opt_u64){ 0 };
	kv_parse(text, "Rss", &out->rss_kb, false);
	kv_parse(text, "Swap", &out->swap_kb, false);
	kv_parse(text, "AnonHugePages", &out->anon_huge_kb, false);
	return out->rss_kb.present ? 0 : -EINVAL;
}

int proc_status_parse(const char *text, struct vmm_info *out)
{
	out->rss_kb = (struct opt_u64){ 0 };
	out->swap_kb = (struct opt_u64){ 0 };
	kv_parse(text, "VmRSS", &out->rss_kb, false);
	kv_parse(text, "VmSwap", &out->swap_kb, false);
	return out->rss_kb.present ? 0 : -EINVAL;
}

int ksm_stat_parse(const char *text, struct ksm_stat *out)
{
	memset(out, 0, sizeof(*out));
	kv_parse(text, "ksm_rmap_items", &out->ksm_rmap_items, false);
	kv_parse(text, "ksm_zero_pages", &out->ksm_zero_pages, false);
	kv_parse(text, "ksm_merging_pages", &out->ksm_merging_pages, false);
	/* signed in mm/ksm.c (ksm_process_profit): stored as two's complement */
	kv_parse(text, "ksm_process_profit", &out->ksm_process_profit, true);
	out->present = out->ksm_rmap_items.present || out->ksm_merging_pages.present;
	return out->present ? 0 : -EINVAL;
}

int vmm_identity_read(const char *proc_root, pid_t pid, uint64_t *start_time)
{
	char path[256], buf[1024], comm[16];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT || n == -ESRCH ? -ENOENT : (int)n;
	return proc_stat_parse(buf, comm, start_time);
}

/* Per sample, beside status: the merged count where ksm_stat lacks it, major faults, and
 * the VMM's own cgroup (user/facts/vmm_cgroup.c). */
static void vmm_evict_facts_read(const char *proc_root, pid_t pid, struct vmm_info *out)
{
	char path[256], buf[1024];
	uint64_t start;

	/* 5.19-6.5 keep the merged count in a file of its own (6.1's ksm_stat has
	 * ksm_rmap_items only): fs/proc/base.c proc_pid_ksm_merging_pages */
	if (!out->ksm.ksm_merging_pages.present) {
		struct opt_u64 v = { 0 };
		char *end;

		snprintf(path, sizeof(path), "%s/%d/ksm_merging_pages", proc_root, (int)pid);
		if (read_small_file(path, buf, sizeof(buf)) > 0 && buf[0] >= '0' && buf[0] <= '9') {
			errno = 0;
			v.v = strtoull(buf, &end, 10);
			v.present = !errno && (*end == '\n' || !*end);
		}
		if (v.present) {
			out->ksm.ksm_merging_pages = v;
			out->ksm.present = true;
		}
	}
	/* majflt by path: a pid handed to another process since is told by its start time */
	out->majflt = (struct opt_u64){ 0 };
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) > 0 && proc_stat_field(buf, 22, &start) == 0 &&
	    (!out->start_time || start == out->start_time) && proc_stat_field(buf, 12, &out->majflt.v) == 0)
		out->majflt.present = true;
	vmm_cgroup_read(proc_root, pid, out);
}

int vmm_info_read(const char *proc_root, pid_t pid, struct vmm_info *out, bool full)
{
	static __thread char cmdline[32768];	/* as vmm_cmdline_parse() takes */
	char path[256], buf[8192];
	ssize_t n;
	int ret;

	memset(out, 0, sizeof(*out));
	out->pid = pid;
	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)pid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return n == -ENOENT || n == -ESRCH ? -ENOENT : (int)n;
	ret = proc_stat_parse(buf, out->comm, &out->start_time);
	if (ret)
		return ret;
	if (proc_stat_field(buf, 12, &out->majflt.v) == 0)
		out->majflt.present = true;
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc_root, (int)pid);
	n = read_small_file(path, cmdline, sizeof(cmdline));
	if (n > 0)
		vmm_cmdline_parse(cmdline, n, out);
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		cgroup_machine_parse(buf, out->machine, sizeof(out->machine));
	vmm_identity_finish(out);
	if (!out->name[0])
		snprintf(out->name, sizeof(out->name), "%s", out->comm);
	vmm_fd_scan(proc_root, pid, out);
	if (!full)
		return 0;
	snprintf(path, sizeof(path), "%s/%d/smaps_rollup", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		smaps_rollup_parse(buf, out);
	snprintf(path, sizeof(path), "%s/%d/ksm_stat", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		ksm_stat_parse(buf, &out->ksm);
	vmm_evict_facts_read(proc_root, pid, out);
	return 0;
}

int vmm_status_open(const char *proc_root, pid_t pid, uint64_t start_time)
{
	uint64_t now_start;
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
	/* opened first, checked second: if the pid changed hands before the open, stat now
	 * shows the newcomer's start time */
	ret = vmm_identity_read(proc_root, pid, &now_start);
	if (ret || now_start != start_time) {
		close(fd);
		return ret && ret != -ENOENT ? ret : -ENOENT;
	}
	return fd;
}

/* pread() at 0 of a held /proc file: the text regenerated, NUL-terminated. */
static ssize_t pread_text(int fd, char *buf, size_t bufsz)
{
	ssize_t n;

	do
		n = pread(fd, buf, bufsz - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		buf[n] = 0;
	return n < 0 ? -errno : n;
}

int vmm_counters_read(int status_fd, int *ksm_fd, const char *proc_root, pid_t pid, struct vmm_info *out)
{
	char buf[4096], path[256];
	ssize_t n;

	/* seq_file regenerates the text on a read at offset 0 (fs/seq_file.c seq_read_iter);
	 * proc_single_show() fails with ESRCH once the task the fd was opened on is gone, even
	 * if its pid was reused since (the fd holds the struct pid, not the number) */
	n = pread_text(status_fd, buf, sizeof(buf));
	if (n < 0)
		return n == -ESRCH || n == -ENOENT ? -ENOENT : (int)n;
	if (proc_status_parse(buf, out))
		return -ENOENT;		/* a zombie: no mm, no VmRSS line */
	/* an exec keeps pid and start time but is another program: its identity is read again
	 * (status escapes only '\n' and '\\' of the comm: fs/proc/array.c proc_task_name) */
	if (!strncmp(buf, "Name:\t", 6)) {
		size_t len = strcspn(buf + 6, "\n");

		if (len != strlen(out->comm) || strncmp(buf + 6, out->comm, len))
			return 1;
	}
	if (*ksm_fd != VMM_FD_ABSENT && *ksm_fd < 0) {
		/* opened after status answered for this process: the same one, held from now on */
		snprintf(path, sizeof(path), "%s/%d/ksm_stat", proc_root, (int)pid);
		*ksm_fd = open(path, O_RDONLY | O_CLOEXEC);
		/* the kernel has no ksm_stat (before 6.1): never ask again */
		if (*ksm_fd < 0)
			*ksm_fd = errno == ENOENT ? VMM_FD_ABSENT : -1;
	}
	if (*ksm_fd >= 0 && pread_text(*ksm_fd, buf, sizeof(buf)) > 0)
		ksm_stat_parse(buf, &out->ksm);
	vmm_evict_facts_read(proc_root, pid, out);
	return 0;
}

int vmm_thp_read(const char *proc_root, pid_t pid, struct opt_u64 *anon_huge_kb)
{
	char path[256], buf[2048];
	struct vmm_info tmp;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%d/smaps_rollup", proc_root, (int)pid);
	n = read_small_file(path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	memset(&tmp, 0, sizeof(tmp));
	if (smaps_rollup_parse(buf, &tmp))
		return -EINVAL;
	*anon_huge_kb = tmp.anon_huge_kb;
	return anon_huge_kb->present ? 0 : -EINVAL;
}
