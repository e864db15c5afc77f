// SPDX-License-Identifier: GPL-2.0
/* Guest IPIs and vCPU preemption, per VMM (issue 18): who a vCPU's IPI went to, in what state
 * (preempted, halted, in guest mode), how long until the target entered the guest again, and
 * how long runnable vCPU threads wait off CPU. Needs KVM's BTF (kvm.ko's on 6.1+): the target's
 * state is KVM's own, read from its struct kvm_vcpu. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"
#include "latency.bpf.h"

/* IPIs delivered slower than this are also streamed (slow_ipi); set with slow_event_ns. */
const volatile __u64 slow_ipi_ns = 1000000;

/* One vCPU of one VMM, learned at its thread's kvm_entry. */
struct vcpu_key {
	__u32 tgid;
	__u32 vcpu_id;
};

struct vcpu_val {
	__u64 vcpu;		/* its struct kvm_vcpu, read only through CO-RE probe reads */
	__u64 ipi_ns;		/* send time of the oldest IPI not yet followed by an entry */
	__u64 ipi_pending;	/* IPIs sent to it since its last entry */
	__u32 tid;
	__u32 from_tid;		/* the thread that sent the oldest pending IPI */
};

/* LRU: a vCPU thread that exits leaves no entry for good (nothing tells us it exited). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct vcpu_key);
	__type(value, struct vcpu_val);
} vcpus SEC(".maps");

/*
 * vCPU threads, for the preemption hooks: when a runnable one was switched out. Task-local
 * storage, not a hash by tid: no hash look-up on a context switch. Linux 5.11+ (the map type;
 * user space does not create it where the "ipi" programs are not loaded).
 */
struct vcpu_thread {
	__u32 tgid;
	__u32 pad;
	__u64 off_ns;		/* switched out while runnable at; 0: on CPU or asleep */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vcpu_thread);
} vcpu_threads SEC(".maps");

/* set once kvm_entry has given a vCPU thread its storage: until then no switch can be one of
 * a vCPU thread, and the sched_switch fallback returns after reading this (never written again) */
__u32 vcpu_threads_seen;

/* include/uapi/linux/kvm.h and include/linux/kvm_host.h */
#define KVM_MP_STATE_HALTED_	3
#define IN_GUEST_MODE_		1
/* ICR: destination shorthand (bits 18-19), logical destination mode (bit 11) */
#define ICR_SHORTHAND		(3u << 18)
#define ICR_LOGICAL		(1u << 11)

static __always_inline void hist_add_n(struct vmmem_hist *h, __u64 d, __u64 n)
{
	__u64 slot = d ? log2_u64(d) : 0;

	asm volatile("if %[s] <= %[max] goto +1\n\t"
		     "%[s] = %[max]"
		     : [s] "+r"(slot) : [max] "i"(VMMEM_HIST_SLOTS - 1));
	h->slot[slot] += n;
	h->sum_ns += d * n;
}

/*
 * kvm_entry (vcpu_enter_guest, arch/x86/kvm/x86.c): remember which thread runs which vCPU,
 * and close the IPI deliveries pending on it. IPIs that reach a vCPU before it enters count
 * one sample each, all timed from the oldest (an upper bound for the later ones).
 */
int BPF_PROG(ipi_entry_btf, struct kvm_vcpu *vcpu)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct vcpu_key k = { .tgid = id >> 32 };
	struct vcpu_val *v;
	__u32 tid = (__u32)id;
	__u64 n;

	/* 6.12's verifier types this argument trusted-or-NULL: no arithmetic before the check */
	if (!vcpu)
		return 0;
	k.vcpu_id = BPF_CORE_READ(vcpu, vcpu_id);
	if (!vm_of_tgid(k.tgid))
		return 0;
	v = bpf_map_lookup_elem(&vcpus, &k);
	if (!v || v->tid != tid) {
		struct vcpu_val nv = { .vcpu = (__u64)vcpu, .tid = tid };
		struct vcpu_thread t = { .tgid = k.tgid };

		bpf_map_update_elem(&vcpus, &k, &nv, BPF_ANY);
		bpf_task_storage_get(&vcpu_threads, bpf_get_current_task_btf(), &t,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (!vcpu_threads_seen)
			vcpu_threads_seen = 1;
		return 0;
	}
	n = v->ipi_pending;
	if (n) {
		struct vmmem_vm_hists *h = hists_of_tgid(k.tgid);
		__u64 d = bpf_ktime_get_ns() - v->ipi_ns;

		__sync_fetch_and_add(&v->ipi_pending, -n);
		v->ipi_ns = 0;
		if (h)
			hist_add_n(&h->h[VMMEM_HIST_ipi_delivery_ns], d, n);
		if (d >= slow_ipi_ns)
			emit_timed_event(VMMEM_EV_slow_ipi, k.tgid, tid, v->from_tid, d);
	}
	return 0;
}

/*
 * kvm_apic_ipi (kvm_apic_send_ipi, arch/x86/kvm/lapic.c), in the sending vCPU's thread. The
 * target's state is KVM's: vcpu->preempted is set by kvm_sched_out (virt/kvm/kvm_main.c) when
 * the thread is switched out while runnable inside KVM_RUN, and cleared by kvm_sched_in;
 * HALTED is set by kvm_emulate_halt. Only physical single-destination IPIs name one target;
 * dest_id is the target's APIC ID, which is its vcpu_id unless the guest or VMM changed it.
 */
