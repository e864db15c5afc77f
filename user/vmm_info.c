/* Reading one VMM's facts from /proc: identity, memory (smaps_rollup), KSM (ksm_stat). */
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
	const char *open = strchr(text, '('), *close = strrchr(text, ')'), *p;
	unsigned long long st;
	size_t n;
	char *end;
	int field;

	if (!open || !close || close < open)
		return -EINVAL;
	n = close - open - 1;
	if (n > 15)
		n = 15;
	memcpy(comm, open + 1, n);
	comm[n] = 0;
	/* fields after the comm: 3 is state; starttime is field 22 */
	p = close + 1;
	for (field = 3; field < 22; field++) {
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
	st = strtoull(p, &end, 10);
	if (errno || end == p || *p == '-')
		return -EINVAL;
	*start_time = st;
	return 0;
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

int vmm_info_read(const char *proc_root, pid_t pid, struct vmm_info *out, bool full)
{
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
	n = read_small_file(path, buf, sizeof(buf));
	if (n > 0)
		vmm_cmdline_parse(buf, n, out);
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
	vmm_cgroup_read(proc_root, pid, out);
	return 0;
}
