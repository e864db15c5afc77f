// SPDX-License-Identifier: MIT
/* Finding VMM processes in /proc: a process holding an anon_inode:kvm-vm fd
 * (virt/kvm/kvm_main.c kvm_dev_ioctl_create_vm names it so), or one with a known VMM comm. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vmm_info.h"

static bool is_pid(const char *s, pid_t *pid)
{
	long v;
	char *end;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff)
		return false;
	*pid = v;
	return true;
}

int vmm_fd_scan(const char *proc_root, pid_t pid, struct vmm_info *out)
{
	char path[256], target[128];
	struct dirent *de;
	uint64_t vcpu_fds = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		char link[sizeof(path) + 260];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "anon_inode:kvm-vm"))
			out->has_kvm_vm_fd = true;
		else if (!strncmp(target, "anon_inode:kvm-vcpu:", 20))
			vcpu_fds++;
	}
	closedir(d);
	if (!out->vcpus.present && vcpu_fds)
		out->vcpus = (struct opt_u64){ vcpu_fds, true };
	return 0;
}

bool vmm_detect(const char *proc_root, pid_t pid)
{
	char path[256], buf[64];
	struct vmm_info info;

	snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = 0;
	if (vmm_comm_is_known(buf))
		return true;
	memset(&info, 0, sizeof(info));
	return vmm_fd_scan(proc_root, pid, &info) == 0 && info.has_kvm_vm_fd;
}

int vmm_scan(const char *proc_root, pid_t *pids, int max)
{
	struct dirent *de;
	pid_t self = getpid(), pid;
	int n = 0;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_pid(de->d_name, &pid) || pid == self || !vmm_detect(proc_root, pid))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}

/*
 * The cached scan. Reading every process's fd table every second costs ~3 us per fd; with
 * thousands of processes that is most of a sample. A process is examined (stat, then its
 * fds) when it is new to the scan, and again while it is young (started less than YOUNG_S
 * ago: a VMM is usually exec'd by a process that was something else a few milliseconds
 * earlier, as libvirt forks, then execs qemu). Afterwards its verdict stands until the
 * process is gone. "The same process" is the d_ino that readdir of /proc gives for its
 * directory: /proc/PID's inode holds the struct pid (fs/proc/base.c proc_pid_make_inode),
 * and release_task() -> proc_flush_pid() drops the dentry of an exited process, so a new
 * process under a reused pid gets a new inode. A VMM that creates its VM later than that is
 * the kernel side's to find (its VM-creation and first-KVM-event hooks claim a slot).
 */
#define YOUNG_S 3	/* re-examine non-VMM processes younger than this (seconds) */

struct scan_entry {
	pid_t pid;
	bool vmm;
	bool young;
	bool told;		/* returned once as a VMM: not again */
	char comm[16];		/* at the last look */
	uint64_t ino;
};

#define NEW_MAX 1024		/* more new pids than this since the last look: scan all */

struct vmm_scan_cache {
	struct scan_entry *cur, *next;
	size_t nr_cur, cap;
	long clk_tck;
	bool have_last;
	pid_t last_pid;			/* the newest pid at the last look */
	int nr_young;
	struct young { pid_t pid; double until; } young[NEW_MAX];	/* new pids to look at again */
};

int vmm_scan_cache_new(struct vmm_scan_cache **out)
{
	struct vmm_scan_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->clk_tck = sysconf(_SC_CLK_TCK);
	if (c->clk_tck <= 0)
		c->clk_tck = 100;
	*out = c;
	return 0;
}

void vmm_scan_cache_free(struct vmm_scan_cache *c)
{
	if (!c)
		return;
	free(c->cur);
	free(c->next);
	free(c);
}

static const struct scan_entry *cache_find(const struct vmm_scan_cache *c, pid_t pid, size_t *hint)
{
	size_t lo = 0, hi = c->nr_cur;

	/* readdir of /proc lists pids in increasing order (fs/proc/base.c next_tgid), so the
	 * previous match's successor is almost always the one; else binary search */
	if (*hint < c->nr_cur && c->cur[*hint].pid == pid)
		return &c->cur[(*hint)++];
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (c->cur[mid].pid == pid) {
			*hint = mid + 1;
			return &c->cur[mid];
		}
		if (c->cur[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* stat (comm, start time), then the fds if the comm is no known VMM's. A process looked at
 * before (recheck: it was young then) that has grown old under the same comm keeps its
 * verdict without a second walk of its fds. */
static void examine(const char *proc_root, struct scan_entry *e, double uptime_s, long clk_tck, bool recheck)
{
	char path[256], buf[1024], comm[16];
	struct vmm_info info;
	uint64_t start;
	bool young;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root, (int)e->pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0 || proc_stat_parse(buf, comm, &start)) {
		e->vmm = e->young = false;
		return;
	}
	young = uptime_s >= 0 && uptime_s - (double)start / clk_tck < YOUNG_S;
	if (recheck && !young && !strcmp(comm, e->comm)) {
		e->young = false;
		return;
	}
	e->young = young;
	snprintf(e->comm, sizeof(e->comm), "%s", comm);
	memset(&info, 0, sizeof(info));
	e->vmm = vmm_comm_is_known(comm) || (vmm_fd_scan(proc_root, e->pid, &info) == 0 && info.has_kvm_vm_fd);
	e->young &= !e->vmm;	/* a VMM stays one: nothing more to learn */
}

static int entry_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct scan_entry *)a)->pid, y = ((const struct scan_entry *)b)->pid;

	return x < y ? -1 : x > y;
}

/* The last pid handed out in our pid namespace: /proc/loadavg's last field
 * (fs/proc/loadavg.c, idr_get_cursor() - 1 of the reader's pid namespace; processes of child
 * namespaces take a pid in ours too). */
