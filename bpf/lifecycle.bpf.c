// SPDX-License-Identifier: GPL-2.0
/* VMM lifecycle: a process creating a VM (the kernel side claims its slot at once) and the
 * last thread of a VMM exiting (its slot is marked for user space to reap). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "progs.bpf.h"

/* Processes the kernel side saw create a VM (kvm_arch_init_vm returned 0): for them the
 * hook has seen every memslot, so its table is complete without the iterator. Keyed by
 * tgid, not VMM slot: where the kernel side cannot claim slots (5.10), /proc discovery
 * claims the VMM after it created its VM and registered its memory. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} vm_created SEC(".maps");

static __always_inline void mark_vm_created(void)
{
	__u32 tgid = current_tgid();
	__u8 one = 1;

	bpf_map_update_elem(&vm_created, &tgid, &one, BPF_ANY);
}

/* kvm_arch_init_vm() runs once per KVM_CREATE_VM (virt/kvm/kvm_main.c kvm_create_vm). */
int BPF_PROG(vm_create_fexit, struct kvm *kvm, unsigned long type, int ret)
{
	if (ret == 0) {
		claim_slot(current_tgid());
		mark_vm_created();
	}
	return 0;
}

/* VM creation where fexit is not possible (5.10's kvm.ko has no BTF): marks only, no slot
 * claim (5.10's verifier refuses claim_slot()'s cmpxchg) */
int BPF_KRETPROBE(vm_create_kretprobe, int ret)
{
	if (ret == 0)
		mark_vm_created();
	return 0;
}

/*
 * Where neither function hook is possible, creation is never seen at the ioctl syscall
 * tracepoints: enabling any syscalls:* tracepoint moves every thread of the host to the
 * syscall tracing slow path (measured here: getppid() 166 -> 233 ns). On x86 a KVM
 * tracepoint fires inside KVM_CREATE_VM instead: kvm_arch_init_vm() (arch/x86/kvm/x86.c)
 * calls pvclock_update_vm_gtod_copy(), which traces kvm:kvm_update_master_clock in the
 * creating thread. It fires again only on master clock updates: in the VM's own threads
 * (a vCPU's KVM_REQ_MASTERCLOCK_UPDATE, KVM_SET_CLOCK), whose slot is claimed already, or,
 * when the host itself runs on Hyper-V, from a kworker for every VM
 * (kvm_hyperv_tsc_notifier()): kernel threads are never VMMs and claim nothing. So a VM
 * counts from its creation on, however late user space looks, at no cost outside VM
 * creation. Without any of these (other architectures), user space finds a VMM in /proc
 * (a kvm-vm fd) and its first KVM event claims it (claim_slot() from the KVM hooks).
 */
#define PF_KTHREAD_FLAG	0x00200000	/* include/linux/sched.h */

static __always_inline void claim_vm_creator(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();

	if (BPF_CORE_READ(task, flags) & PF_KTHREAD_FLAG)
		return;
	claim_slot(current_tgid());
}

VMMEM_BTF_OR_TP(vm_create_clock, claim_vm_creator)

/* sched_process_exit fires in do_exit() after signal->live was decremented, so
 * live == 0 means this is the last thread of the group (kernel/exit.c do_exit). */
static __always_inline void handle_vm_exit(void)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u32 tgid = current_tgid();
	__u32 *slot1, slot;

	slot1 = bpf_map_lookup_elem(&vmm_slot_by_tgid, &tgid);
	if (!slot1 || !*slot1)
		return;
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return;
	slot = *slot1 - 1;
	*slot1 = 0;
	if (slot < VMMEM_MAX_VMS)
		slot_state[slot] = VMMEM_SLOT_EXITED;
	emit_event(VMMEM_EV_vm_exit, tgid, slot, 0);
}

/*
 * Raw (BTF) tracepoints are preferred for every hook whose count must be exact: a classic
 * tracepoint program is skipped while bpf_prog_active is held on its CPU, which a map
 * syscall from user space (our own reads) can do while preempted (kernel/trace/bpf_trace.c
 * trace_call_bpf); raw tracepoints only guard against recursion of the same program.
 */
VMMEM_BTF_OR_TP(vm_exit, handle_vm_exit)
