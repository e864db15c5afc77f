/* SPDX-License-Identifier: GPL-2.0 */
/* Latency histograms (log2 ns) per VMM, and per-thread start times for the timed spans:
 * VM exit -> next entry, TDP fault -> next entry, discard syscall, TLB shootdown. */
#ifndef VMMEM_LATENCY_BPF_H
#define VMMEM_LATENCY_BPF_H

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VMMEM_MAX_VMS);	/* lowered at load on hosts with many CPUs */
	__type(key, __u32);
	__type(value, struct vmmem_vm_hists);
} vm_hists SEC(".maps");

/* Start times of one VMM thread's open spans. Only VMM threads get an entry. */
struct thread_spans {
	__u64 exit_ns;
	__u64 fault_ns;
	__u64 fault_gpa;
	__u64 tlb_ns;
	__u32 exit_hist;	/* VMMEM_HIST_exit_* of the open exit */
	__u32 exit_reason;
	__u32 isa;
	__u32 pad;
};

VMMEM_SHARED struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct thread_spans);
} spans SEC(".maps");

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffull) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline void hist_add(struct vmmem_hist *h, __u64 d)
{
	__u64 slot = d ? log2_u64(d) : 0;

	/* Clamp in the register that indexes: written in C, clang bounds-checks a copy and
	 * indexes with the original, which the 6.1 verifier rejects as unbounded. */
	asm volatile("if %[s] <= %[max] goto +1\n\t"
		     "%[s] = %[max]"
		     : [s] "+r"(slot) : [max] "i"(VMMEM_HIST_SLOTS - 1));
	h->slot[slot]++;
	h->sum_ns += d;
}

static __always_inline struct vmmem_vm_hists *hists_of_tgid(__u32 tgid)
{
	return slot_elem(&vm_hists, tgid);
}

static __always_inline void vm_hist_add(__u32 tgid, int id, __u64 d)
{
	struct vmmem_vm_hists *h = hists_of_tgid(tgid);

	if (h && id >= 0 && id < VMMEM_NR_VM_HISTS)
		hist_add(&h->h[id], d);
}

static __always_inline struct thread_spans *spans_of_current(bool create)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread_spans *s = bpf_map_lookup_elem(&spans, &tid);
	struct thread_spans zero = {};

	if (s || !create)
		return s;
	if (bpf_map_update_elem(&spans, &tid, &zero, BPF_NOEXIST) == -7 /* -E2BIG: the map is full */) {
		struct vmmem_host_counters *h = host();

		if (h)
			h->c[VMMEM_H_pool_exhausted]++;
	}
	return bpf_map_lookup_elem(&spans, &tid);
}

/*
 * Start times of function spans (fentry -> fexit) of VMM threads, one map per kind of span
 * (each defined by the file of its hooks):
 * they nest (a discard's do_madvise zaps pages and calls flush_tlb_mm_range inside), and one
 * shared map lost the outer span to the inner one's delete.
 */
struct span_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
};

static __always_inline void span_begin(void *map)
{
	__u64 id = bpf_get_current_pid_tgid(), now;

	if (!vm_of_tgid(id >> 32))
		return;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(map, &id, &now, BPF_ANY);
}

/* Returns the span's duration, or 0 if it has no recorded start. */
static __always_inline __u64 span_end(void *map)
{
	__u64 id = bpf_get_current_pid_tgid(), d;
	__u64 *start = bpf_map_lookup_elem(map, &id);

	if (!start)
		return 0;
	d = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(map, &id);
	return d;
}

#endif
