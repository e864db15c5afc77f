/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every BPF program vmmem attaches, once: its hook, the alternatives it stands in for, and
 * the counters it feeds. Both sides expand this table:
 *  - bpf/progs.bpf.h declares each program with its SEC() (so a program's section is never
 *    written by hand) and gives the macro that builds a counting program and its recording
 *    twin from one body;
 *  - user/source/source_bpf.c builds its per-program specs from it: which hooks to probe, which
 *    alternative to load, which counters stay unavailable when a program is refused, and
 *    asserts at compile time that the object holds exactly these programs.
 *
 * P(name, hook, alt, feeds)           one program
 * T(base, sfx, ev, hook, alt, feeds)  a counting program base##sfx and its twin
 *                                     base##_rec##sfx, which also streams VMMEM_EV_##ev
 *                                     records; user space loads the twin instead only when
 *                                     a recording asks for that event type
 * hook:  TP(category, event)       classic tracepoint, record read by hand or not at all
 *        TP_CORE(category, event)  classic tracepoint read through CO-RE (needs the BTF of
 *                                  struct trace_event_raw_<event>)
 *        TP_FMT(category, event)   classic tracepoint read at the offsets of its tracefs
 *                                  format file (user/source/tp_format.c)
 *        BTF(event)                BTF-typed raw tracepoint (tp_btf)
 *        FENTRY(fn), FEXIT(fn), KPROBE(fn), KRETPROBE(fn)
 *        FENTRY_KSM_SCAN(fn)       fentry that also needs &ksm_scan from /proc/kallsyms
 *        FENTRY_TS(fn), FEXIT_TS(fn), BTF_TS(event)
 *                                  the same hooks for a program that uses task storage
 *                                  (5.11+): refused where the kernel has no such map type,
 *                                  since one program the verifier rejects fails the object
 * alt:   ALT(group, rank): programs of one group are alternatives; the lowest rank whose
 *        every hook exists is loaded. ALONE: no alternative. ALT_WITH(group, rank, other):
 *        the same, loaded only when a program of group `other` is (they read what it writes).
 * feeds: FEEDS(VM(counter), HOST(counter), VM_HIST(hist), HOST_HIST(hist), ...), names of
 *        kmod/uapi/vmmem.h's tables; FEEDS() for a program that only opens a span.
 *
 * The order is the order of `vmmemtop -v`'s verdicts. The kvm-vm memslot iterator
 * (bpf/guest_ram.bpf.c) is loaded apart and is not listed.
 */
#ifndef VMMEM_PROGS_H
#define VMMEM_PROGS_H

/* bpf/lifecycle.bpf.c */
#define VMMEM_PROGS_LIFECYCLE(P, T)							\
	P(vm_create_fexit, FEXIT(kvm_arch_init_vm), ALT(vm_create, 0), FEEDS())		\
	P(vm_create_kretprobe, KRETPROBE(kvm_arch_init_vm), ALT(vm_create, 1), FEEDS())	\
	P(vm_create_clock_btf, BTF(kvm_update_master_clock), ALT(vm_create, 2), FEEDS())	\
	P(vm_create_clock_tp, TP(kvm, kvm_update_master_clock), ALT(vm_create, 3), FEEDS())	\
	P(vm_exit_btf, BTF(sched_process_exit), ALT(vm_exit, 0), FEEDS())		\
	P(vm_exit_tp, TP(sched, sched_process_exit), ALT(vm_exit, 1), FEEDS())

#define VMMEM_FEEDS_EXITS FEEDS(VM(exits), VM(exits_tdp_violation), VM(exits_tdp_misconfig),	\
				VM(exits_io), VM(exits_hlt), VM(exits_msr), VM(exits_intr),	\
				VM(exits_other))
/* the entry closes exit and fault spans: their histograms need it */
#define VMMEM_FEEDS_ENTRY FEEDS(VM_HIST(tdp_fault_ns), VM_HIST(exit_tdp_ns), VM_HIST(exit_io_ns),	\
				VM_HIST(exit_hlt_ns), VM_HIST(exit_other_ns))
#define VMMEM_FEEDS_TDP_MAP FEEDS(VM(tdp_map_4k), VM(tdp_map_2m), VM(tdp_map_1g))

