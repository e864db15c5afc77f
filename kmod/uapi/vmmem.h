/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vmmem ABI: the counters and event records that bpf/, kmod/ and user/ share.
 * Every counter name is defined once here (X-macro tables); C struct members,
 * JSON keys and Prometheus metric names are all generated from these tables.
 *
 * Only fixed-width types, no pointers, no enums in structs (UAPI rules).
 */
#ifndef _UAPI_VMMEM_H
#define _UAPI_VMMEM_H

#if defined(__KERNEL__) || defined(__VMLINUX_H__)
/* kernel and BPF builds get __u32/__u64 from their own headers */
#else
#include <linux/types.h>
#include <linux/ioctl.h>
#endif

/* 2: /dev/vmmem header gained availability masks and histograms, records gained
 * histograms; GET_EVENTS, SET_STREAM and TRACK ioctls.
 * 3: records gained unavailable (per-VM counters), the counter vmm_own_discard_bytes.
 * 4: counters guest_ipis*, vcpu_preemptions; histograms ipi_delivery_ns, vcpu_preempted_ns;
 *    event slow_ipi.
 * 5: counters flushes_recv_* (KVM remote TLB flushes a VM received, by the cause's task
 *    class) and shootdowns_recv_* (TLB shootdowns other tasks sent for the VMM's mm); event
 *    flush_recv. */
#define VMMEM_ABI_VERSION	5

/* Maximum VMM processes tracked at once (slots); exited ones are reaped by user space. */
#define VMMEM_MAX_VMS		1024

/* log2 histogram slots (ns): slot i counts values in [2^i, 2^(i+1)) */
#define VMMEM_HIST_SLOTS	40

/*
 * Per-VMM counters.  X(name, unit, help)
 * unit is one of: events, pages, bytes  (Prometheus suffix derives from it)
 */