static int last_pid_read(const char *proc_root, pid_t *out)
{
	char path[256], buf[128], *p;
	long v;

	snprintf(path, sizeof(path), "%s/loadavg", proc_root);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	p = strrchr(buf, ' ');
	if (!p)
		return -EINVAL;
	errno = 0;
	v = strtol(p + 1, NULL, 10);
	if (errno || v < 0 || v > 0x3fffffff)
		return -EINVAL;
	*out = v;
	return 0;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A pid handed out since the last look: a process (not a thread: pids of threads come
 * from the same allocator) that is a VMM by its comm or its fds? Its status names both
 * (Name, Tgid). Returns 1 VMM, 0 not (yet), -1 not a process. */
static int probe_new(const char *proc_root, pid_t pid)
{
	char path[256], buf[1024], name[32] = "";
	struct vmm_info info;
	const char *t;

	snprintf(path, sizeof(path), "%s/%d/status", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	t = strstr(buf, "\nTgid:");
	if (!t || strtol(t + 6, NULL, 10) != pid)
		return -1;
	if (!strncmp(buf, "Name:", 5))
		sscanf(buf + 5, " %31[^\n]", name);
	if (vmm_comm_is_known(name))
		return 1;
	memset(&info, 0, sizeof(info));
	return vmm_fd_scan(proc_root, pid, &info) == 0 && info.has_kvm_vm_fd;
}

int vmm_scan_new(struct vmm_scan_cache *c, const char *proc_root, pid_t *pids, int max)
{
	pid_t self = getpid(), last, from;
	double now = mono_s();
	int n = 0, kept = 0;
	long count;

	if (!c->have_last || last_pid_read(proc_root, &last))
		return -EAGAIN;
	/* pids are handed out in increasing order, wrapping at pid_max back to low numbers
	 * (kernel/pid.c alloc_pid, idr_alloc_cyclic): the new ones are (last_pid, last] */
	if (last < c->last_pid || last - c->last_pid > NEW_MAX)
		return -EAGAIN;		/* wrapped, or too many: the full scan is cheaper */
	count = last - c->last_pid;
	from = c->last_pid + 1;
	/* the young first: a process that was something else a moment ago may be a VMM now */
	for (int i = 0; i < c->nr_young; i++) {
		struct young y = c->young[i];
		int r = probe_new(proc_root, y.pid);

		if (r == 1) {
			if (n < max)
				pids[n] = y.pid;
			n++;
		} else if (r == 0 && now < y.until) {
			c->young[kept++] = y;
		}
	}
	c->nr_young = kept;
	for (pid_t pid = from; pid <= last && count > 0; pid++, count--) {
		int r = pid == self ? -1 : probe_new(proc_root, pid);

		if (r == 1) {
			if (n < max)
				pids[n] = pid;
			n++;
		} else if (r == 0 && c->nr_young < NEW_MAX) {
			c->young[c->nr_young++] = (struct young){ pid, now + YOUNG_S };
		}
	}
	c->last_pid = last;
	return n;
}

int vmm_scan_cached(struct vmm_scan_cache *c, const char *proc_root, pid_t *pids, int max)
{
	struct dirent *de;
	pid_t self = getpid(), pid, last = 0;
	size_t nr = 0, hint = 0;
	bool sorted = true;
	double uptime_s = -1, now = mono_s();
	struct timespec ts;
	int n = 0;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	/* what the next vmm_scan_new() starts from: taken before the readdir, so a process
	 * created during it is looked at twice rather than never */
	c->have_last = last_pid_read(proc_root, &c->last_pid) == 0;
	c->nr_young = 0;
	/* start times count clock ticks since boot, which CLOCK_BOOTTIME measures (live /proc
	 * only: a test's fake root has no such clock, so its processes are never young) */
	if (!strcmp(proc_root, "/proc") && clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
		uptime_s = ts.tv_sec + ts.tv_nsec / 1e9;
	while ((de = readdir(d))) {
		const struct scan_entry *old;
		struct scan_entry *e;

		if (!is_pid(de->d_name, &pid) || pid == self)
			continue;
		if (nr == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 1024;
			struct scan_entry *a = realloc(c->next, cap * sizeof(*a)), *b;

			if (!a) {
				closedir(d);
				return -ENOMEM;
			}
			c->next = a;
			b = realloc(c->cur, cap * sizeof(*b));
			if (!b) {
				closedir(d);
				return -ENOMEM;
			}
			c->cur = b;
			c->cap = cap;
		}
		e = &c->next[nr++];
		old = cache_find(c, pid, &hint);
		if (old && old->ino == de->d_ino) {
			*e = *old;
			if (e->young)
				examine(proc_root, e, uptime_s, c->clk_tck, true);
		} else {
			e->pid = pid;
			e->ino = de->d_ino;
			e->told = false;
			e->comm[0] = 0;
			examine(proc_root, e, uptime_s, c->clk_tck, false);
		}
		/* young and no VMM yet (a fork before its KVM_CREATE_VM): the next looks at new
		 * pids look at it again, as they do for the pids they find themselves; the young
		 * list was emptied above and the next full scan is 10 s away */
		if (e->young && !e->vmm && c->nr_young < NEW_MAX)
			c->young[c->nr_young++] = (struct young){ pid, now + YOUNG_S };
		sorted &= pid > last;
		last = pid;
		if (e->vmm && !e->told) {
			if (n < max)
				pids[n] = pid;
			e->told = n < max;
			n++;
		}
	}
	closedir(d);
	if (!sorted)
		qsort(c->next, nr, sizeof(*c->next), entry_cmp);
	{
		struct scan_entry *t = c->cur;

		c->cur = c->next;
		c->next = t;
		c->nr_cur = nr;
	}
	return n;
}