int BPF_PROG(ipi_send_btf, __u32 icr_low, __u32 dest_id)
{
	struct vmmem_vm_counters *c = kvm_current_vm();
	struct vcpu_key k = { .tgid = current_tgid(), .vcpu_id = dest_id };
	struct kvm_vcpu *t;
	struct vcpu_val *v;

	if (!c)
		return 0;
	inc(c, guest_ipis);
	if (icr_low & (ICR_SHORTHAND | ICR_LOGICAL))
		return 0;
	v = bpf_map_lookup_elem(&vcpus, &k);
	if (!v)
		return 0;
	t = (struct kvm_vcpu *)v->vcpu;
	if (BPF_CORE_READ(t, preempted))
		inc(c, guest_ipis_to_preempted);
	else if (BPF_CORE_READ(t, arch.mp_state) == KVM_MP_STATE_HALTED_)
		inc(c, guest_ipis_to_halted);
	else if (BPF_CORE_READ(t, mode) == IN_GUEST_MODE_)
		inc(c, guest_ipis_to_running);
	if (!v->ipi_pending) {
		v->ipi_ns = bpf_ktime_get_ns();
		v->from_tid = (__u32)bpf_get_current_pid_tgid();
	}
	__sync_fetch_and_add(&v->ipi_pending, 1);
	return 0;
}

/* task_struct::state became __state in 5.14 (commit 2f064a59a11f "sched: Change
 * task_struct::state") */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

/* 6.12's EEVDF keeps a task that blocked queued until its lag is spent (se.sched_delayed,
 * kernel/sched/fair.c dequeue_entity): on_rq alone does not say runnable there */
struct sched_entity___delayed {
	unsigned char sched_delayed;
} __attribute__((preserve_access_index));

static __always_inline bool task_runnable(struct task_struct *t, bool preempt)
{
	if (preempt)
		return true;
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state) == 0;
	return BPF_CORE_READ((struct task_struct___old *)t, state) == 0;
}

/* A vCPU thread switched out while runnable: one preemption, timed until it runs again. */
static __always_inline void vcpu_off(struct task_struct *task)
{
	struct vcpu_thread *t = bpf_task_storage_get(&vcpu_threads, task, 0, 0);
	struct vmmem_vm_counters *c;

	if (!t)
		return;
	c = vm_of_tgid(t->tgid);
	if (c) {
		inc(c, vcpu_preemptions);
		t->off_ns = bpf_ktime_get_ns();
	}
}

/* A vCPU thread switched in: the end of its preemption, if it was preempted. */
static __always_inline void vcpu_on(struct task_struct *task)
{
	struct vcpu_thread *t = bpf_task_storage_get(&vcpu_threads, task, 0, 0);
	struct vmmem_vm_hists *h;

	if (!t || !t->off_ns)
		return;
	h = hists_of_tgid(t->tgid);
	if (h)
		hist_add(&h->h[VMMEM_HIST_vcpu_preempted_ns], bpf_ktime_get_ns() - t->off_ns);
	t->off_ns = 0;
}

/*
 * KVM's preempt notifiers (virt/kvm/kvm_main.c): vcpu_load() registers them for the vCPU
 * thread until vcpu_put(), i.e. inside KVM_RUN, and the scheduler calls them only for such a
 * thread (kernel/sched/core.c fire_sched_out_preempt_notifiers): every other context switch of
 * the host costs nothing. kvm_sched_out runs in the thread switched out, before the switch;
 * runnable as KVM tells it (it sets vcpu->preempted when current->on_rq), but not a task that
 * blocked and only waits for its delayed dequeue (6.12+).
 */
int BPF_PROG(vcpu_out_fentry)
{
	struct task_struct *t = bpf_get_current_task_btf();

	if (!t->on_rq)
		return 0;
	if (bpf_core_field_exists(((struct sched_entity___delayed *)0)->sched_delayed) &&
	    BPF_CORE_READ((struct sched_entity___delayed *)&t->se, sched_delayed))
		return 0;
	vcpu_off(t);
	return 0;
}

/* kvm_sched_in runs in the thread switched in (finish_task_switch). */
int BPF_PROG(vcpu_in_fentry)
{
	vcpu_on(bpf_get_current_task_btf());
	return 0;
}

/* the thread is inside KVM_RUN: its preempt notifiers are registered (CONFIG_PREEMPT_NOTIFIERS,
 * which KVM selects; vmmem.ko's test too, kmod/vmmem_ipi.c). The scheduler reads the same
 * field of both tasks at this switch when any VM exists, so its cacheline is not an extra miss. */
static __always_inline bool in_kvm_run(struct task_struct *t)
{
	if (bpf_core_field_exists(t->preempt_notifiers))
		return t->preempt_notifiers.first;
	return t->bpf_storage;
}

/*
 * sched_switch (kernel/sched/core.c __schedule), on every context switch of the host, where
 * fentry on the notifiers is refused: the same preemptions, found with the fewest loads. Until
 * kvm_entry has seen a vCPU thread, one load of a global nobody writes; then the two tasks'
 * preempt notifier lists (a NULL pointer for every task outside KVM_RUN).
 */
int BPF_PROG(vcpu_switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	if (!vcpu_threads_seen)
		return 0;
	if (in_kvm_run(prev) && task_runnable(prev, preempt))
		vcpu_off(prev);
	if (in_kvm_run(next))
		vcpu_on(next);
	return 0;
}