#define VMMEM_VM_COUNTERS(X)						\
	X(tdp_faults,          events, "EPT/NPT violations handled by KVM (kvm:kvm_page_fault)") \
	X(exits,               events, "VM exits (kvm:kvm_exit)")			\
	X(exits_tdp_violation, events, "exits for EPT violation (VMX 48) or NPF (SVM 0x400)") \
	X(exits_tdp_misconfig, events, "exits for EPT misconfiguration (VMX 49, MMIO)") \
	X(exits_io,            events, "exits for port I/O (VMX 30, SVM 0x7b)")	\
	X(exits_hlt,           events, "exits for HLT (VMX 12, SVM 0x78)")	\
	X(exits_msr,           events, "exits for MSR access (VMX 31/32, SVM 0x7c)") \
	X(exits_intr,          events, "exits for external interrupts (VMX 1, SVM 0x60)") \
	X(exits_other,         events, "exits of any other reason")		\
	X(tdp_map_4k,          events, "TDP mappings KVM installed at 4K (kvmmmu:kvm_mmu_spte_requested level 1)") \
	X(tdp_map_2m,          events, "TDP mappings KVM installed at 2M (level 2)") \
	X(tdp_map_1g,          events, "TDP mappings KVM installed at 1G (level 3)") \
	X(tlb_shootdown_ipis,  events, "TLB shootdowns sent by the VMM's threads (tlb:tlb_flush reason 4)") \
	X(tlb_flush_pages,     pages,  "pages named in ranged TLB shootdowns the VMM sent") \
	X(tlb_full_flushes,    events, "full-mm TLB shootdowns the VMM sent (TLB_FLUSH_ALL)") \
	X(kvm_remote_tlb_flushes, events, "KVM remote TLB flushes of this VM (kvm_flush_remote_tlbs)") \
	X(pv_tlb_flushes,      events, "paravirtual TLB flushes requested by the guest (kvm:kvm_pv_tlb_flush)") \
	X(ksm_merged_pages,    pages,  "pages of this VM merged by ksmd (ksm:ksm_merge_*, err 0)") \
	X(balloon_inflate_bytes, bytes, "guest RAM the VMM gave back to the host: MADV_DONTNEED/FREE of private, FALLOC_FL_PUNCH_HOLE/MADV_REMOVE of shared guest RAM") \
	X(balloon_deflate_bytes, bytes, "guest RAM re-requested by the VMM (MADV_WILLNEED inside guest RAM)") \
	X(vmm_own_discard_bytes, bytes, "discards by the VMM outside guest RAM: its heap trims, thread stacks, hole punches in other files") \
	X(thp_collapses,       events, "huge pages khugepaged collapsed in this VM (huge_memory:mm_collapse_huge_page)") \
	X(swapin_bytes,        bytes,  "memory the VMM's threads read back from swap (swap_readpage / swap_read_folio)") \
	X(kvm_major_faults,    events, "major faults KVM took to map guest memory (hva_to_pfn: the vCPU thread's maj_flt rose)") \
	X(mmu_inval_reclaim_bytes, bytes, "guest mappings KVM's MMU notifier dropped for reclaim (kswapd, direct or memory.reclaim)") \
	X(mmu_inval_migrate_bytes, bytes, "guest mappings dropped for compaction/migration (kcompactd, MMU_NOTIFY_MIGRATE)") \
	X(mmu_inval_numa_bytes, bytes,  "guest mappings dropped by NUMA balancing's scan (MMU_NOTIFY_PROTECTION_VMA)") \
	X(mmu_inval_ksm_bytes, bytes,  "guest mappings dropped by ksmd (write-protect and merge)") \
	X(mmu_inval_vmm_bytes, bytes,  "mappings dropped by the VMM's own threads (munmap, MADV_DONTNEED, balloon)") \
	X(mmu_inval_other_bytes, bytes, "mappings dropped by any other task (khugepaged, another process)") \
	X(guest_ipis,          events, "IPIs the VM's vCPUs sent (kvm:kvm_apic_ipi)") \
	X(guest_ipis_to_preempted, events, "IPIs to a vCPU whose thread was runnable but off CPU (KVM's vcpu->preempted)") \
	X(guest_ipis_to_halted, events, "IPIs to a vCPU in HLT (KVM_MP_STATE_HALTED)") \
	X(guest_ipis_to_running, events, "IPIs to a vCPU running in guest mode (IN_GUEST_MODE)") \
	X(vcpu_preemptions,    events, "times a vCPU thread was switched out while runnable (sched:sched_switch)") \
	X(flushes_recv_ksmd,   events, "KVM remote TLB flushes of this VM (kvm_flush_remote_tlbs) that ksmd caused (write-protecting and merging guest pages)") \
	X(flushes_recv_khugepaged, events, "KVM remote TLB flushes of this VM that khugepaged caused (collapsing guest memory into huge pages)") \
	X(flushes_recv_kcompactd, events, "KVM remote TLB flushes of this VM that kcompactd or a page migration (MMU_NOTIFY_MIGRATE) caused") \
	X(flushes_recv_kswapd, events, "KVM remote TLB flushes of this VM that reclaim caused (kswapd, direct reclaim, memory.reclaim)") \
	X(flushes_recv_numa,   events, "KVM remote TLB flushes of this VM that NUMA balancing's scan caused (task_numa_work in the VMM's threads)") \
	X(flushes_recv_vmm,    events, "KVM remote TLB flushes of this VM that the VMM's own threads caused (munmap, madvise, memslots, dirty logging)") \
	X(flushes_recv_other,  events, "KVM remote TLB flushes of this VM that any other task caused") \
	X(shootdowns_recv_ksmd, events, "TLB shootdowns ksmd sent for the VMM's mm (tlb:tlb_flush reason 4 inside flush_tlb_mm_range)") \
	X(shootdowns_recv_khugepaged, events, "TLB shootdowns khugepaged sent for the VMM's mm") \
	X(shootdowns_recv_kcompactd, events, "TLB shootdowns kcompactd (or a migration by another task) sent for the VMM's mm") \
	X(shootdowns_recv_kswapd, events, "TLB shootdowns reclaim (kswapd, direct reclaim) sent for the VMM's mm, unbatched ones only") \
	X(shootdowns_recv_other, events, "TLB shootdowns any other task outside the VMM sent for the VMM's mm")

