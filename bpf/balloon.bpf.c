// SPDX-License-Identifier: GPL-2.0
/* The balloon, seen from the host: the VMM discarding guest RAM (madvise, fallocate punch
 * hole) or asking it back (MADV_WILLNEED), split along the VM's guest RAM. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"
#include "latency.bpf.h"
#include "guest_ram.bpf.h"

/* classic syscall tracepoint layouts, for the balloon fallback (--syscall-tracepoints) */
struct sys_enter_ctx {
	__u64 common;
	int nr;
	__u64 args[6];
};

struct sys_exit_ctx {
	__u64 common;
	int nr;
	long ret;
};

#define MADV_WILLNEED		3
#define MADV_DONTNEED		4
#define MADV_FREE		8
#define MADV_REMOVE		9
#define MADV_DONTNEED_LOCKED	24
#define FALLOC_FL_PUNCH_HOLE	0x02

/*
 * A discard splits along the VM's guest RAM (bpf/guest_ram.bpf.h): what frees guest memory
 * for its backing is balloon_inflate_bytes, what lies outside guest RAM is
 * vmm_own_discard_bytes, and the rest (MADV_DONTNEED of shared guest RAM) is QEMU's second
 * half of a discard whose PUNCH_HOLE already counted: ram_block_discard_range()
 * (softmmu/physmem.c, QEMU 7.2) punches the file, then madvise(MADV_DONTNEED)s the mapping,
 * which frees nothing more. A VMM whose guest RAM is not known counts nothing here: user
 * space reports its balloon counters as unavailable.
 * dur_ns is 0 where the hook gives no start time.
 */
/* A discard of len bytes, inside of them in guest RAM and freeing of those freeing guest
 * memory: the counts and the record of both discard calls. how is the record's b: the
 * madvise behavior, or 0x100 | the fallocate mode. */
static __always_inline void count_discard(struct vmmem_vm_counters *c, __u64 len, __u64 inside,
					  __u64 freeing, __u64 how, __u64 dur_ns)
{
	c->c[VMMEM_C_vmm_own_discard_bytes] += len - inside;
	if (!freeing)
		return;
	c->c[VMMEM_C_balloon_inflate_bytes] += freeing;
	if (dur_ns)
		vm_hist_add(current_tgid(), VMMEM_HIST_balloon_discard_ns, dur_ns);
	emit_timed_event(VMMEM_EV_balloon, current_tgid(), freeing, how, dur_ns);
}

static __always_inline void balloon_madvise(__u64 start, __u64 len, int behavior, __u64 dur_ns)
{
	struct vmmem_vm_counters *c = current_vm();
	struct vmmem_guest_ram *g;
	__u64 inside = 0, freeing = 0;

	if (!c)
		return;
	switch (behavior) {
	case MADV_DONTNEED:
	case MADV_DONTNEED_LOCKED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_WILLNEED:
		break;
	default:
		return;
	}
	g = guest_ram_of_current();
	if (!g)
		return;
	/* MADV_REMOVE frees shared memory (mm/madvise.c madvise_remove: it punches the file);
	 * DONTNEED/FREE free private memory; WILLNEED asks any guest RAM back */
	freeing = guest_split_hva(g, start, len, behavior == MADV_WILLNEED ? -1 : behavior == MADV_REMOVE, &inside);
	if (behavior == MADV_WILLNEED) {
		if (!inside)
			return;
		c->c[VMMEM_C_balloon_deflate_bytes] += inside;
		emit_timed_event(VMMEM_EV_balloon, current_tgid(), inside, behavior, dur_ns);
		return;
	}
	count_discard(c, len, inside, freeing, behavior, dur_ns);
}

static __always_inline void balloon_fallocate(struct file *file, __u64 off, __u64 len, int mode, __u64 dur_ns)
{
	struct vmmem_vm_counters *c;
	struct vmmem_guest_ram *g;
	__u64 ino = 0, inside = 0;
	__u32 dev = 0;

	if (!(mode & FALLOC_FL_PUNCH_HOLE))
		return;
	c = current_vm();
	if (!c)
		return;
	g = guest_ram_of_current();
	if (!g)
		return;
	if (file) {
		file_identity(file, &dev, &ino);
		inside = guest_split_file(g, dev, ino, off, len);
	}
	/* a hole punched in guest RAM's file frees all of it */
	count_discard(c, len, inside, inside, 0x100 | mode, dur_ns);
}

