/* SPDX-License-Identifier: GPL-2.0 */
/* The VMM table shared by every program: which tgids are VMMs, and their per-CPU counters.
 *
 * The hot-path filter is one array lookup indexed by tgid (inlined by the verifier, no
 * hashing): vmm_slot_by_tgid[tgid] is 0 for ordinary processes and slot+1 for a VMM.
 * Counters live in a per-CPU array indexed by slot, so vCPU threads of one VM never
 * contend and no increment is lost to a race between CPUs.
 *
 * Slots are claimed with cmpxchg on slot_owner[] by the kernel side (VM creation, first
 * KVM event) and by user space through the mmap()ed .bss (processes found in /proc).
 * A process exit marks the slot EXITED; user space reads the final counters, zeroes the
 * slot and frees it ("reap"), so nothing counted is lost.
 */
#ifndef VMMEM_VMM_TABLE_BPF_H
#define VMMEM_VMM_TABLE_BPF_H

/*
 * The programs live in one object file per subsystem (bpf/<subsystem>.bpf.c), linked into
 * one object by `bpftool gen object`. State more than one of them uses is declared VMMEM_SHARED in
 * these headers: extern everywhere but in bpf/vmmem.bpf.c, which defines
 * VMMEM_DEFINE_SHARED and so holds the one definition the static linker resolves every
 * extern to (libbpf linker.c linker_append_elf_sym: two strong definitions conflict).
 */
#ifdef VMMEM_DEFINE_SHARED
#define VMMEM_SHARED
#else
#define VMMEM_SHARED extern
#endif

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);	/* resized to kernel.pid_max before load */
	__type(key, __u32);
	__type(value, __u32);
} vmm_slot_by_tgid SEC(".maps");

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMMEM_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vmmem_vm_counters);
} vm_counters SEC(".maps");

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vmmem_host_counters);
} host_counters SEC(".maps");

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* Slot bookkeeping, mmap()ed by user space (skeleton .bss). */
VMMEM_SHARED __u64 slot_owner[VMMEM_MAX_VMS];	/* tgid, 0 = free (64-bit: cmpxchg without BPF ISA v3) */
VMMEM_SHARED __u32 slot_state[VMMEM_MAX_VMS];	/* VMMEM_SLOT_* */
VMMEM_SHARED __u64 slot_seq[VMMEM_MAX_VMS];		/* allocation sequence number */
VMMEM_SHARED __u64 next_seq;

static __always_inline struct vmmem_host_counters *host(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&host_counters, &zero);
}

/*
 * Which event types are streamed (VMMEM_EV_BIT per type), set before load. The mask is
 * read-only data of a frozen map, so the verifier knows it and removes every emit whose bit
 * is off as dead code: a hot handler costs exactly what it did without events.
 */
VMMEM_SHARED const volatile __u64 stream_mask;

/* Records lost to a full ring, per VMM slot (see struct vmmem_ev_lost). Touched only when a
 * reservation fails. */
VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMMEM_MAX_VMS);
	__type(key, __u32);
	__type(value, struct vmmem_ev_lost);
} ev_lost SEC(".maps");

#define inc(c, id)	((c)->c[VMMEM_C_##id]++)

#define PF_KTHREAD_FLAG	0x00200000	/* include/linux/sched.h PF_KTHREAD */
#define MADV_WILLNEED_BEHAVIOR	3	/* include/uapi/asm-generic/mman-common.h */

static __noinline void count_lost(__u32 type, __u32 tgid, __u64 a, __u64 b)
{
	struct vmmem_host_counters *h = host();
	struct vmmem_ev_lost *l;
	__u32 *slot1, slot;

	if (h)
		h->c[VMMEM_H_dropped_events]++;
	slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	if (!slot1 || !*slot1)
		return;
	slot = *slot1 - 1;
	l = bpf_map_lookup_elem(&ev_lost, &slot);
	if (!l)
		return;
	if (type < VMMEM_EV_LOST_TYPES)
		l->events[type]++;
	if (type == VMMEM_EV_balloon) {
		if (b == MADV_WILLNEED_BEHAVIOR)
			l->balloon_deflate_bytes += a;
		else
			l->balloon_inflate_bytes += a;
	}
}

