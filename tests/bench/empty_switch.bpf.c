// SPDX-License-Identifier: GPL-2.0
/* Baseline for tests/bench/switch_bench.sh: empty programs on the two hooks of the
 * context-switch path vmmem uses (the floor any tp_btf program on them costs). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int BPF_PROG(empty_sched_btf, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return 0;
}

SEC("tp_btf/tlb_flush")
int BPF_PROG(empty_tlb_btf, int reason, unsigned long pages)
{
	return 0;
}