/* the start of a discard, by thread (bpf/latency.bpf.h) */
struct span_map discard_start SEC(".maps");

int BPF_PROG(madvise_fentry)
{
	span_begin(&discard_start);
	return 0;
}

int BPF_PROG(fallocate_fentry)
{
	span_begin(&discard_start);
	return 0;
}

/* fexit sees the return value without switching every thread to the syscall slow path */
int BPF_PROG(madvise_fexit, struct mm_struct *mm, unsigned long start, size_t len_in,
	     int behavior, int ret)
{
	if (ret == 0)
		balloon_madvise(start, len_in, behavior, span_end(&discard_start));
	return 0;
}

/*
 * The madvise() syscall itself (x86-64's syscall wrapper, arch/x86/include/asm/syscall_wrapper.h:
 * __x64_sys_madvise(const struct pt_regs *regs), arguments in the user registers). Preferred
 * to do_madvise(): on 5.10 the syscall path does not call an out-of-line do_madvise() (its
 * fexit attaches, yet never fires for madvise(2)), so only the syscall's own function is
 * sure to see every call. A trampoline on this one function, not the syscall slow path.
 */
int BPF_PROG(madvise_sys_fentry)
{
	span_begin(&discard_start);
	return 0;
}

/* The regs pointer is read with a helper, not from ctx: 5.10's verifier refuses a ctx load
 * of an argument whose type is a struct it only knows as a forward declaration ("arg0 type
 * FWD is not a struct", kernel/bpf/btf.c btf_ctx_access). The return value is a plain long. */
int madvise_sys_fexit(__u64 *ctx)
{
	struct pt_regs *regs = NULL;
	long ret = ctx[1];

	if (ret != 0 || bpf_probe_read_kernel(&regs, sizeof(regs), ctx) || !regs)
		return 0;
	balloon_madvise(BPF_CORE_READ(regs, di), BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx),
			span_end(&discard_start));
	return 0;
}

int BPF_PROG(fallocate_fexit, struct file *file, int mode, loff_t offset, loff_t len, long ret)
{
	if (ret == 0)
		balloon_fallocate(file, offset, len, mode, span_end(&discard_start));
	return 0;
}

/* Fallback where fexit is missing: syscall tracepoints, arguments stashed per thread. */
struct syscall_args {
	__u64 start_ns;
	__u64 start;		/* madvise: address; fallocate: offset */
	__u64 len;
	__s32 op;
	__u32 is_fallocate;
	__s32 fd;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct syscall_args);
} inflight SEC(".maps");

int madvise_enter_tp(void *ctx)
{
	const struct sys_enter_ctx *e = ctx;
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .start_ns = bpf_ktime_get_ns(), .start = e->args[0], .len = e->args[1],
				  .op = (int)e->args[2] };

	if (!current_vm())
		return 0;
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

int fallocate_enter_tp(void *ctx)
{
	const struct sys_enter_ctx *e = ctx;
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args a = { .start_ns = bpf_ktime_get_ns(), .start = e->args[2], .len = e->args[3],
				  .op = (int)e->args[1], .is_fallocate = 1, .fd = (int)e->args[0] };

	if (!current_vm())
		return 0;
	bpf_map_update_elem(&inflight, &id, &a, BPF_ANY);
	return 0;
}

static __always_inline void syscall_exit(long ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct syscall_args *a;

	/* every process's madvise exits here: reject non-VMMs with the cheap array lookup */
	if (!vm_of_tgid(id >> 32))
		return;
	a = bpf_map_lookup_elem(&inflight, &id);
	if (!a)
		return;
	if (ret == 0) {
		__u64 d = bpf_ktime_get_ns() - a->start_ns;

		/* the fd still names the file: the syscall has not returned to user space */
		if (a->is_fallocate)
			balloon_fallocate(current_fd_file(a->fd), a->start, a->len, a->op, d);
		else
			balloon_madvise(a->start, a->len, a->op, d);
	}
	bpf_map_delete_elem(&inflight, &id);
}

int madvise_exit_tp(void *ctx)
{
	syscall_exit(((const struct sys_exit_ctx *)ctx)->ret);
	return 0;
}

int fallocate_exit_tp(void *ctx)
{
	syscall_exit(((const struct sys_exit_ctx *)ctx)->ret);
	return 0;
}
