/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * How a guest RAM table (struct vmmem_guest_ram, vmmem.h) is built from the pieces of a VM's
 * memslots cut along the VMAs that back them: one copy of the rules for both builders,
 * vmmem.ko (kmod/vmmem_guest_ram.c, from KVM's memslots and the mm's VMAs) and user space
 * (user/facts/guest_ram.c, from QEMU's RAM blocks and /proc/PID/maps). Static inline C that
 * builds in the kernel (5.10 to 6.12 headers) and in user space alike: no allocation, no
 * libc beyond the sort, which each side names (sort() or qsort()).
 */
#ifndef _UAPI_VMMEM_GUEST_RAM_BUILD_H
#define _UAPI_VMMEM_GUEST_RAM_BUILD_H

#include "vmmem.h"

#ifdef __KERNEL__
#include <linux/sort.h>
#include <linux/string.h>
#define GR_SORT(base, n, cmp)	sort(base, n, sizeof(*(base)), cmp, NULL)
#else
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define GR_SORT(base, n, cmp)	qsort(base, n, sizeof(*(base)), cmp)
#endif

/* One stretch of guest RAM with a single backing: [start, end) of the VMM's address space,
 * at file offset off of (dev, ino) (0: anonymous), shared or private mapping. */
struct gr_piece {
	__u64 start, end, off, ino;
	__u32 dev;		/* kernel dev_t, as /proc/PID/maps shows it */
	bool shared;
};

static inline int gr_cmp_piece(const void *a, const void *b)
{
	const struct gr_piece *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static inline int gr_cmp_file(const void *a, const void *b)
{
	const struct vmmem_guest_file *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off ? 1 : 0;
}

/*
 * Build t (zeroed first, gen included) from the np pieces p (sorted here): aliases (SMM
 * address space, isa-bios, two VMs of one process) that cover a mapping again are dropped,
 * adjacent ranges of one kind (shared or not) joined; the file ranges of shared mappings are
 * gathered in files (max_files entries, sorted here), overlaps (one file mapped twice) merged
 * and adjacent ones joined. False when t or files has no room (t is then partial).
 */
static inline bool gr_table_build(struct gr_piece *p, int np, struct vmmem_guest_file *files,
				  int max_files, struct vmmem_guest_ram *t)
{
	int i, nr = 0, nf = 0;

	if (np)
		GR_SORT(p, np, gr_cmp_piece);
	memset(t, 0, sizeof(*t));
	for (i = 0; i < np; i++) {
		struct vmmem_guest_range *last = nr ? &t->r[nr - 1] : NULL;
		__u64 start = p[i].start;

		if (last && start < last->start + last->len)
			start = last->start + last->len;
		if (start >= p[i].end)
			continue;
		if (p[i].shared && p[i].ino) {
			if (nf == max_files)
				return false;
			files[nf++] = (struct vmmem_guest_file){ .ino = p[i].ino, .dev = p[i].dev,
				.off = p[i].off + (start - p[i].start), .len = p[i].end - start };
		}
		if (last && start == last->start + last->len &&
		    !!(last->flags & VMMEM_GR_SHARED) == p[i].shared) {
			last->len += p[i].end - start;
			continue;
		}
		if (nr == VMMEM_GUEST_RANGES)
			return false;
		t->r[nr++] = (struct vmmem_guest_range){ .start = start, .len = p[i].end - start,
							 .flags = p[i].shared ? VMMEM_GR_SHARED : 0 };
	}
	if (nf)
		GR_SORT(files, nf, gr_cmp_file);
	for (i = 0; i < nf; i++) {
		struct vmmem_guest_file *last = t->nr_files ? &t->f[t->nr_files - 1] : NULL;

		if (last && last->dev == files[i].dev && last->ino == files[i].ino &&
		    files[i].off <= last->off + last->len) {
			__u64 end = files[i].off + files[i].len;

			if (end > last->off + last->len)
				last->len = end - last->off;
			continue;
		}
		if (t->nr_files == VMMEM_GUEST_FILES)
			return false;
		t->f[t->nr_files++] = files[i];
	}
	t->nr = nr;
	t->state = VMMEM_GR_KNOWN;
	return true;
}

#endif
