// SPDX-License-Identifier: MIT
/* DAMON's sysfs interface: a read-only probe, and kdamonds of vmmem's own under a tree that
 * held none. Layout and commands: mm/damon/sysfs.c (kdamonds/N/{state,pid,contexts/...}),
 * mm/damon/sysfs-schemes.c (schemes/N/{action,access_pattern,tried_regions/total_bytes}). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "damon_sysfs.h"

#define MAX_KDAMONDS 256

/* The files a running session needs stay open from its start: sysfs checks permissions at
 * open(), so a process that drops root afterwards (vmmemtop --user) still reads its kdamonds
 * and turns them off at exit. -1 where an open failed: that file is opened by path instead. */
struct damon_session {
	char root[128];
	int n;
	pid_t kpid[MAX_KDAMONDS];
	int nr_fd;				/* kdamonds/nr_kdamonds, read-write */
	int state_fd[MAX_KDAMONDS];		/* kdamonds/N/state, read-write */
	int bytes_fd[MAX_KDAMONDS][DAMON_NR_SCHEMES];	/* .../tried_regions/total_bytes */
};

static int path_of(char *buf, size_t sz, const char *root, const char *fmt, va_list ap)
{
	int k = snprintf(buf, sz, "%s/", root);

	if (k < 0 || (size_t)k >= sz)
		return -ENAMETOOLONG;
	k += vsnprintf(buf + k, sz - k, fmt, ap);
	return (size_t)k >= sz ? -ENAMETOOLONG : 0;
}