/* bpf/kvm.bpf.c */
#define VMMEM_PROGS_KVM(P, T)								\
	T(tdp_fault, _btf, tdp_fault, BTF(kvm_page_fault), ALT(tdp_fault, 0),		\
	  FEEDS(VM(tdp_faults)))							\
	T(tdp_fault, _tp, tdp_fault, TP_CORE(kvm, kvm_page_fault), ALT(tdp_fault, 1),	\
	  FEEDS(VM(tdp_faults)))							\
	T(tdp_fault_fmt, _tp, tdp_fault, TP_FMT(kvm, kvm_page_fault), ALT(tdp_fault, 2),	\
	  FEEDS(VM(tdp_faults)))							\
	T(exit, _tp, exit, TP_CORE(kvm, kvm_exit), ALT(exit, 0), VMMEM_FEEDS_EXITS)	\
	T(exit_fmt, _tp, exit, TP_FMT(kvm, kvm_exit), ALT(exit, 1), VMMEM_FEEDS_EXITS)	\
	P(entry_btf, BTF(kvm_entry), ALT(entry, 0), VMMEM_FEEDS_ENTRY)			\
	P(entry_tp, TP(kvm, kvm_entry), ALT(entry, 1), VMMEM_FEEDS_ENTRY)		\
	P(tdp_map_tp, TP_CORE(kvmmmu, kvm_mmu_spte_requested), ALT(tdp_map, 0),	\
	  VMMEM_FEEDS_TDP_MAP)								\
	P(tdp_map_fmt_tp, TP_FMT(kvmmmu, kvm_mmu_spte_requested), ALT(tdp_map, 1),	\
	  VMMEM_FEEDS_TDP_MAP)

#define VMMEM_FEEDS_TLB FEEDS(VM(tlb_shootdown_ipis), VM(tlb_flush_pages), VM(tlb_full_flushes))

/* KVM's remote flushes, by cause; where fentry is refused nothing stands in: the tracepoints
 * on that path (kvm:kvm_unmap_hva_range, kvm_age_hva, kvm_test_age_hva) carry an address
 * range only, neither the VM nor whether KVM flushed (kvm_handle_hva_range flushes only when
 * it zapped a mapping) */
#define VMMEM_FEEDS_FLUSH_RECV FEEDS(VM(kvm_remote_tlb_flushes), VM(flushes_recv_ksmd),	\
	VM(flushes_recv_khugepaged), VM(flushes_recv_kcompactd), VM(flushes_recv_kswapd),	\
	VM(flushes_recv_numa), VM(flushes_recv_vmm), VM(flushes_recv_other))

#define VMMEM_FEEDS_SHOOT_RECV FEEDS(VM(shootdowns_recv_ksmd), VM(shootdowns_recv_khugepaged),	\
	VM(shootdowns_recv_kcompactd), VM(shootdowns_recv_kswapd), VM(shootdowns_recv_other))

/* bpf/tlb.bpf.c. The shootdowns a VMM's threads send: fentry on the function that sends them,
 * where allowed; else the tlb_flush tracepoint, which also fires on every context switch
 * (switch_mm) and so is attached only with --switch-tracepoints */
#define VMMEM_PROGS_TLB(P, T)								\
	T(tlb_send, _fentry, tlb_shootdown, FENTRY(native_flush_tlb_multi), ALT(tlb, 0),	\
	  VMMEM_FEEDS_TLB)								\
	T(tlb_send_others, _fentry, tlb_shootdown, FENTRY(native_flush_tlb_others), ALT(tlb, 1),	\
	  VMMEM_FEEDS_TLB)								\
	T(tlb_flush, _btf, tlb_shootdown, BTF(tlb_flush), ALT(tlb, 2), VMMEM_FEEDS_TLB)	\
	T(tlb_flush, _tp, tlb_shootdown, TP(tlb, tlb_flush), ALT(tlb, 3), VMMEM_FEEDS_TLB)	\
	P(tlb_time_fentry, FENTRY(flush_tlb_mm_range), ALT(tlb_time, 0), FEEDS())	\
	P(tlb_time_fexit, FEXIT(flush_tlb_mm_range), ALT(tlb_time, 0),			\
	  FEEDS(VM_HIST(tlb_shootdown_ns)))						\
	P(flush_notify_fentry, FENTRY_TS(kvm_mmu_notifier_invalidate_range_start), ALT(kvm_flush, 0),	\
	  FEEDS())									\
	P(flush_notify_fexit, FEXIT_TS(kvm_mmu_notifier_invalidate_range_start), ALT(kvm_flush, 0),	\
	  FEEDS())									\
	T(kvm_remote_flush, _fentry, flush_recv, FENTRY_TS(kvm_flush_remote_tlbs), ALT(kvm_flush, 0),	\
	  VMMEM_FEEDS_FLUSH_RECV)							\
	P(pv_tlb_flush_tp, TP_CORE(kvm, kvm_pv_tlb_flush), ALONE, FEEDS(VM(pv_tlb_flushes)))	\
	/* shootdowns other tasks send for a VMM's mm: the mm from flush_tlb_mm_range(), kept	\
	 * in task storage (5.11+) until native_flush_tlb_multi sends the IPIs */		\
	P(shoot_mm_fentry, FENTRY_TS(flush_tlb_mm_range), ALT(shoot_recv, 0), VMMEM_FEEDS_SHOOT_RECV)	\
	P(shoot_mm_fexit, FEXIT_TS(flush_tlb_mm_range), ALT(shoot_recv, 0), FEEDS())	\
	P(shoot_recv_fentry, FENTRY_TS(native_flush_tlb_multi), ALT(shoot_recv, 0), VMMEM_FEEDS_SHOOT_RECV)

