/* SPDX-License-Identifier: MIT */
/* The BPF backend's guest RAM tables (see guest_ram_bpf.c). */
#ifndef VMMEM_GUEST_RAM_BPF_H
#define VMMEM_GUEST_RAM_BPF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "vmm_qmp.h"

struct gr_tracker;
struct vmmem_bpf;

/* iter_loaded: the kvm-vm memslot iterator program was loaded (the kernel has struct kvm in
 * its BTF and task_file iterators); hook: a memslot update hook is attached. */
int gr_tracker_new(struct gr_tracker **out, struct vmmem_bpf *skel, bool iter_loaded, bool hook, bool verbose);
bool gr_tracker_has_iter(const struct gr_tracker *t);
/* Learn the guest RAM of every live slot again (at most once a second unless forced). */
void gr_tracker_refresh(struct gr_tracker *t, bool force);
/* True if the slot's guest RAM is known, so its balloon counters mean what they say. */
bool gr_tracker_known(const struct gr_tracker *t, uint32_t slot);
/* QEMU's RAM block sizes for tgid (QMP), for a VMM without KVM memslots. */
void gr_tracker_hint(struct gr_tracker *t, pid_t tgid, const uint64_t *sizes, int n, const char *from);
/* The slot was freed: its table goes back to unknown. */
void gr_tracker_forget(struct gr_tracker *t, uint32_t slot);
void gr_tracker_free(struct gr_tracker *t);

#endif
