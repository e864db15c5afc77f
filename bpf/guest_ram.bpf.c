// SPDX-License-Identifier: GPL-2.0
/* Guest RAM of each VM as KVM knows it (its memslots): updates as they happen, and an
 * iterator that lists them all; user space builds bpf/guest_ram.bpf.h's table from both. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"

/* ---------------- memslot updates, where a function hook exists ---------------- */

/*
 * __kvm_set_memory_region() (virt/kvm/kvm_main.c; global, not inlined, in 5.10, 6.1 and
 * 6.12) applies every KVM_SET_USER_MEMORY_REGION(2) of the VMM and every x86-internal slot.
 * Its second argument points to struct kvm_userspace_memory_region (5.10, 6.1) or
 * kvm_userspace_memory_region2 (6.8+), whose first 32 bytes are the same uapi prefix.
 * A successful call is recorded per (tgid, VM, address space|slot), deleted when its size
 * is 0, and memslot_updates moves so that user space rebuilds the table at its next read
 * (100 ms) instead of its next refresh (1 s).
 */
struct memslot_prefix {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
};

struct kvm_slot_key {
	__u32 tgid;
	__u32 as_id_slot;
	__u64 kvm;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct kvm_slot_key);
	__type(value, struct vmmem_kvm_slot);
} kvm_slots SEC(".maps");

__u64 memslot_updates;

static __always_inline void memslot_commit(void *kvm, const struct memslot_prefix *m)
{
	__u32 tgid = current_tgid();
	struct kvm_slot_key k = { .tgid = tgid, .as_id_slot = m->slot, .kvm = (__u64)kvm };
	struct vmmem_kvm_slot v = {
		.tgid = tgid, .as_id_slot = m->slot, .kvm = (__u64)kvm, .gpa = m->guest_phys_addr,
		.size = m->memory_size, .hva = m->userspace_addr, .flags = m->flags,
	};

	/* any process: only VMMs set memslots, and one not tracked yet may be soon */
	if (m->memory_size)
		bpf_map_update_elem(&kvm_slots, &k, &v, BPF_ANY);
	else
		bpf_map_delete_elem(&kvm_slots, &k);
	__sync_fetch_and_add(&memslot_updates, 1);
}

int BPF_PROG(memslot_fexit, void *kvm, const void *mem, int ret)
{
	struct memslot_prefix m;

	if (ret || bpf_probe_read_kernel(&m, sizeof(m), mem))
		return 0;
	memslot_commit(kvm, &m);
	return 0;
}

/* Where fexit is refused or the kvm module has no BTF (5.10): kprobe + kretprobe. */
struct memslot_call {
	void *kvm;
	struct memslot_prefix m;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u64);
	__type(value, struct memslot_call);
} memslot_inflight SEC(".maps");

int BPF_KPROBE(memslot_kprobe, void *kvm, const void *mem)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct memslot_call c = { .kvm = kvm };

	if (bpf_probe_read_kernel(&c.m, sizeof(c.m), mem))
		return 0;
	bpf_map_update_elem(&memslot_inflight, &id, &c, BPF_ANY);
	return 0;
}

int BPF_KRETPROBE(memslot_kretprobe, int ret)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct memslot_call *c = bpf_map_lookup_elem(&memslot_inflight, &id);

	if (!c)
		return 0;
	if (ret == 0)
		memslot_commit(c->kvm, &c->m);
	bpf_map_delete_elem(&memslot_inflight, &id);
	return 0;
}

/* ---------------- the memslot iterator ---------------- */

/* Before 5.17 (commit "KVM: Keep memslots in tree-based structures instead of array-based
 * ones") struct kvm_memslots held a sorted array of used_slots memslots; since then an
 * id hash (plus hva/gfn trees) whose nodes come in two sets, node_idx telling which is live. */
struct kvm_memory_slot___old {
	gfn_t base_gfn;
	unsigned long npages;
	unsigned long userspace_addr;
	u32 flags;
	short id;
} __attribute__((preserve_access_index));

struct kvm_memslots___old {
	int used_slots;
	struct kvm_memory_slot___old memslots[];
} __attribute__((preserve_access_index));