/*
 * Who made KVM flush a VM's TLBs (kvm_flush_remote_tlbs), by the task running at the flush:
 * the counters flushes_recv_<cause> above are in this order, so that
 * VMMEM_C_flushes_recv_ksmd + VMMEM_FLUSH_<cause> is the counter of a cause.
 */
#define VMMEM_FLUSH_CAUSES(X)	X(ksmd) X(khugepaged) X(kcompactd) X(kswapd) X(numa) X(vmm) X(other)
#define VMMEM_FLUSH_ENUM(cause) VMMEM_FLUSH_##cause,
enum vmmem_flush_cause { VMMEM_FLUSH_CAUSES(VMMEM_FLUSH_ENUM) VMMEM_NR_FLUSH_CAUSES };
#undef VMMEM_FLUSH_ENUM
/* shootdowns_recv_* take the causes of tasks outside the VMM: ksmd..kswapd as above, then
 * other (numa and vmm run in the VMM's own threads: tlb_shootdown_ipis counts those) */
#define VMMEM_NR_SHOOT_CAUSES	5
#define VMMEM_SHOOT_COUNTER(cause)	(VMMEM_C_shootdowns_recv_ksmd +				\
					 ((cause) < VMMEM_FLUSH_numa ? (cause) : VMMEM_NR_SHOOT_CAUSES - 1))

/* Host-wide counters. */
#define VMMEM_HOST_COUNTERS(X)						\
	X(ksm_scans,      events, "ksmd full scans completed (ksm:ksm_stop_scan)") \
	X(dropped_events, events, "event records lost because the event ring was full") \
	X(missed_runs,    events, "probe runs the kernel skipped (BPF recursion, bpf_prog_active held, kretprobe instances exhausted): counts may be short by this much") \
	X(pool_exhausted, events, "probe-time allocations refused because a preallocated pool was full (VM slots, latency spans): that VM or sample went uncounted")

/*
 * Per-VMM latency histograms, log2 ns slots.  X(name, help)
 * Slot i counts durations d with 2^i <= d < 2^(i+1) ns (slot 0 also takes d < 1).
 */
#define VMMEM_VM_HISTS(X)						\
	X(tdp_fault_ns,       "EPT/NPT violation (kvm_page_fault) to the vCPU's next VM entry") \
	X(exit_tdp_ns,        "VM exit to next entry, exits for EPT/NPT violation or misconfig") \
	X(exit_io_ns,         "VM exit to next entry, port I/O exits")		\
	X(exit_hlt_ns,        "VM exit to next entry, HLT exits")			\
	X(exit_other_ns,      "VM exit to next entry, all other exits")		\
	X(balloon_discard_ns, "madvise/fallocate discard of guest RAM, syscall entry to exit") \
	X(tlb_shootdown_ns,   "TLB shootdown time seen by the sending thread (flush_tlb_mm_range)") \
	X(ipi_delivery_ns,    "guest IPI sent (kvm_apic_ipi) to the target vCPU's next VM entry") \
	X(vcpu_preempted_ns,  "a runnable vCPU thread's time off CPU (switched out while runnable to switched in)")

#define VMMEM_HOST_HISTS(X)						\
	X(ksm_scan_ns,        "ksmd full scan wall time (ksm_start_scan to ksm_stop_scan)")

