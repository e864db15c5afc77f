// SPDX-License-Identifier: GPL-2.0
/*
 * Function-boundary hooks, as kretprobes: the VMM's discards of guest RAM (balloon
 * inflate/deflate, and their duration) and the time a TLB shootdown costs its sender.
 *
 * The discards are hooked on the functions, not the syscall tracepoints: enabling any
 * syscall tracepoint moves every thread on the host to the syscall slow path, while a
 * kretprobe costs only callers of the function.  The entry handler rejects every process
 * that is not a counted VMM at once, so their calls never take a return instance.
 */
#include <linux/fs.h>
#include <linux/falloc.h>
#include <linux/kprobes.h>
#include <linux/mman.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/timekeeping.h>
#include "vmmem_internal.h"

struct call {
	u64 start_ns;
	u64 len;
	u64 start;		/* madvise: address; fallocate: file offset */
	struct file *file;	/* fallocate: the file, alive until the call returns */
	int op;		/* madvise behavior or fallocate mode */
};

/* Entry: note the call of a VMM thread (0), or skip its return (non-zero). */
static int begin(struct kretprobe_instance *ri, u64 len, int op)
{
	struct call *c = (struct call *)ri->data;

	if (!vmmem_slot_find(current->tgid))
		return 1;
	c->start_ns = ktime_get_ns();
	c->len = len;
	c->op = op;
	return 0;
}

/* bytes: the part of the call inside guest RAM that frees (or re-requests) memory */
static void count_discard(struct vmmem_slot *s, const struct call *c, int counter, u64 bytes, u32 op_tag)
{
	u64 d = ktime_get_ns() - c->start_ns;

	vmmem_vm_add(s, counter, bytes);
	if (counter == VMMEM_C_balloon_inflate_bytes)
		vmmem_hist_add(s, VMMEM_HIST_balloon_discard_ns, d);
	vmmem_event_emit(VMMEM_EV_balloon, current->tgid, bytes, op_tag, d);
}

/* mm/madvise.c: int do_madvise(struct mm_struct *mm, unsigned long start, size_t len_in, int behavior) */
static int madvise_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct call *c = (struct call *)ri->data;

	c->start = regs_get_kernel_argument(regs, 1);
	return begin(ri, regs_get_kernel_argument(regs, 2), (int)regs_get_kernel_argument(regs, 3));
}

static int madvise_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct call *c = (const struct call *)ri->data;
	u64 inside, freeing;
	struct vmmem_slot *s;

	if (regs_return_value(regs) != 0)
		return 0;
	s = vmmem_slot_find(current->tgid);
	if (!s)
		return 0;
	/* split along guest RAM as bpf/vmmem.bpf.c balloon_madvise() does: MADV_REMOVE frees
	 * shared guest RAM, DONTNEED/FREE private; the rest is the VMM's own */
	switch (c->op) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
	case MADV_REMOVE:
		if (!vmmem_guest_ram_split(s, c->start, c->len, c->op == MADV_REMOVE, &inside, &freeing))
			break;
		vmmem_vm_add(s, VMMEM_C_vmm_own_discard_bytes, c->len - inside);
		if (freeing)
			count_discard(s, c, VMMEM_C_balloon_inflate_bytes, freeing, c->op);
		break;
	case MADV_WILLNEED:
		if (vmmem_guest_ram_split(s, c->start, c->len, -1, &inside, &freeing) && inside)
			count_discard(s, c, VMMEM_C_balloon_deflate_bytes, inside, c->op);
		break;
	}
	return 0;
}

/* fs/open.c: int vfs_fallocate(struct file *file, int mode, loff_t offset, loff_t len) */
static int fallocate_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	int mode = (int)regs_get_kernel_argument(regs, 1);

	struct call *c = (struct call *)ri->data;

	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		return 1;
	c->file = (struct file *)regs_get_kernel_argument(regs, 0);
	c->start = regs_get_kernel_argument(regs, 2);
	return begin(ri, regs_get_kernel_argument(regs, 3), mode);
}

static int fallocate_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct call *c = (const struct call *)ri->data;
	struct vmmem_slot *s;
	u64 inside;

	if (regs_return_value(regs) != 0)
		return 0;
	s = vmmem_slot_find(current->tgid);
	if (!s || !vmmem_guest_ram_split_file(s, c->file, c->start, c->len, &inside))
		return 0;
	vmmem_vm_add(s, VMMEM_C_vmm_own_discard_bytes, c->len - inside);
	if (inside)
		count_discard(s, c, VMMEM_C_balloon_inflate_bytes, inside, 0x100 | c->op);
	return 0;
}

/* arch/x86/mm/tlb.c: void flush_tlb_mm_range(mm, start, end, stride_shift, freed_tables) */
static int tlb_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return begin(ri, 0, 0);
}

static int tlb_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct call *c = (const struct call *)ri->data;
	struct vmmem_slot *s = vmmem_slot_find(current->tgid);

	if (s)
		vmmem_hist_add(s, VMMEM_HIST_tlb_shootdown_ns, ktime_get_ns() - c->start_ns);
	return 0;
}

#define C(x)	BIT_ULL(VMMEM_C_##x)
#define H(x)	BIT_ULL(VMMEM_HIST_##x)
#define HOOK(fn, entry, ret, c, h) VMMEM_KRETPROBE(fn, entry, ret, sizeof(struct call), c, 0, h, 0)

static struct vmmem_hook hooks[] = {
	HOOK("do_madvise", madvise_entry, madvise_return,
	     C(balloon_inflate_bytes) | C(balloon_deflate_bytes) | C(vmm_own_discard_bytes), H(balloon_discard_ns)),
	HOOK("vfs_fallocate", fallocate_entry, fallocate_return, 0, 0),
	HOOK("flush_tlb_mm_range", tlb_entry, tlb_return, 0, H(tlb_shootdown_ns)),
};
#define TLB_HOOK 2

int vmmem_kprobes_init(bool tlb_latency)
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(hooks); i++) {
		if (i == TLB_HOOK && !tlb_latency)
			continue;
		ret = vmmem_hook_register(&hooks[i]);
		if (ret)
			pr_warn(VMMEM_PFX "cannot hook %s (%d): its counters are unavailable\n",
				vmmem_hook_name(&hooks[i]), ret);
	}
	return 0;
}

void vmmem_kprobes_exit(void)
{
	vmmem_hooks_unregister(hooks, ARRAY_SIZE(hooks));
}

void vmmem_kprobes_available(u64 avail[4])
{
	vmmem_hooks_available(hooks, ARRAY_SIZE(hooks), avail);
}

u64 vmmem_kprobes_missed(void)
{
	return vmmem_hooks_missed(hooks, ARRAY_SIZE(hooks));
}