#define VMMEM_FEEDS_KSM_SCAN FEEDS(HOST(ksm_scans), HOST_HIST(ksm_scan_ns))

/* bpf/ksm.bpf.c: tracepoints from 6.4, function hooks before */
#define VMMEM_PROGS_KSM(P, T)								\
	P(ksm_start_btf, BTF(ksm_start_scan), ALT(ksm_scan, 0), FEEDS())		\
	P(ksm_stop_btf, BTF(ksm_stop_scan), ALT(ksm_scan, 0), VMMEM_FEEDS_KSM_SCAN)	\
	P(ksm_start_tp, TP(ksm, ksm_start_scan), ALT(ksm_scan, 1), FEEDS())		\
	P(ksm_stop_tp, TP(ksm, ksm_stop_scan), ALT(ksm_scan, 1), VMMEM_FEEDS_KSM_SCAN)	\
	T(ksm_merge_ksm, _btf, ksm_merge, BTF(ksm_merge_with_ksm_page), ALT(ksm_merge_ksm, 0),	\
	  FEEDS(VM(ksm_merged_pages)))							\
	T(ksm_merge_ksm, _tp, ksm_merge, TP(ksm, ksm_merge_with_ksm_page), ALT(ksm_merge_ksm, 1),	\
	  FEEDS(VM(ksm_merged_pages)))							\
	T(ksm_merge_one, _btf, ksm_merge, BTF(ksm_merge_one_page), ALT(ksm_merge_one, 0),	\
	  FEEDS(VM(ksm_merged_pages)))							\
	T(ksm_merge_one, _tp, ksm_merge, TP(ksm, ksm_merge_one_page), ALT(ksm_merge_one, 1),	\
	  FEEDS(VM(ksm_merged_pages)))							\
	T(ksm_append, _fentry, ksm_merge, FENTRY(stable_tree_append), ALT(ksm_merge_ksm, 2),	\
	  FEEDS(VM(ksm_merged_pages)))							\
	P(ksm_scan_start_fentry, FENTRY_KSM_SCAN(lru_add_drain_all), ALT(ksm_scan, 2), FEEDS())	\
	P(ksm_batch_end_fentry, FENTRY_KSM_SCAN(__msecs_to_jiffies), ALT(ksm_scan, 2),	\
	  VMMEM_FEEDS_KSM_SCAN)

/* bpf/evict.bpf.c: KVM's MMU notifier, KVM's page lookups, swap-in */
#define VMMEM_PROGS_EVICT(P, T)								\
	P(mmu_inval_fentry, FENTRY_TS(kvm_mmu_notifier_invalidate_range_start), ALONE,	\
	  FEEDS(VM(mmu_inval_reclaim_bytes), VM(mmu_inval_migrate_bytes), VM(mmu_inval_numa_bytes),	\
		VM(mmu_inval_ksm_bytes), VM(mmu_inval_vmm_bytes), VM(mmu_inval_other_bytes)))	\
	P(kvm_pfn_fentry, FENTRY(hva_to_pfn), ALT(kvm_majflt, 0), FEEDS())		\
	P(kvm_pfn_fexit, FEXIT(hva_to_pfn), ALT(kvm_majflt, 0), FEEDS(VM(kvm_major_faults)))	\
	P(swapin_folio_fentry, FENTRY(swap_read_folio), ALT(swapin, 0), FEEDS(VM(swapin_bytes)))	\
	P(swapin_page_fentry, FENTRY(swap_readpage), ALT(swapin, 1), FEEDS(VM(swapin_bytes)))

/* bpf/thp.bpf.c */
#define VMMEM_PROGS_THP(P, T)								\
	P(thp_collapse_btf, BTF(mm_collapse_huge_page), ALT(thp, 0), FEEDS(VM(thp_collapses)))	\
	P(thp_collapse_tp, TP(huge_memory, mm_collapse_huge_page), ALT(thp, 1),	\
	  FEEDS(VM(thp_collapses)))

#define VMMEM_FEEDS_MADVISE FEEDS(VM(balloon_inflate_bytes), VM(balloon_deflate_bytes),	\
				  VM(vmm_own_discard_bytes), VM_HIST(balloon_discard_ns))

