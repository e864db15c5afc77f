/* SPDX-License-Identifier: GPL-2.0 */
/* Guest RAM of each VMM, for the balloon counters: which bytes of a discard fall inside the
 * VM's memory and free memory there (balloon_inflate_bytes), and which are the VMM's own
 * (vmm_own_discard_bytes). The table per VMM slot is written by user space
 * (user/source/source_bpf.c, from the kvm-vm iterator in bpf/guest_ram.bpf.c or QEMU's RAM block
 * list) already
 * sorted, merged and classified, so the hot path is one bounded pass over it. Only VMM
 * threads get here: the tgid array filter has run first. */
#ifndef VMMEM_GUEST_RAM_BPF_H
#define VMMEM_GUEST_RAM_BPF_H

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VMMEM_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vmmem_guest_ram);
} guest_ram SEC(".maps");

static __always_inline struct vmmem_guest_ram *guest_ram_of_current(void)
{
	struct vmmem_guest_ram *g = slot_elem(&guest_ram, current_tgid());

	if (!g || g->state != VMMEM_GR_KNOWN)
		return NULL;
	return g;
}

/* Bytes of [start, start+len) inside [s, e). */
static __always_inline __u64 range_overlap(__u64 start, __u64 len, __u64 s, __u64 e)
{
	__u64 lo = start > s ? start : s;
	__u64 hi = start + len < e ? start + len : e;

	return lo < hi ? hi - lo : 0;
}

/* Bytes of [s, s+len) inside guest RAM (*inside), and returned: of those, the bytes inside
 * ranges whose shared flag equals want_shared; want_shared < 0 takes every range. The
 * ranges are disjoint (user space merged them), so the overlaps simply add up. */
static __noinline __u64 guest_split_hva(struct vmmem_guest_ram *g, __u64 s, __u64 len, int want_shared,
					__u64 *inside)
{
	__u64 e = s + len, in = 0, fr = 0;
	__u32 n = g->nr;
	int i;

	for (i = 0; i < VMMEM_GUEST_RANGES; i++) {
		__u64 part;

		if (i >= n)
			break;
		part = range_overlap(g->r[i].start, g->r[i].len, s, e);
		in += part;
		if (want_shared < 0 || !!(g->r[i].flags & VMMEM_GR_SHARED) == want_shared)
			fr += part;
	}
	*inside = in;
	return fr;
}

/* Bytes of the file range [off, off+len) of (dev, ino) that back guest RAM. */
static __noinline __u64 guest_split_file(struct vmmem_guest_ram *g, __u32 dev, __u64 ino, __u64 off, __u64 len)
{
	__u64 e = off + len, in = 0;
	__u32 n = g->nr_files;
	int i;

	for (i = 0; i < VMMEM_GUEST_FILES; i++) {
		if (i >= n)
			break;
		if (g->f[i].ino == ino && g->f[i].dev == dev)
			in += range_overlap(g->f[i].off, g->f[i].len, off, e);
	}
	return in;
}

/* The identity of a file as /proc/PID/maps shows it (fs/proc/task_mmu.c show_map_vma:
 * inode->i_sb->s_dev and inode->i_ino). */
static __always_inline void file_identity(struct file *file, __u32 *dev, __u64 *ino)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	*dev = BPF_CORE_READ(inode, i_sb, s_dev);
	*ino = BPF_CORE_READ(inode, i_ino);
}

/* The struct file behind fd in the current task (fs/file.c files_lookup_fd_raw, without
 * the RCU check: a racing close at worst makes the read fail, and the discard counts as
 * the VMM's own). */
static __always_inline struct file *current_fd_file(int fd)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;
	unsigned int max;

	if (!fdt || fd < 0)
		return NULL;
	max = BPF_CORE_READ(fdt, max_fds);
	if ((unsigned int)fd >= max)
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]))
		return NULL;
	return f;
}

#endif
