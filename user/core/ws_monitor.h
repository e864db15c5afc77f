/* SPDX-License-Identifier: MIT */
/* Each VM's working set for the sampler (vmmemtop --working-set): the DAMON session of
 * user/facts/damon_sysfs.c, opened with the core (before privileges drop; its sysfs files stay
 * open), read by a thread of its own (a read waits for the kdamond's next aggregation, up to
 * 2 s per VM, so never on the sampling path), and turned off when the core closes. */
#ifndef VMMEM_WS_MONITOR_H
#define VMMEM_WS_MONITOR_H

#include <stdint.h>
#include <sys/types.h>
#include "vmm_info.h"

#define WS_REASON_OFF "off: vmmemtop --working-set turns it on (one kdamond per VM)"

struct ws_monitor;

/* Monitor the n VMMs of pids (start_times: their identities) over a window of window_s
 * seconds, under the DAMON sysfs tree root (DAMON_SYSFS_ROOT live). Where DAMON cannot be
 * used (absent, busy with kdamonds vmmem did not set up, no vaddr operations, not root), the
 * monitor still opens and every lookup says why. Returns 0 or -ENOMEM. */
int ws_monitor_open(struct ws_monitor **out, const char *root, double window_s, const pid_t *pids,
		    const uint64_t *start_times, int n);

/* info->working_set_bytes and working_set_why for the VM info names (pid, start_time):
 * the last reading, or absent with the reason. Never waits for DAMON. */
void ws_monitor_lookup(struct ws_monitor *m, struct vmm_info *info);

/* Why the whole monitor is unavailable ("" when its kdamonds run). */
const char *ws_monitor_why(const struct ws_monitor *m);

/* Stop the thread, turn the kdamonds off and remove them. NULL is fine. */
void ws_monitor_free(struct ws_monitor *m);

#endif