#define VMMEM_ENUM_ENTRY(name, unit, help) VMMEM_C_##name,
enum vmmem_vm_counter_id { VMMEM_VM_COUNTERS(VMMEM_ENUM_ENTRY) VMMEM_NR_VM_COUNTERS };
#undef VMMEM_ENUM_ENTRY
#define VMMEM_ENUM_ENTRY(name, unit, help) VMMEM_H_##name,
enum vmmem_host_counter_id { VMMEM_HOST_COUNTERS(VMMEM_ENUM_ENTRY) VMMEM_NR_HOST_COUNTERS };
#undef VMMEM_ENUM_ENTRY

#define VMMEM_HIST_ENTRY(name, help) VMMEM_HIST_##name,
enum vmmem_vm_hist_id { VMMEM_VM_HISTS(VMMEM_HIST_ENTRY) VMMEM_NR_VM_HISTS };
#undef VMMEM_HIST_ENTRY
#define VMMEM_HIST_ENTRY(name, help) VMMEM_HHIST_##name,
enum vmmem_host_hist_id { VMMEM_HOST_HISTS(VMMEM_HIST_ENTRY) VMMEM_NR_HOST_HISTS };
#undef VMMEM_HIST_ENTRY

struct vmmem_hist {
	__u64 slot[VMMEM_HIST_SLOTS];
	__u64 sum_ns;			/* for the mean and Prometheus _sum */
};

struct vmmem_vm_hists {
	struct vmmem_hist h[VMMEM_NR_VM_HISTS];
};

struct vmmem_host_hists {
	struct vmmem_hist h[VMMEM_NR_HOST_HISTS];
};

/* One VMM's counters, indexed by enum vmmem_vm_counter_id. */
struct vmmem_vm_counters {
	__u64 c[VMMEM_NR_VM_COUNTERS];
};

struct vmmem_host_counters {
	__u64 c[VMMEM_NR_HOST_COUNTERS];
};

/* Slot states (slot_state[] in BPF, vmmem_vm_record.state in kmod). */
#define VMMEM_SLOT_FREE		0
#define VMMEM_SLOT_LIVE		1	/* tgid is alive and counting */
#define VMMEM_SLOT_EXITED	2	/* tgid exited; counters final until reaped */

/* How a slot was claimed. */
#define VMMEM_ORIGIN_KVM_CREATE	1	/* kernel saw the process create a VM */
#define VMMEM_ORIGIN_USER	2	/* user space found it in /proc */

/*
 * Event records (BPF ring buffer / kmod event ring).  X(name, number, help)
 * A consumer chooses which types are streamed with a mask of VMMEM_EV_BIT(type) (BPF: rodata
 * stream_mask; kmod: VMMEM_IOC_SET_STREAM).  The rare types cost nothing measurable; the
 * per-event types (tdp_fault, exit, tlb_shootdown, ksm_merge) cost one ring record per event
 * and are streamed only when a recording asks for them (vmmemtop record --events).
 */
#define VMMEM_EVENTS(X)							\
	X(ksm_scan,      1, "ksmd finished a full scan: a = scan duration ns, b = rmap_entries") \
	X(balloon,       2, "the VMM discarded or re-requested guest RAM: a = bytes, b = madvise behavior or 0x100|fallocate mode") \
	X(vm_start,      3, "tgid created a VM or was first seen by the kernel side: a = slot, b = VMMEM_ORIGIN_*") \
	X(vm_exit,       4, "tgid exited: a = slot")				\
	X(slow_fault,    5, "a TDP fault slower than the slow threshold: a = GPA, dur_ns = fault to next entry") \
	X(slow_exit,     6, "a VM exit slower than the threshold: a = exit reason, b = isa, dur_ns = exit to next entry") \
	X(tdp_fault,     7, "every TDP fault (kvm:kvm_page_fault): a = GPA, b = error code") \
	X(exit,          8, "every VM exit (kvm:kvm_exit): a = exit reason (~0 from vmmem.ko, which cannot read it), b = isa") \
	X(tlb_shootdown, 9, "every TLB shootdown the VMM sent (tlb:tlb_flush reason 4): a = pages, ~0 for a full flush") \
	X(ksm_merge,    10, "every page of the VMM that ksmd merged (ksm:ksm_merge_*)") \
	X(slow_ipi,     11, "a guest IPI delivered slower than the threshold: a = target vCPU thread, b = sending thread, dur_ns = send to the target's next entry") \
	X(flush_recv,   12, "every KVM remote TLB flush of the VM (kvm_flush_remote_tlbs): a = VMMEM_FLUSH_* cause, b = the causing task's pid; tid = that task too")