/* type must be a constant at every call site (the function is inlined): that is what lets
 * the verifier drop the whole body when its bit is off */
static __always_inline void emit_timed_event(__u32 type, __u32 tgid, __u64 a, __u64 b, __u64 dur_ns)
{
	struct vmmem_event *ev;

	if (!(stream_mask & VMMEM_EV_BIT(type)))
		return;
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_lost(type, tgid, a, b);
		return;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->type = type;
	ev->tgid = tgid;
	ev->cpu = bpf_get_smp_processor_id();
	ev->reserved = 0;
	ev->a = a;
	ev->b = b;
	ev->tid = (__u32)bpf_get_current_pid_tgid();
	ev->flags = 0;
	ev->dur_ns = dur_ns;
	/* A wakeup costs microseconds (irq_work): never wake the reader, it drains the
	 * ring on its own clock (user/source/source_bpf.c bpf_poll_events) */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

static __always_inline void emit_event(__u32 type, __u32 tgid, __u64 a, __u64 b)
{
	emit_timed_event(type, tgid, a, b, 0);
}

/* The element of map (an array indexed by VMM slot: counters, histograms, guest RAM) that
 * belongs to tgid, or NULL when tgid is no VMM. Inlined, so map is a constant at each call. */
static __always_inline void *slot_elem(void *map, __u32 tgid)
{
	__u32 *slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	__u32 slot;

	if (!slot1 || !*slot1)
		return NULL;
	slot = *slot1 - 1;
	return bpf_map_lookup_elem(map, &slot);
}

static __always_inline struct vmmem_vm_counters *vm_of_tgid(__u32 tgid)
{
	return slot_elem(&vm_counters, tgid);
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct vmmem_vm_counters *current_vm(void)
{
	return vm_of_tgid(current_tgid());
}

/* tgid of the process owning an mm (mm->owner needs CONFIG_MEMCG; 0 if unknown). */
static __always_inline __u32 mm_owner_tgid(struct mm_struct *mm)
{
	struct task_struct *owner;

	if (!mm || !bpf_core_field_exists(mm->owner))
		return 0;
	owner = BPF_CORE_READ(mm, owner);
	if (!owner)
		return 0;
	return BPF_CORE_READ(owner, tgid);
}

/*
 * Claim a slot for tgid: kernel-side discovery, so a VMM counts from its first event
 * even before user space's /proc scan sees it. Rare (once per VMM): a linear cmpxchg
 * scan is fine. Returns the slot or -1 when the table is full.
 */
static __noinline int claim_slot(__u32 tgid)
{
	__u32 *slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	struct vmmem_host_counters *h;
	__u32 i;

	if (!slot1)
		return -1;
	if (*slot1)
		return *slot1 - 1;
	for (i = 0; i < VMMEM_MAX_VMS; i++) {
		if (slot_owner[i])
			continue;
		if (__sync_val_compare_and_swap(&slot_owner[i], 0, tgid) != 0)
			continue;
		slot_seq[i] = __sync_fetch_and_add(&next_seq, 1) + 1;
		slot_state[i] = VMMEM_SLOT_LIVE;
		*slot1 = i + 1;
		emit_event(VMMEM_EV_vm_start, tgid, i, VMMEM_ORIGIN_KVM_CREATE);
		return i;
	}
	h = host();
	if (h)
		__sync_fetch_and_add(&h->c[VMMEM_H_pool_exhausted], 1);
	return -1;
}

/* Only VMMs hit KVM tracepoints: an untracked tgid here is a VMM that predates us
 * (or whose creation hook is missing): claim it now so it counts from this event on. */
static __always_inline struct vmmem_vm_counters *kvm_current_vm_or(const bool claim)
{
	struct vmmem_vm_counters *c = current_vm();
	__u32 slot;
	int s;

	if (c || !claim)
		return c;
	s = claim_slot(current_tgid());
	if (s < 0)
		return NULL;
	slot = s;
	return bpf_map_lookup_elem(&vm_counters, &slot);
}

static __always_inline struct vmmem_vm_counters *kvm_current_vm(void)
{
	return kvm_current_vm_or(true);
}

#endif