/* bpf/balloon.bpf.c: fexit on the syscall's own function, on do_madvise, or (only with
 * --syscall-tracepoints) the syscall tracepoints */
#define VMMEM_PROGS_BALLOON(P, T)							\
	P(madvise_sys_fentry, FENTRY(__x64_sys_madvise), ALT(madvise, 0), FEEDS())	\
	P(madvise_sys_fexit, FEXIT(__x64_sys_madvise), ALT(madvise, 0), VMMEM_FEEDS_MADVISE)	\
	P(madvise_fentry, FENTRY(do_madvise), ALT(madvise, 1), FEEDS())		\
	P(madvise_fexit, FEXIT(do_madvise), ALT(madvise, 1), VMMEM_FEEDS_MADVISE)	\
	P(madvise_enter_tp, TP(syscalls, sys_enter_madvise), ALT(madvise, 2), FEEDS())	\
	P(madvise_exit_tp, TP(syscalls, sys_exit_madvise), ALT(madvise, 2), VMMEM_FEEDS_MADVISE)	\
	P(fallocate_fentry, FENTRY(vfs_fallocate), ALT(fallocate, 0), FEEDS())		\
	P(fallocate_fexit, FEXIT(vfs_fallocate), ALT(fallocate, 0),			\
	  FEEDS(VM(balloon_inflate_bytes), VM(vmm_own_discard_bytes), VM_HIST(balloon_discard_ns)))	\
	P(fallocate_enter_tp, TP(syscalls, sys_enter_fallocate), ALT(fallocate, 1), FEEDS())	\
	P(fallocate_exit_tp, TP(syscalls, sys_exit_fallocate), ALT(fallocate, 1),	\
	  FEEDS(VM(balloon_inflate_bytes), VM(vmm_own_discard_bytes)))

/* bpf/guest_ram.bpf.c: memslot updates as they happen (the kvm-vm iterator, loaded apart,
 * lists them where struct kvm is in BTF) */
#define VMMEM_PROGS_GUEST_RAM(P, T)							\
	P(memslot_fexit, FEXIT(__kvm_set_memory_region), ALT(memslot, 0), FEEDS())	\
	P(memslot_kprobe, KPROBE(__kvm_set_memory_region), ALT(memslot, 1), FEEDS())	\
	P(memslot_kretprobe, KRETPROBE(__kvm_set_memory_region), ALT(memslot, 1), FEEDS())

/* bpf/ipi.bpf.c: the two together or none. The target's state is read from KVM's struct
 * kvm_vcpu: kvm.ko's BTF is needed (6.1+, not 5.10) */
#define VMMEM_PROGS_IPI(P, T)								\
	P(ipi_entry_btf, BTF_TS(kvm_entry), ALT(ipi, 0), FEEDS())				\
	P(ipi_send_btf, BTF(kvm_apic_ipi), ALT(ipi, 0),				\
	  FEEDS(VM(guest_ipis), VM(guest_ipis_to_preempted), VM(guest_ipis_to_halted),	\
		VM(guest_ipis_to_running), VM_HIST(ipi_delivery_ns)))			\
	/* vCPU preemptions, of the threads the ipi group's kvm_entry learns: KVM's preempt	\
	 * notifiers (virt/kvm/kvm_main.c kvm_sched_out/kvm_sched_in) run only for a vCPU	\
	 * thread inside KVM_RUN, so no other context switch of the host pays; sched_switch,	\
	 * on every switch of the host, only where fentry is refused */			\
	P(vcpu_out_fentry, FENTRY_TS(kvm_sched_out), ALT_WITH(vcpu_switch, 0, ipi),	\
	  FEEDS(VM(vcpu_preemptions), VM_HIST(vcpu_preempted_ns)))			\
	P(vcpu_in_fentry, FENTRY_TS(kvm_sched_in), ALT_WITH(vcpu_switch, 0, ipi),	\
	  FEEDS(VM_HIST(vcpu_preempted_ns)))						\
	P(vcpu_switch_btf, BTF_TS(sched_switch), ALT_WITH(vcpu_switch, 1, ipi),	\
	  FEEDS(VM(vcpu_preemptions), VM_HIST(vcpu_preempted_ns)))

#define VMMEM_PROGS(P, T)								\
	VMMEM_PROGS_LIFECYCLE(P, T)							\
	VMMEM_PROGS_KVM(P, T)								\
	VMMEM_PROGS_TLB(P, T)								\
	VMMEM_PROGS_KSM(P, T)								\
	VMMEM_PROGS_EVICT(P, T)								\
	VMMEM_PROGS_THP(P, T)								\
	VMMEM_PROGS_BALLOON(P, T)							\
	VMMEM_PROGS_GUEST_RAM(P, T)							\
	VMMEM_PROGS_IPI(P, T)

#endif