#define ITER_AS_MAX		2	/* KVM_ADDRESS_SPACE_NUM on x86 with SMM */
#define ITER_BUCKETS		128	/* 1 << 7, DECLARE_HASHTABLE(id_hash, 7) */
#define ITER_CHAIN_MAX		8	/* slots sharing one id_hash bucket */
#define ITER_OLD_SLOTS_MAX	512	/* KVM_MEM_SLOTS_NUM (509 user + private) */

__u64 iter_truncated;	/* memslots the bounds above left out: user space says so in -v */

static __always_inline void iter_emit(struct seq_file *seq, __u32 tgid, __u32 as, void *kvm, __u64 gfn,
				      __u64 npages, __u64 hva, __u32 flags, int id)
{
	struct vmmem_kvm_slot r = {
		.tgid = tgid, .as_id_slot = as << 16 | (id & 0xffff), .kvm = (__u64)kvm,
		.gpa = gfn << 12, .size = npages << 12, .hva = hva, .flags = flags,
	};

	bpf_seq_write(seq, &r, sizeof(r));
}

static __always_inline void iter_slots_new(struct seq_file *seq, __u32 tgid, __u32 as, void *kvm,
					   struct kvm_memslots *ms)
{
	int idx = BPF_CORE_READ(ms, node_idx) & 1;
	__u32 node_off = bpf_core_field_offset(struct kvm_memory_slot, id_node) + idx * sizeof(struct hlist_node);

	for (int b = 0; b < ITER_BUCKETS; b++) {
		struct hlist_node *n = BPF_CORE_READ(ms, id_hash[b].first);

		for (int k = 0; k < ITER_CHAIN_MAX && n; k++) {
			struct kvm_memory_slot *s = (void *)n - node_off;

			iter_emit(seq, tgid, as, kvm, BPF_CORE_READ(s, base_gfn), BPF_CORE_READ(s, npages),
				  BPF_CORE_READ(s, userspace_addr), BPF_CORE_READ(s, flags), BPF_CORE_READ(s, id));
			n = BPF_CORE_READ(n, next);
		}
		if (n)
			__sync_fetch_and_add(&iter_truncated, 1);
	}
}

static __always_inline void iter_slots_old(struct seq_file *seq, __u32 tgid, __u32 as, void *kvm, void *msp)
{
	struct kvm_memslots___old *ms = msp;
	int used = BPF_CORE_READ(ms, used_slots);
	__u32 sz = bpf_core_type_size(struct kvm_memory_slot___old);
	__u32 base = bpf_core_field_offset(struct kvm_memslots___old, memslots);

	for (int i = 0; i < ITER_OLD_SLOTS_MAX; i++) {
		struct kvm_memory_slot___old *s;

		if (i >= used)
			break;
		s = (void *)ms + base + i * sz;
		iter_emit(seq, tgid, as, kvm, BPF_CORE_READ(s, base_gfn), BPF_CORE_READ(s, npages),
			  BPF_CORE_READ(s, userspace_addr), BPF_CORE_READ(s, flags), BPF_CORE_READ(s, id));
	}
}

/*
 * One pass over every open file of every process (bpf_iter task_file): for each kvm-vm file
 * (virt/kvm/kvm_main.c kvm_dev_ioctl_create_vm names it "kvm-vm") of a tracked VMM, write
 * its memslots. The memslots are read without kvm->srcu: a slot update racing with the
 * read can give a torn view, which the next pass (user space runs one a second) corrects.
 */
SEC("iter/task_file")
int kvm_memslots_iter(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	char name[8] = {};
	__u32 tgid, *slot1;
	void *kvm;

	if (!task || !file)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	if (!slot1 || !*slot1)
		return 0;
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	if (name[0] != 'k' || name[1] != 'v' || name[2] != 'm' || name[3] != '-' || name[4] != 'v' ||
	    name[5] != 'm' || name[6])
		return 0;
	kvm = BPF_CORE_READ(file, private_data);
	if (!kvm)
		return 0;
	for (__u32 as = 0; as < ITER_AS_MAX; as++) {
		struct kvm *k = kvm;
		void *ms;

		if (as >= bpf_core_field_size(k->memslots) / sizeof(void *))
			break;
		ms = BPF_CORE_READ(k, memslots[as]);
		if (!ms)
			continue;
		if (bpf_core_field_exists(struct kvm_memslots___old, used_slots))
			iter_slots_old(seq, tgid, as, kvm, ms);
		else
			iter_slots_new(seq, tgid, as, kvm, ms);
	}
	return 0;
}
