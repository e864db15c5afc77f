// SPDX-License-Identifier: GPL-2.0
/*
 * Guest IPIs and vCPU preemption (issue 18), the module's side of bpf/ipi.bpf.c: which state
 * (preempted, halted, in guest mode) the target of each guest IPI was in, the time until it
 * entered the guest again, and how long runnable vCPU threads wait off CPU.  Called from the
 * tracepoint probes of vmmem_probes.c; state lives in each vCPU thread's span (vmmem_spans.c).
 *
 * The target's state is KVM's own, read from its struct kvm_vcpu as the kernel's headers lay
 * it out (include/linux/kvm_host.h; the module is built against the headers of the kernel it
 * runs on).  No pointer to a vCPU is kept beyond the time KVM keeps it alive: a span's vcpu is
 * set at its thread's kvm_entry and cleared at kvm_userspace_exit (virt/kvm/kvm_main.c
 * kvm_vcpu_ioctl: after every KVM_RUN), so the sender's own vCPU is read only while that
 * thread is inside KVM_RUN, and the target is looked up through it in the sender's VM, which
 * cannot go away under a running vCPU.
 */
#include <linux/kvm_host.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <asm/apicdef.h>
#include "vmmem_internal.h"

/* ICR destination shorthand, bits 18-19 (KVM's own APIC_SHORT_MASK is in arch/x86/kvm/lapic.h) */
#define ICR_SHORTHAND	0xc0000

bool vmmem_ipi_track_vcpus;

/*
 * kvm_entry (arch/x86/kvm/x86.c vcpu_enter_guest), in the vCPU's thread: remember the vCPU,
 * and close the IPI deliveries pending on it.  IPIs that reach a vCPU before one entry count
 * one sample each, all timed from the oldest (an upper bound for the later ones), as in BPF.
 */
void vmmem_ipi_entry(struct vmmem_span *sp, struct kvm_vcpu *vcpu)
{
	struct vmmem_slot *s;
	unsigned long flags;
	u32 n, from = 0;
	u64 d = 0;

	if (READ_ONCE(vmmem_ipi_track_vcpus))
		WRITE_ONCE(sp->vcpu, vcpu);
	if (!READ_ONCE(sp->ipi_pending))
		return;
	raw_spin_lock_irqsave(&sp->ipi_lock, flags);
	n = sp->ipi_pending;
	if (n) {
		d = ktime_get_ns() - sp->ipi_ns;
		from = sp->ipi_from;
		sp->ipi_pending = 0;
	}
	raw_spin_unlock_irqrestore(&sp->ipi_lock, flags);
	s = n ? vmmem_slot_find(current->tgid) : NULL;
	if (!s)
		return;
	vmmem_hist_add_n(s, VMMEM_HIST_ipi_delivery_ns, d, n);
	if (d >= READ_ONCE(vmmem_slow_ns))
		vmmem_event_emit(VMMEM_EV_slow_ipi, current->tgid, current->pid, from, d);
}

/* kvm_userspace_exit: the thread left KVM_RUN; its vCPU may be freed from now on. */
void vmmem_ipi_userspace_exit(void)
{
	struct vmmem_span *sp = vmmem_span_get(current->pid, false);

	if (sp)
		WRITE_ONCE(sp->vcpu, NULL);
}

/*
 * kvm_apic_ipi (arch/x86/kvm/lapic.c kvm_apic_send_ipi), in the sending vCPU's thread, which
 * is inside KVM_RUN.  vcpu->preempted is set by kvm_sched_out (virt/kvm/kvm_main.c) when the
 * thread is switched out while runnable inside KVM_RUN and cleared by kvm_sched_in; HALTED is
 * set by kvm_emulate_halt.  Only physical single-destination IPIs name one target; dest_id is
 * its APIC ID, which is its vcpu_id unless the guest or VMM changed it (as in BPF).
 */
void vmmem_ipi_sent(struct vmmem_slot *s, u32 icr_low, u32 dest_id)
{
	struct kvm_vcpu *from, *t;
	struct vmmem_span *sp;
	unsigned long flags;
	pid_t tid;

	if (icr_low & (ICR_SHORTHAND | APIC_DEST_LOGICAL))
		return;
	sp = vmmem_span_get(current->pid, false);
	/* NULL: a host-side ICR write (KVM_SET_MSRS) outside KVM_RUN, or before the first entry */
	from = sp ? READ_ONCE(sp->vcpu) : NULL;
	if (!from || dest_id > INT_MAX)
		return;
	t = kvm_get_vcpu_by_id(from->kvm, dest_id);
	if (!t)
		return;
	if (READ_ONCE(t->preempted))
		vmmem_vm_add(s, VMMEM_C_guest_ipis_to_preempted, 1);
	else if (READ_ONCE(t->arch.mp_state) == KVM_MP_STATE_HALTED)
		vmmem_vm_add(s, VMMEM_C_guest_ipis_to_halted, 1);
	else if (READ_ONCE(t->mode) == IN_GUEST_MODE)
		vmmem_vm_add(s, VMMEM_C_guest_ipis_to_running, 1);
	/* the thread that runs the target: KVM_RUN sets vcpu->pid (kvm_vcpu_ioctl) */
	rcu_read_lock();
	tid = pid_nr(rcu_dereference(t->pid));
	rcu_read_unlock();
	sp = tid ? vmmem_span_get(tid, false) : NULL;
	if (!sp)
		return;
	raw_spin_lock_irqsave(&sp->ipi_lock, flags);
	if (READ_ONCE(sp->tid) == tid && !sp->ipi_pending++) {
		sp->ipi_ns = ktime_get_ns();
		sp->ipi_from = current->pid;
	}
	raw_spin_unlock_irqrestore(&sp->ipi_lock, flags);
}

/*
 * Whether t is inside KVM_RUN with its vCPU loaded: vcpu_load() registers the vCPU's preempt
 * notifier on the thread until vcpu_put() (virt/kvm/kvm_main.c).  One load of a field of the
 * task being switched: every other task of the host leaves sched_switch here.  It is also the
 * span of time KVM's own vcpu->preempted describes.
 */
static bool in_kvm_run(struct task_struct *t)
{
#ifdef CONFIG_PREEMPT_NOTIFIERS
	return !hlist_empty(&t->preempt_notifiers);
#else
	return false;	/* KVM selects PREEMPT_NOTIFIERS: no KVM, no vCPU */
#endif
}

/*
 * sched_switch (kernel/sched/core.c __schedule), on the CPU switching, with its run queue
 * locked: a vCPU thread switched out while runnable is a preemption (preempt, or its state
 * still TASK_RUNNING as BPF reads it); its time until it runs again is vcpu_preempted_ns.
 */
void vmmem_ipi_switch(bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct vmmem_span *sp;
	struct vmmem_slot *s;
	u64 d;

	if (in_kvm_run(prev) && (preempt || task_is_running(prev))) {
		sp = vmmem_span_get(prev->pid, false);
		s = sp ? vmmem_slot_find(prev->tgid) : NULL;
		if (s) {
			vmmem_vm_add(s, VMMEM_C_vcpu_preemptions, 1);
			sp->off_ns = ktime_get_ns();
		}
	}
	if (!in_kvm_run(next))
		return;
	sp = vmmem_span_get(next->pid, false);
	if (!sp || !sp->off_ns)
		return;
	d = ktime_get_ns() - sp->off_ns;
	sp->off_ns = 0;
	s = vmmem_slot_find(next->tgid);
	if (s)
		vmmem_hist_add(s, VMMEM_HIST_vcpu_preempted_ns, d);
}