#define VMMEM_EV_ENTRY(name, nr, help) VMMEM_EV_##name = nr,
enum vmmem_event_type { VMMEM_EVENTS(VMMEM_EV_ENTRY) VMMEM_NR_EV_TYPES };
#undef VMMEM_EV_ENTRY
#define VMMEM_EV_BIT(type)	(1ull << (type))
/* What a consumer that does not choose gets: the rare types only. */
#define VMMEM_EV_RARE_MASK	(VMMEM_EV_BIT(VMMEM_EV_ksm_scan) | VMMEM_EV_BIT(VMMEM_EV_balloon) | \
				 VMMEM_EV_BIT(VMMEM_EV_vm_start) | VMMEM_EV_BIT(VMMEM_EV_vm_exit) | \
				 VMMEM_EV_BIT(VMMEM_EV_slow_fault) | VMMEM_EV_BIT(VMMEM_EV_slow_exit) | \
				 VMMEM_EV_BIT(VMMEM_EV_slow_ipi))

/*
 * Records the ring had no room for, per VMM (BPF: map ev_lost, by slot; vmmem.ko: in each
 * struct vmmem_vm_record), so that a recording
 * reconciles exactly with the counters: for each per-event type, events recorded + events[type]
 * lost = the counter's increase; for balloon records, bytes recorded + the lost bytes = the
 * balloon_*_bytes increase.  Host dropped_events counts every lost record, of VMMs or not.
 */
#define VMMEM_EV_LOST_TYPES	16	/* room for event numbers 0..15 */
struct vmmem_ev_lost {
	__u64 events[VMMEM_EV_LOST_TYPES];	/* by VMMEM_EV_* number */
	__u64 balloon_inflate_bytes;	/* a of lost balloon records that discarded */
	__u64 balloon_deflate_bytes;	/* a of lost balloon records with MADV_WILLNEED */
};

struct vmmem_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns / ktime_get_ns) */
	__u32 type;		/* VMMEM_EV_* */
	__u32 tgid;
	__u32 cpu;
	__u32 reserved;		/* zero */
	__u64 a;
	__u64 b;
	__u32 tid;		/* thread (vCPU) that hit the event, 0 if none */
	__u32 flags;		/* zero */
	__u64 dur_ns;		/* duration for timed events, else 0 */
};

/*
 * Guest RAM of one VMM, as the balloon filter sees it: the host virtual ranges the VMM
 * registered with KVM_SET_USER_MEMORY_REGION(2) (or, for QEMU without KVM, its RAM blocks),
 * sorted, merged (aliases such as the SMM address space or isa-bios map the same host
 * memory twice) and classified by backing; and the file ranges behind the shared ones.
 * A discard is split exactly along these ranges: inside counts as balloon bytes when it
 * frees memory for that backing, outside goes to vmm_own_discard_bytes.
 */
#define VMMEM_GUEST_RANGES	32
#define VMMEM_GUEST_FILES	16

#define VMMEM_GR_UNKNOWN	0	/* not learned yet: balloon counters unavailable */
#define VMMEM_GR_KNOWN		1

#define VMMEM_GR_SHARED		1	/* shared mapping (memfd, shmem, file): freed by PUNCH_HOLE/MADV_REMOVE */

