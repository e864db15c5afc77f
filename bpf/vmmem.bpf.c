// SPDX-License-Identifier: GPL-2.0
/*
 * vmmem's kernel side (BPF): per-VMM counters for KVM's memory machinery, one file per
 * subsystem (lifecycle, kvm, tlb, ksm, evict, thp, balloon, guest_ram .bpf.c), linked into
 * one object (Makefile: bpftool gen object). This file holds what they share: the license
 * and the one definition of every VMMEM_SHARED map and variable of the headers below.
 *
 * Each event has one handler body (handle_*) and one thin wrapper per attach type; every
 * wrapper's hook, alternatives and counters are one row of bpf/progs.h, which both this side
 * (bpf/progs.bpf.h: the SEC() of each program) and user/source/source_bpf.c (which programs to
 * load, which counters a refused one leaves unavailable) expand. user/source/source_bpf.c probes
 * the running kernel and loads only the wrappers whose hook exists (user/source/bpf_probe.c).
 *
 * The hot handlers (TDP faults, exits, TLB shootdowns, KSM merges) come in two builds each,
 * from one body (VMMEM_TWIN in bpf/progs.bpf.h): the counting one, which streams nothing
 * and is exactly as cheap as before records existed, and a *_rec twin that also streams one
 * record per event. user/source/source_bpf.c loads the twin instead only when a recording asks for
 * that type.
 */
#define VMMEM_DEFINE_SHARED
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "vmmem.h"
#include "vmm_table.bpf.h"
#include "latency.bpf.h"
#include "guest_ram.bpf.h"

char LICENSE[] SEC("license") = "GPL";
