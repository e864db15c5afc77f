// SPDX-License-Identifier: MIT
/* Guest RAM table for the balloon filter (see guest_ram.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest_ram.h"
#include "vmmem_guest_ram_build.h"

int gr_parse_maps_line(const char *line, struct gr_vma *out)
{
	unsigned long long start, end, off, ino;
	unsigned int maj, min;
	char perms[8];
	int n = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu%n", &start, &end, perms, &off, &maj, &min, &ino, &n) != 7 ||
	    start >= end || strlen(perms) != 4 || maj > 0xfff || min > 0xfffff)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->start = start;
	out->end = end;
	out->off = off;
	out->ino = ino;
	out->dev = maj << 20 | min;	/* include/linux/kdev_t.h MKDEV */
	out->shared = perms[3] == 's';
	return 0;
}

int gr_build(const struct gr_span *spans, int nr_spans, const struct gr_vma *vmas, int nr_vmas,
	     struct vmmem_guest_ram *out)
{
	struct gr_piece *p;
	struct vmmem_guest_file files[VMMEM_GUEST_FILES * 4];
	int np = 0, cap = 0, ret = 0;
	uint64_t gen = out->gen;

	p = NULL;
	/* cut every span along the mappings: a piece has one backing */
	for (int s = 0; s < nr_spans; s++) {
		uint64_t a = spans[s].start, b = spans[s].start + spans[s].len;

		if (b <= a)
			continue;
		for (int v = 0; v < nr_vmas; v++) {
			uint64_t lo = vmas[v].start > a ? vmas[v].start : a;
			uint64_t hi = vmas[v].end < b ? vmas[v].end : b;

			if (lo >= hi)
				continue;
			if (np == cap) {
				struct gr_piece *q = realloc(p, (cap = cap ? cap * 2 : 64) * sizeof(*p));

				if (!q) {
					free(p);
					return -ENOMEM;
				}
				p = q;
			}
			p[np++] = (struct gr_piece){ lo, hi, vmas[v].off + (lo - vmas[v].start), vmas[v].ino,
						  vmas[v].dev, vmas[v].shared };
		}
	}
	/* the rules vmmem.ko's table follows too */
	if (!gr_table_build(p, np, files, sizeof(files) / sizeof(files[0]), out)) {
		memset(out, 0, sizeof(*out));
		ret = -E2BIG;
	}
	out->gen = gen;
	free(p);
	return ret;
}

int gr_match_ramblocks(const uint64_t *sizes, int nr_sizes, const struct gr_vma *vmas, int nr_vmas,
		       struct gr_span *out, int max)
{
	struct gr_span runs[GR_MAX_BLOCKS * 2];
	bool used[GR_MAX_BLOCKS * 2] = { false };
	int nr_runs = 0;

	if (nr_sizes <= 0 || nr_sizes > max)
		return -ENOENT;
	for (int v = 0; v < nr_vmas; v++) {
		if (!vmas[v].dontcopy)
			continue;
		if (nr_runs && runs[nr_runs - 1].start + runs[nr_runs - 1].len == vmas[v].start) {
			runs[nr_runs - 1].len += vmas[v].end - vmas[v].start;
			continue;
		}
		if (nr_runs == (int)(sizeof(runs) / sizeof(runs[0])))
			return -ENOENT;
		runs[nr_runs++] = (struct gr_span){ vmas[v].start, vmas[v].end - vmas[v].start };
	}
	for (int b = 0; b < nr_sizes; b++) {
		int want = 0, have = 0, pick = -1;

		for (int k = 0; k < nr_sizes; k++)
			want += sizes[k] == sizes[b];
		for (int r = 0; r < nr_runs; r++)
			if (runs[r].len == sizes[b]) {
				have++;
				if (!used[r] && pick < 0)
					pick = r;
			}
		/* more runs of this size than blocks: which ones are RAM is a guess */
		if (pick < 0 || have != want)
			return -ENOENT;
		used[pick] = true;
		out[b] = runs[pick];
	}
	return nr_sizes;
}

int gr_parse_ramblock_text(const char *text, uint64_t *sizes, int max)
{
	const char *line = text;
	int n = 0;
	bool header = false;

	while (line && *line) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char buf[512], *tok[16], *save = NULL;
		int nt = 0;

		if (len >= sizeof(buf))
			return -EPROTO;
		memcpy(buf, line, len);
		buf[len] = 0;
		line = nl ? nl + 1 : NULL;
		for (char *t = strtok_r(buf, " \t\r", &save); t && nt < 16; t = strtok_r(NULL, " \t\r", &save))
			tok[nt++] = t;
		if (!nt)
			continue;
		if (!header) {
			/* "Block Name PSize Offset Used Total" (QEMU 7.2 softmmu/physmem.c) */
			if (nt < 6 || strcmp(tok[nt - 1], "Total") || strcmp(tok[nt - 2], "Used"))
				return -EPROTO;
			header = true;
			continue;
		}
		/* NAME PSIZE UNIT 0xOFFSET 0xUSED 0xTOTAL */
		if (nt < 6 || strncmp(tok[nt - 1], "0x", 2) || strncmp(tok[nt - 2], "0x", 2) ||
		    strncmp(tok[nt - 3], "0x", 2))
			return -EPROTO;
		{
			char *end;
			unsigned long long v;

			errno = 0;
			v = strtoull(tok[nt - 1] + 2, &end, 16);
			if (errno || *end || !v || end == tok[nt - 1] + 2)
				return -EPROTO;
			if (n == max)
				return -E2BIG;
			sizes[n++] = v;
		}
	}
	return header ? n : -EPROTO;
}

int gr_read_vmas(const char *proc_root, pid_t pid, bool want_flags, struct gr_vma **out)
{
	char path[256], line[1024];
	struct gr_vma *v = NULL;
	int n = 0, cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d/%s", proc_root, (int)pid, want_flags ? "smaps" : "maps");
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct gr_vma m;

		if (want_flags && !strncmp(line, "VmFlags:", 8)) {
			if (n && strstr(line, " dc"))
				v[n - 1].dontcopy = true;
			continue;
		}
		if (gr_parse_maps_line(line, &m))
			continue;	/* smaps field lines */
		if (n == GR_MAX_VMAS)
			break;
		if (n == cap) {
			struct gr_vma *q = realloc(v, (cap = cap ? cap * 2 : 256) * sizeof(*v));

			if (!q) {
				free(v);
				fclose(f);
				return -ENOMEM;
			}
			v = q;
		}
		v[n++] = m;
	}
	fclose(f);
	*out = v;
	return n;
}
