/* SPDX-License-Identifier: MIT */
/* DAMON's sysfs interface (mm/damon/sysfs.c, sysfs-schemes.c): whether vmmem may use it, and
 * one kdamond of vmmem's own per monitored process. Writes happen only under a tree that had
 * no kdamond at all when vmmem looked: writing nr_kdamonds tears down every kdamond someone
 * else set up, so a tree with any is left alone (read only) and the figure is unavailable. */
#ifndef VMMEM_DAMON_SYSFS_H
#define VMMEM_DAMON_SYSFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#define DAMON_SYSFS_ROOT "/sys/kernel/mm/damon/admin"

enum damon_verdict {
	DAMON_FREE,		/* the interface is there and holds no kdamond: vmmem may set up its own */
	DAMON_ABSENT,		/* no sysfs interface (CONFIG_DAMON_SYSFS off, or sysfs not mounted) */
	DAMON_BUSY,		/* kdamonds that vmmem did not set up: never touched */
	DAMON_NO_VADDR,		/* the kernel has no virtual-address operations */
	DAMON_ERROR,		/* unreadable (not root, malformed file) */
};

struct damon_probe {
	enum damon_verdict verdict;
	int nr_kdamonds;		/* -1 unknown */
	char ops[64];			/* avail_operations seen in an existing kdamond's context, or "" */
	char why[320];			/* one line: what was found, for -v and the JSON "reason" */
};

/* Look, read only, at the DAMON sysfs tree under root (DAMON_SYSFS_ROOT live). 0 or -errno
 * (the verdict says why either way). */
int damon_probe(const char *root, struct damon_probe *out);

/* Monitoring attributes of each kdamond (mm/damon/core.c kdamond_fn): a region's nr_accesses
 * counts the samples in which its sampled page was accessed during one aggregation. */
struct damon_attrs {
	unsigned long sample_us, aggr_us, update_us;
	unsigned long min_regions, max_regions;
	unsigned long warm_max_age;	/* aggregations: a region idle for fewer counts as warm */
};

/* One kdamond per pid (sysfs offers one context per kdamond, and a scheme's tried regions do
 * not say which target they belong to), each with three DAMOS "stat" schemes (no action):
 *   0 hot:  nr_accesses >= 1 (accessed during the last aggregation);
 *   1 warm: nr_accesses == 0 and age <= warm_max_age (idle, but for less than the window);
 *   2 cold: nr_accesses == 0 and age > warm_max_age (idle for longer than the window).
 * Only when damon_probe() says DAMON_FREE. On failure nothing of vmmem's is left and why says
 * what went wrong (-ENOTSUP: this kernel has no "vaddr" operations). */
struct damon_session;
int damon_session_start(const char *root, const pid_t *pids, int n, const struct damon_attrs *a,
			struct damon_session **out, char *why, size_t whysz);

#define DAMON_NR_SCHEMES 3
enum { DAMON_HOT, DAMON_WARM, DAMON_COLD };

/* Bytes of kdamond i's regions each scheme matched at its last application
 * (tried_regions/total_bytes after "update_schemes_tried_bytes"; the write returns once the
 * kdamond applied its schemes again, up to two aggregation intervals). 0, or -ESRCH when that
 * kdamond stopped (its process exited), or another -errno. */
int damon_session_read(struct damon_session *s, int i, uint64_t bytes[DAMON_NR_SCHEMES]);

/* The kdamond thread's pid (for its CPU time), or -1. */
pid_t damon_session_kdamond_pid(struct damon_session *s, int i);

/* Turn every kdamond of the session off and remove them (nr_kdamonds 0). */
void damon_session_stop(struct damon_session *s);

#endif
