/* SPDX-License-Identifier: MIT */
/* Feature probes for the BPF backend: which hooks does the running kernel have? */
#ifndef VMMEM_BPF_PROBE_H
#define VMMEM_BPF_PROBE_H

#include <stdbool.h>

/* Make sure tracefs is mounted (libbpf attaches tracepoints by their tracefs id).
 * Returns the tracefs path, or NULL if it is absent and cannot be mounted. */
const char *probe_tracefs(void);

/* True if tracepoint category/name exists. */
bool probe_tracepoint(const char *category, const char *name);

/* True if a kernel function with BTF exists (vmlinux or a loaded module), so that
 * fentry/fexit can attach to it. */
bool probe_btf_function(const char *name);

/* True if a BTF typedef exists (btf_trace_<tracepoint> means tp_btf can attach). */
bool probe_btf_typedef(const char *name);

/* True if a struct has BTF (vmlinux or a loaded kvm module): CO-RE can relocate its fields. */
bool probe_btf_struct(const char *name);

/* True if the kernel lets us load fentry/fexit programs at all (tried once). */
bool probe_fentry_loads(void);
bool probe_task_storage(void);

/* True if a kprobe can attach to this kernel function (kprobes on, symbol in kallsyms). */
bool probe_kprobe(const char *symbol);

/* True if the kernel exposes its own BTF (CO-RE needs it). */
bool probe_kernel_btf(void);

void probe_cleanup(void);

#endif