struct vmmem_guest_range {
	__u64 start;		/* host virtual address */
	__u64 len;
	__u32 flags;		/* VMMEM_GR_SHARED */
	__u32 reserved;
};

struct vmmem_guest_file {
	__u64 ino;
	__u32 dev;		/* kernel dev_t (MKDEV: major << 20 | minor) */
	__u32 reserved;
	__u64 off;		/* file offset of the guest RAM range */
	__u64 len;
};

struct vmmem_guest_ram {
	__u32 state;		/* VMMEM_GR_* */
	__u32 nr;		/* ranges used */
	__u32 nr_files;
	__u32 reserved;
	__u64 gen;		/* user space bumps it on every rewrite */
	struct vmmem_guest_range r[VMMEM_GUEST_RANGES];
	struct vmmem_guest_file f[VMMEM_GUEST_FILES];
};

/* The VM counters that are unavailable for one VM while its guest RAM is unknown
 * (struct vmmem_vm_record.unavailable; user space's per-VM mask likewise). */
#define VMMEM_BALLOON_COUNTERS_MASK	((1ull << VMMEM_C_balloon_inflate_bytes) | \
					 (1ull << VMMEM_C_balloon_deflate_bytes) | \
					 (1ull << VMMEM_C_vmm_own_discard_bytes))

/* One memslot as the BPF iterator over kvm-vm files reports it (bpf/guest_ram.bpf.h). */
struct vmmem_kvm_slot {
	__u32 tgid;
	__u32 as_id_slot;	/* address space << 16 | slot id, as KVM_SET_USER_MEMORY_REGION's slot */
	__u64 kvm;		/* which VM of the process (the struct kvm address, an opaque id) */
	__u64 gpa;
	__u64 size;
	__u64 hva;
	__u32 flags;		/* KVM_MEM_* */
	__u32 reserved;
};

/* ---- /dev/vmmem (kmod backend) ---- */

/*
 * read() from offset 0 returns one consistent snapshot: this header followed by nr_vms
 * struct vmmem_vm_record.  A buffer smaller than the whole snapshot gets -EMSGSIZE; the
 * largest snapshot is header_size + VMMEM_MAX_VMS * record_size.  Counters and histograms
 * are cumulative since the VMM's slot was claimed; an exited VMM stays readable (state
 * VMMEM_SLOT_EXITED, counters final) for VMMEM_EXIT_LINGER_S seconds, then its slot is
 * reused with a new seq.
 */
#define VMMEM_EXIT_LINGER_S	10

struct vmmem_snapshot_header {
	__u32 abi_version;	/* VMMEM_ABI_VERSION */
	__u32 header_size;	/* sizeof(struct vmmem_snapshot_header) */
	__u32 record_size;	/* sizeof(struct vmmem_vm_record) */
	__u32 nr_vms;
	__u32 nr_vm_counters;	/* VMMEM_NR_VM_COUNTERS */
	__u32 nr_host_counters;	/* VMMEM_NR_HOST_COUNTERS */
	__u64 ts_ns;		/* CLOCK_MONOTONIC of the snapshot */
	__u64 available_vm;	/* bit i: VM counter i is fed by a hook attached now */
	__u64 available_host;	/* bit i: host counter i likewise */
	__u32 nr_vm_hists;	/* VMMEM_NR_VM_HISTS */
	__u32 nr_host_hists;	/* VMMEM_NR_HOST_HISTS */
	__u64 available_vm_hist;	/* bit i: VM histogram i likewise */
	__u64 available_host_hist;	/* bit i: host histogram i likewise */
	struct vmmem_host_counters host;
	struct vmmem_host_hists host_hists;
};

struct vmmem_vm_record {
	__u32 tgid;
	__u32 state;		/* VMMEM_SLOT_LIVE or VMMEM_SLOT_EXITED */
	__u64 seq;		/* allocation sequence: a new number for every new VMM */
	struct vmmem_vm_counters counters;
	struct vmmem_vm_hists hists;
	struct vmmem_ev_lost lost;	/* event records the ring had no room for */
	__u64 unavailable;	/* bit i: VM counter i means nothing for this VM (guest RAM unknown) */
};