/* Open root/<fmt...>: an fd, or -errno (-ENAMETOOLONG when the path does not fit). */
static int vopen_at(const char *root, int flags, const char *fmt, va_list ap)
{
	char path[512];
	int err = path_of(path, sizeof(path), root, fmt, ap), fd;

	if (err)
		return err;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static __attribute__((format(printf, 3, 4)))
int open_at_root(const char *root, int flags, const char *fmt, ...)
{
	va_list ap;
	int fd;

	va_start(ap, fmt);
	fd = vopen_at(root, flags, fmt, ap);
	va_end(ap);
	return fd;
}

/* A sysfs attribute read from offset 0 runs its show() again (kernfs seq_file). Trailing
 * newline cut; bytes or -errno. */
static int fd_rd(int fd, char *buf, size_t sz)
{
	ssize_t n = pread(fd, buf, sz - 1, 0);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

/* Read root/<fmt...> into buf, as fd_rd(). Bytes or -errno. */
static int vrd(const char *root, char *buf, size_t sz, const char *fmt, va_list ap)
{
	int fd = vopen_at(root, O_RDONLY, fmt, ap), n;

	if (fd < 0)
		return fd;
	n = fd_rd(fd, buf, sz);
	close(fd);
	return n;
}

static __attribute__((format(printf, 4, 5)))
int rd(const char *root, char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vrd(root, buf, sz, fmt, ap);
	va_end(ap);
	return n;
}

static __attribute__((format(printf, 3, 4)))
int rd_u64(const char *root, uint64_t *out, const char *fmt, ...)
{
	char buf[32], *end;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vrd(root, buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (err < 0)
		return err;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	return (end == buf || *end || errno) ? -EINVAL : 0;
}

/* Write value as one store() call (whatever the offset). The kernel answers a state command
 * only once the kdamond handled it; -EBUSY means another command (anyone's) is in flight:
 * retried for up to 10 s. */
static int fd_wr(int fd, const char *value)
{
	for (int tries = 0;; tries++) {
		int err = pwrite(fd, value, strlen(value), 0) < 0 ? -errno : 0;

		if ((err != -EBUSY && err != -EINTR) || tries >= 100)
			return err;
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
}

/* Write value to root/<fmt...>, as fd_wr(). 0 or -errno. */
static __attribute__((format(printf, 3, 4)))
int wr(const char *root, const char *value, const char *fmt, ...)
{
	va_list ap;
	int fd, err;

	va_start(ap, fmt);
	fd = vopen_at(root, O_WRONLY, fmt, ap);
	va_end(ap);
	if (fd < 0)
		return fd;
	err = fd_wr(fd, value);
	close(fd);
	return err;
}

static int state_rd(struct damon_session *s, int i, char *buf, size_t sz)
{
	return s->state_fd[i] >= 0 ? fd_rd(s->state_fd[i], buf, sz) :
	       rd(s->root, buf, sz, "kdamonds/%d/state", i);
}

static int state_wr(struct damon_session *s, int i, const char *value)
{
	return s->state_fd[i] >= 0 ? fd_wr(s->state_fd[i], value) :
	       wr(s->root, value, "kdamonds/%d/state", i);
}

int damon_probe(const char *root, struct damon_probe *out)
{
	char buf[64];
	uint64_t n;
	int err;

	memset(out, 0, sizeof(*out));
	out->nr_kdamonds = -1;
	err = rd_u64(root, &n, "kdamonds/nr_kdamonds");
	if (err == -ENOENT) {
		out->verdict = DAMON_ABSENT;
		snprintf(out->why, sizeof(out->why), "no DAMON sysfs interface at %s "
			 "(kernel without CONFIG_DAMON_SYSFS)", root);
		return err;
	}
	if (err) {
		out->verdict = DAMON_ERROR;
		snprintf(out->why, sizeof(out->why), "cannot read %s/kdamonds/nr_kdamonds: %s%s", root,
			 strerror(-err), err == -EACCES ? " (needs root)" : "");
		return err;
	}
	out->nr_kdamonds = n > MAX_KDAMONDS ? MAX_KDAMONDS : (int)n;
	if (n == 0) {
		out->verdict = DAMON_FREE;
		snprintf(out->why, sizeof(out->why), "DAMON sysfs holds no kdamond");
		return 0;
	}
	/* Someone else's. Say what it offers: a context lists the operations this kernel has. */
	for (int i = 0; i < out->nr_kdamonds && !out->ops[0]; i++)
		if (rd(root, buf, sizeof(buf), "kdamonds/%d/contexts/0/avail_operations", i) > 0)
			snprintf(out->ops, sizeof(out->ops), "%s", buf);
	if (rd(root, buf, sizeof(buf), "kdamonds/0/state") < 0)
		snprintf(buf, sizeof(buf), "?");
	out->verdict = out->ops[0] && !strstr(out->ops, "vaddr") ? DAMON_NO_VADDR : DAMON_BUSY;
	snprintf(out->why, sizeof(out->why), "DAMON is in use: %d kdamond(s) vmmem did not set up "
		 "(kdamond 0 %s%s%s%s); vmmem never writes there (that would tear them down)",
		 out->nr_kdamonds, buf, out->ops[0] ? ", operations: " : "", out->ops,
		 out->verdict == DAMON_NO_VADDR ? "; this kernel has no vaddr operations" : "");
	return 0;
}

static int setup_one(const char *root, int i, pid_t pid, const struct damon_attrs *a, char *why,
		     size_t whysz)
{
	const char *ctx = "kdamonds/%d/contexts/0/%s";
	char v[32], ops[64] = "";
	int err;

#define W(val, file) do { \
		if ((err = wr(root, val, ctx, i, file))) { \
			snprintf(why, whysz, "DAMON: cannot write %s of kdamond %d: %s", file, i, \
				 strerror(-err)); \
			return err; \
		} \
	} while (0)
#define WU(num, file) do { snprintf(v, sizeof(v), "%lu", (unsigned long)(num)); W(v, file); } while (0)

	if ((err = wr(root, "1", "kdamonds/%d/contexts/nr_contexts", i))) {
		snprintf(why, whysz, "DAMON: cannot create a context: %s", strerror(-err));
		return err;
	}
	rd(root, ops, sizeof(ops), ctx, i, "avail_operations");
	if (!strstr(ops, "vaddr")) {
		snprintf(why, whysz, "DAMON has no virtual-address operations on this kernel "
			 "(avail_operations: %s; needs CONFIG_DAMON_VADDR)", ops[0] ? ops : "?");
		return -ENOTSUP;
	}
	W("vaddr", "operations");
	WU(a->sample_us, "monitoring_attrs/intervals/sample_us");
	WU(a->aggr_us, "monitoring_attrs/intervals/aggr_us");
	WU(a->update_us, "monitoring_attrs/intervals/update_us");
	/* max first: min may not exceed the current max (damon_sysfs_nr_regions) */
	WU(a->max_regions, "monitoring_attrs/nr_regions/max");
	WU(a->min_regions, "monitoring_attrs/nr_regions/min");
	W("1", "targets/nr_targets");
	WU(pid, "targets/0/pid_target");
	W("3", "schemes/nr_schemes");
	for (int s = 0; s < DAMON_NR_SCHEMES; s++) {
		char f[96];

		/* a range left at its default (0, 0) would match nothing: set every bound */
		snprintf(f, sizeof(f), "schemes/%d/action", s);
		W("stat", f);
		snprintf(f, sizeof(f), "schemes/%d/access_pattern/sz/max", s);
		WU(~0ul, f);
		snprintf(f, sizeof(f), "schemes/%d/access_pattern/nr_accesses/min", s);
		WU(s == DAMON_HOT ? 1 : 0, f);
		snprintf(f, sizeof(f), "schemes/%d/access_pattern/nr_accesses/max", s);
		WU(s == DAMON_HOT ? ~0ul : 0, f);
		snprintf(f, sizeof(f), "schemes/%d/access_pattern/age/min", s);
		WU(s == DAMON_COLD ? a->warm_max_age + 1 : 0, f);
		snprintf(f, sizeof(f), "schemes/%d/access_pattern/age/max", s);
		WU(s == DAMON_WARM ? a->warm_max_age : ~0ul, f);
	}
#undef WU
#undef W
	return 0;
}

int damon_session_start(const char *root, const pid_t *pids, int n, const struct damon_attrs *a,
			struct damon_session **out, char *why, size_t whysz)
{
	struct damon_probe p;
	struct damon_session *s;
	char v[16], buf[32];
	int err;

	*out = NULL;
	if (n <= 0 || n > MAX_KDAMONDS) {
		snprintf(why, whysz, "DAMON: %d processes to monitor (1..%d)", n, MAX_KDAMONDS);
		return -EINVAL;
	}
	damon_probe(root, &p);
	if (p.verdict != DAMON_FREE) {
		snprintf(why, whysz, "%s", p.why);
		return p.verdict == DAMON_BUSY ? -EBUSY : p.verdict == DAMON_NO_VADDR ? -ENOTSUP : -ENOENT;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	snprintf(s->root, sizeof(s->root), "%s", root);
	s->nr_fd = open_at_root(root, O_RDWR, "kdamonds/nr_kdamonds");
	for (int i = 0; i < MAX_KDAMONDS; i++) {
		s->state_fd[i] = -1;
		for (int k = 0; k < DAMON_NR_SCHEMES; k++)
			s->bytes_fd[i][k] = -1;
	}
	snprintf(v, sizeof(v), "%d", n);
	if ((err = wr(root, v, "kdamonds/nr_kdamonds"))) {
		snprintf(why, whysz, "DAMON: cannot create kdamonds: %s", strerror(-err));
		if (s->nr_fd >= 0)
			close(s->nr_fd);
		free(s);
		return err;
	}
	s->n = n;
	for (int i = 0; i < n; i++) {
		s->kpid[i] = -1;
		if ((err = setup_one(root, i, pids[i], a, why, whysz)))
			goto undo;
		s->state_fd[i] = open_at_root(root, O_RDWR, "kdamonds/%d/state", i);
		for (int k = 0; k < DAMON_NR_SCHEMES; k++)
			s->bytes_fd[i][k] = open_at_root(root, O_RDONLY,
				"kdamonds/%d/contexts/0/schemes/%d/tried_regions/total_bytes", i, k);
	}
	for (int i = 0; i < n; i++) {
		if ((err = state_wr(s, i, "on"))) {
			snprintf(why, whysz, "DAMON: cannot start the kdamond of pid %d: %s", (int)pids[i],
				 strerror(-err));
			goto undo;
		}
		if (rd(root, buf, sizeof(buf), "kdamonds/%d/pid", i) > 0)
			s->kpid[i] = (pid_t)atoi(buf);
	}
	*out = s;
	return 0;
undo:
	damon_session_stop(s);
	return err;
}

int damon_session_read(struct damon_session *s, int i, uint64_t bytes[DAMON_NR_SCHEMES])
{
	char buf[16];
	int err;

	if (i < 0 || i >= s->n)
		return -EINVAL;
	if (state_rd(s, i, buf, sizeof(buf)) < 0 || strcmp(buf, "on"))
		return -ESRCH;	/* a vaddr kdamond ends itself when its process is gone */
	err = state_wr(s, i, "update_schemes_tried_bytes");
	if (err)
		return err == -EINVAL ? -ESRCH : err;
	for (int k = 0; k < DAMON_NR_SCHEMES; k++) {
		char num[32], *end;

		if (s->bytes_fd[i][k] < 0) {
			if ((err = rd_u64(s->root, &bytes[k],
					  "kdamonds/%d/contexts/0/schemes/%d/tried_regions/total_bytes", i, k)))
				return err;
			continue;
		}
		if ((err = fd_rd(s->bytes_fd[i][k], num, sizeof(num))) < 0)
			return err;
		errno = 0;
		bytes[k] = strtoull(num, &end, 10);
		if (end == num || *end || errno)
			return -EINVAL;
	}
	return 0;
}

pid_t damon_session_kdamond_pid(struct damon_session *s, int i)
{
	return i >= 0 && i < s->n ? s->kpid[i] : -1;
}

void damon_session_stop(struct damon_session *s)
{
	uint64_t now = 0;

	if (!s)
		return;
	for (int i = 0; i < s->n; i++)
		state_wr(s, i, "off");
	for (int i = 0; i < MAX_KDAMONDS; i++) {
		if (s->state_fd[i] >= 0)
			close(s->state_fd[i]);
		for (int k = 0; k < DAMON_NR_SCHEMES; k++)
			if (s->bytes_fd[i][k] >= 0)
				close(s->bytes_fd[i][k]);
	}
	/* Remove ours only while the tree holds nothing else: a count written lower destroys
	 * every kdamond, and one set up after ours would go with them. */
	if (s->nr_fd >= 0) {
		char buf[32];

		if (fd_rd(s->nr_fd, buf, sizeof(buf)) > 0 && strtoull(buf, NULL, 10) == (uint64_t)s->n)
			fd_wr(s->nr_fd, "0");
		close(s->nr_fd);
	} else if (!rd_u64(s->root, &now, "kdamonds/nr_kdamonds") && now == (uint64_t)s->n) {
		wr(s->root, "0", "kdamonds/nr_kdamonds");
	}
	free(s);
}
