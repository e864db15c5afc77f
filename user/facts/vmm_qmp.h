/* SPDX-License-Identifier: MIT */
/* What QMP tells about one VM: the balloon's size (query-balloon) and, where the guest's
 * balloon driver sends them, the guest's own memory statistics (qom-get guest-stats).
 * One table names each value everywhere: JSON .qmp.NAME, Prometheus vmmem_NAME[_total]. */
#ifndef VMMEM_VMM_QMP_H
#define VMMEM_VMM_QMP_H

#include <stdbool.h>
#include "host_state.h"

#define VMM_QMP_GAUGE	0
#define VMM_QMP_COUNTER	1

/* X(name, QMP key, unit (a fact_table.h FU_*), kind, help). "actual" is query-balloon's; the "stat-*" keys and
 * "last-update" are the balloon device's guest-stats property (QEMU hw/virtio/
 * virtio-balloon.c balloon_stat_names). The Linux driver (drivers/virtio/virtio_balloon.c
 * update_balloon_stats) sends memory sizes and swap traffic in bytes, faults as counts. */
#define VMM_QMP_FIELDS(X) \
	X(balloon_actual_bytes, "actual", FU_BYTES, VMM_QMP_GAUGE, \
	  "guest RAM the balloon leaves the guest (QMP query-balloon actual)") \
	X(guest_mem_total_bytes, "stat-total-memory", FU_BYTES, VMM_QMP_GAUGE, \
	  "RAM the guest kernel manages (guest balloon stats, MemTotal)") \
	X(guest_mem_free_bytes, "stat-free-memory", FU_BYTES, VMM_QMP_GAUGE, \
	  "guest RAM left unused (guest balloon stats, MemFree)") \
	X(guest_mem_available_bytes, "stat-available-memory", FU_BYTES, VMM_QMP_GAUGE, \
	  "guest RAM available without swapping (guest balloon stats, MemAvailable)") \
	X(guest_mem_cached_bytes, "stat-disk-caches", FU_BYTES, VMM_QMP_GAUGE, \
	  "guest file cache the guest can drop (guest balloon stats)") \
	X(guest_swap_in_bytes, "stat-swap-in", FU_BYTES, VMM_QMP_COUNTER, \
	  "bytes the guest swapped in since it booted (guest balloon stats)") \
	X(guest_swap_out_bytes, "stat-swap-out", FU_BYTES, VMM_QMP_COUNTER, \
	  "bytes the guest swapped out since it booted (guest balloon stats)") \
	X(guest_major_faults, "stat-major-faults", FU_COUNT, VMM_QMP_COUNTER, \
	  "major page faults in the guest since it booted (guest balloon stats)") \
	X(guest_minor_faults, "stat-minor-faults", FU_COUNT, VMM_QMP_COUNTER, \
	  "minor page faults in the guest since it booted (guest balloon stats)") \
	X(guest_stats_last_update_timestamp_seconds, "last-update", FU_UNIX_S, VMM_QMP_GAUGE, \
	  "when the guest last sent balloon stats (Unix time)")

enum vmm_qmp_field {
#define X(name, key, unit, kind, help) VMM_QMP_##name,
	VMM_QMP_FIELDS(X)
#undef X
	VMM_QMP_NR
};

#define VMM_QMP_PATH_MAX 108	/* sizeof(sockaddr_un.sun_path) */
#define VMM_QMP_RAMBLOCKS 32	/* QEMU RAM blocks remembered (guest RAM for the balloon filter) */

struct vmm_qmp {
	char socket[VMM_QMP_PATH_MAX];	/* -qmp unix:PATH,server, -chardev+-mon, or --qmp; "" none */
	bool abstract;			/* in the abstract namespace (abstract=on) */
	bool up;			/* a QMP conversation succeeded in the last few seconds */
	char error[96];			/* why not, when !up ("" before the first attempt) */
	struct opt_u64 v[VMM_QMP_NR];	/* from the last successful conversation */
	int nr_ramblocks;		/* HMP info ramblock: blocks' max_length; 0 unknown */
	uint64_t ramblock_size[VMM_QMP_RAMBLOCKS];
};

extern const char *const vmm_qmp_names[VMM_QMP_NR];
extern const char *const vmm_qmp_keys[VMM_QMP_NR];
extern const char *const vmm_qmp_help[VMM_QMP_NR];
extern const int vmm_qmp_kinds[VMM_QMP_NR];

#endif
