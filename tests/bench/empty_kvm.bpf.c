// SPDX-License-Identifier: GPL-2.0
/* Baseline for the IPI and flush cost bench (tests/bench/ipi_flush_bench.sh), in the nested
 * guest: an empty program on each hook vmmem's IPI and flush programs use. No context is
 * read: the guest kernel's BTF types the hooks, libbpf finds them (kvm.ko's included). The
 * bench pairs each with vmmem's programs by the hook in its SEC(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define EMPTY(sec, name)	SEC(sec) int name(void *ctx) { return 0; }

EMPTY("tp_btf/kvm_apic_ipi", empty_ipi_btf)
EMPTY("tp_btf/kvm_entry", empty_entry_btf)
EMPTY("tp_btf/sched_switch", empty_sched_btf)
EMPTY("fentry/kvm_sched_out", empty_vout_fentry)
EMPTY("fentry/kvm_sched_in", empty_vin_fentry)
EMPTY("tracepoint/kvm/kvm_exit", empty_exit_tp)
EMPTY("tp_btf/kvm_page_fault", empty_fault_btf)
EMPTY("tp_btf/tlb_flush", empty_tlb_btf)
EMPTY("fentry/kvm_flush_remote_tlbs", empty_kflush_fentry)
EMPTY("fentry/kvm_mmu_notifier_invalidate_range_start", empty_notify_fentry)
EMPTY("fexit/kvm_mmu_notifier_invalidate_range_start", empty_notify_fexit)
EMPTY("fentry/flush_tlb_mm_range", empty_mm_fentry)
EMPTY("fexit/flush_tlb_mm_range", empty_mm_fexit)
EMPTY("fentry/native_flush_tlb_multi", empty_multi_fentry)
EMPTY("fentry/__x64_sys_madvise", empty_madv_fentry)
EMPTY("fexit/__x64_sys_madvise", empty_madv_fexit)
