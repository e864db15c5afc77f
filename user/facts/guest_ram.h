/* SPDX-License-Identifier: MIT */
/* Guest RAM of a VMM for the balloon filter: from the memslots KVM reports (or QEMU's RAM
 * block list) and the process's mappings, build the sorted, merged, classified table the
 * kernel side splits discards with (struct vmmem_guest_ram). Pure functions, no I/O except
 * the two readers at the end. */
#ifndef VMMEM_GUEST_RAM_H
#define VMMEM_GUEST_RAM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "vmmem.h"

#define GR_MAX_VMAS	65536	/* /proc/PID/maps lines read; vm.max_map_count's default */
#define GR_MAX_SPANS	1024	/* memslots (all address spaces and VMs of a process) */
#define GR_MAX_BLOCKS	64	/* QEMU RAM blocks */

/* One mapping of /proc/PID/maps (fs/proc/task_mmu.c show_map_vma). */
struct gr_vma {
	uint64_t start, end;
	uint64_t off;		/* file offset of start */
	uint64_t ino;
	uint32_t dev;		/* kernel dev_t: major << 20 | minor */
	bool shared;		/* 's' in the permissions: MAP_SHARED */
	bool dontcopy;		/* smaps VmFlags "dc" (MADV_DONTFORK): QEMU's RAM blocks have it */
};

/* A host virtual range that is guest RAM. */
struct gr_span {
	uint64_t start, len;
};

/* Parse one /proc/PID/maps line. Returns 0, or -EINVAL for a malformed line. */
int gr_parse_maps_line(const char *line, struct gr_vma *out);

/* Build the kernel table from guest RAM spans (any order, overlapping allowed) and the
 * process's mappings (sorted by start, as /proc lists them). A part of a span that no
 * mapping covers is left out (nothing to discard there). Returns 0, or -E2BIG when the
 * result needs more than VMMEM_GUEST_RANGES ranges or VMMEM_GUEST_FILES file ranges (the
 * table is then unusable: state stays unknown). out->gen is left alone. */
int gr_build(const struct gr_span *spans, int nr_spans, const struct gr_vma *vmas, int nr_vmas,
	     struct vmmem_guest_ram *out);

/* QEMU's RAM blocks (the max_length "Total" column of HMP `info ramblock`, softmmu/physmem.c
 * ram_block_format) matched to the process's MADV_DONTFORK mappings: ram_block_add() marks
 * each block's whole mmap()ed max_length QEMU_MADV_DONTFORK, and qemu_ram_mmap()
 * (util/mmap-alloc.c) leaves a guard page after it, so every block is one run of adjacent
 * "dc" mappings of exactly its size. Returns the number of spans (= nr_sizes), or -ENOENT
 * if some block has no run of its size or two sizes are ambiguous. */
int gr_match_ramblocks(const uint64_t *sizes, int nr_sizes, const struct gr_vma *vmas, int nr_vmas,
		       struct gr_span *out, int max);

/* HMP `info ramblock` text -> the Total of each block. Returns the count, or -EPROTO. */
int gr_parse_ramblock_text(const char *text, uint64_t *sizes, int max);

/* Read /proc/PID/maps (smaps too when want_flags: it is slower, a page walk per mapping).
 * Returns the number of mappings (allocated into *out, free() it), or negative errno. */
int gr_read_vmas(const char *proc_root, pid_t pid, bool want_flags, struct gr_vma **out);

#endif