/* Argument of VMMEM_IOC_GET_EVENTS. */
struct vmmem_events_req {
	__u64 buf;		/* user pointer to room for max struct vmmem_event */
	__u32 max;		/* 1..VMMEM_EVENTS_REQ_MAX */
	__u32 count;		/* in: 0; out: records copied */
};
#define VMMEM_EVENTS_REQ_MAX	4096

/* Argument of VMMEM_IOC_SET_STREAM. */
struct vmmem_stream_req {
	__u64 mask;		/* VMMEM_EV_BIT()s to stream; 0 releases the stream */
	__u64 slow_ns;		/* slow_fault/slow_exit threshold; 0 keeps the default (1 ms) */
};

/* Argument of VMMEM_IOC_TRACK. */
struct vmmem_track_req {
	__u32 tgid;
	__u32 reserved;		/* must be 0 */
};

#define VMMEM_IOC_MAGIC		0xb7
/**
 * VMMEM_IOC_ABI_VERSION - the ABI this module speaks.
 * Context: process.
 * Return: VMMEM_ABI_VERSION (> 0).
 */
#define VMMEM_IOC_ABI_VERSION	_IO(VMMEM_IOC_MAGIC, 0x01)
/**
 * VMMEM_IOC_RESET - zero every counter and histogram (slots stay claimed).
 * Context: process; needs CAP_SYS_ADMIN.
 * Return: 0; -EPERM without the capability.
 */
#define VMMEM_IOC_RESET		_IO(VMMEM_IOC_MAGIC, 0x02)
/**
 * VMMEM_IOC_GET_EVENTS - move up to @max pending event records into @buf.
 * Context: process; the caller must hold the stream (VMMEM_IOC_SET_STREAM).
 * poll() reports EPOLLIN while records are pending.  Records that found the ring
 * full were counted in the host counter dropped_events.
 * Return: 0 with @count set; -EFAULT on a bad pointer (@buf is written, and so checked,
 * only when records are pending: records copied to a bad @buf are lost); -EINVAL if @max
 * is 0 or above VMMEM_EVENTS_REQ_MAX or @count is not 0; -EPERM if this file does not
 * hold the stream.
 */
#define VMMEM_IOC_GET_EVENTS	_IOWR(VMMEM_IOC_MAGIC, 0x03, struct vmmem_events_req)
/**
 * VMMEM_IOC_SET_STREAM - choose the event types to stream, and become the one consumer.
 * Context: process.  Per-event types (tdp_fault, exit, tlb_shootdown, ksm_merge) need
 * CAP_PERFMON or CAP_SYS_ADMIN: they cost every event a ring record.  The stream is
 * released when @mask is 0 or the file is closed.
 * Return: 0; -EBUSY if another file holds the stream; -EPERM; -EINVAL for unknown bits;
 * -EFAULT on a bad pointer.
 */
#define VMMEM_IOC_SET_STREAM	_IOW(VMMEM_IOC_MAGIC, 0x04, struct vmmem_stream_req)
/**
 * VMMEM_IOC_TRACK - count a process that has not hit a KVM event yet (found in /proc).
 * Context: process; needs CAP_SYS_ADMIN.
 * Return: 0; -EEXIST if it is counted already; -ESRCH if no such live process;
 * -ENOSPC if every slot is used; -EINVAL if @reserved is not 0 or @tgid is 0 or above
 * PID_MAX_LIMIT; -EPERM; -EFAULT.
 */
#define VMMEM_IOC_TRACK		_IOW(VMMEM_IOC_MAGIC, 0x05, struct vmmem_track_req)

#endif /* _UAPI_VMMEM_H */
