// SPDX-License-Identifier: MIT
/* A VMM's own cgroup (v2) and its memory.stat: per-VM swap and fault counts that need no
 * tracing, exact where the VMM runs alone in a cgroup (libvirt's machine-qemu...scope,
 * systemd-run --scope, a container of its own). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm_info.h"

static void kv(const char *text, const char *key, struct opt_u64 *v)
{
	size_t n = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		unsigned long long x;
		char *end;

		if (strncmp(line, key, n) || line[n] != ' ')
			continue;
		errno = 0;
		x = strtoull(line + n + 1, &end, 10);
		if (errno || end == line + n + 1 || line[n + 1] == '-' || (*end && *end != '\n'))
			return;
		v->v = x;
		v->present = true;
		return;
	}
}

void cgroup_memory_stat_parse(const char *text, struct vmm_cgroup *out)
{
	out->pswpin = out->pswpout = out->pgmajfault = out->workingset_refault_anon = (struct opt_u64){ 0 };
	kv(text, "pswpin", &out->pswpin);
	kv(text, "pswpout", &out->pswpout);
	kv(text, "pgmajfault", &out->pgmajfault);
	kv(text, "workingset_refault_anon", &out->workingset_refault_anon);
}

int proc_cgroup_parse(const char *text, char *path, size_t sz)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end;
		size_t n;

		if (strncmp(line, "0::/", 4))
			continue;
		end = strchr(line, '\n');
		n = end ? (size_t)(end - line - 3) : strlen(line + 3);
		if (n == 0 || n >= sz)
			return -EINVAL;
		memcpy(path, line + 3, n);
		path[n] = 0;
		return 0;
	}
	return -EINVAL;
}

/* Where cgroup2 is mounted (/sys/fs/cgroup on systemd hosts), from /proc/self/mountinfo. */
static const char *cgroup2_root(void)
{
	static char root[256];
	static int done;
	char line[512], mnt[256], fstype[32];
	FILE *f;

	if (done)
		return root[0] ? root : NULL;
	done = 1;
	f = fopen("/proc/self/mountinfo", "r");
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - ");

		/* id parent major:minor root mountpoint options... - fstype source super */
		if (!sep || sscanf(sep, " - %31s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1 && strlen(mnt) < sizeof(root)) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return root[0] ? root : NULL;
}

/* True if the cgroup's cgroup.procs lists pid and no other process. */
static bool alone_in(const char *dir, pid_t pid)
{
	char path[800], buf[4096];
	long first;
	char *end;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return false;
	first = strtol(buf, &end, 10);
	return first == pid && *end == '\n' && end[1] == 0;
}

void vmm_cgroup_read(const char *proc_root, pid_t pid, struct vmm_info *out)
{
	struct vmm_cgroup *cg = &out->cgroup;
	const char *root = cgroup2_root();
	char path[700], buf[8192], rel[160];
	struct opt_u64 swap = { 0 };
	char *end;

	memset(cg, 0, sizeof(*cg));
	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root, (int)pid);
	if (!root || read_small_file(path, buf, sizeof(buf)) <= 0 || proc_cgroup_parse(buf, rel, sizeof(rel)))
		return;
	if (!strcmp(rel, "/"))
		return;		/* the root cgroup is the whole host */
	snprintf(path, sizeof(path), "%s%s", root, rel);
	if (!alone_in(path, pid))
		return;		/* its counts would be other processes' too */
	snprintf(cg->path, sizeof(cg->path), "%s", rel);
	cg->own = true;
	snprintf(path, sizeof(path), "%s%s/memory.stat", root, rel);
	if (read_small_file(path, buf, sizeof(buf)) > 0)
		cgroup_memory_stat_parse(buf, cg);
	snprintf(path, sizeof(path), "%s%s/memory.swap.current", root, rel);
	if (read_small_file(path, buf, sizeof(buf)) > 0) {
		errno = 0;
		swap.v = strtoull(buf, &end, 10);
		swap.present = !errno && end != buf && (*end == '\n' || !*end);
	}
	cg->swap_current = swap;
}
