/* SPDX-License-Identifier: MIT */
/* Guest-side balloon facts over QMP, read off the sampling path: a poller thread talks to
 * each known QMP socket about once a second (each conversation bounded by a timeout), and
 * the core copies the last result into a VM's facts without waiting for any QEMU. */
#ifndef VMMEM_QMP_POLL_H
#define VMMEM_QMP_POLL_H

#include "vmm_info.h"

#define QMP_POLL_MAX_PATHS	16	/* --qmp PATH options */

struct qmp_poll;

/* paths: sockets given with --qmp (each mapped to the process listening on it through
 * SO_PEERCRED). proc_root: "/proc" unless testing. The thread starts on the first lookup
 * that needs it, so it runs with the credentials of the thread that samples.
 * Returns 0 or -ENOMEM. */
int qmp_poll_new(struct qmp_poll **out, const char *const *paths, int nr_paths, const char *proc_root);

/* Fill info->qmp for the VM info describes (pid, start_time, and the socket its command
 * line names, if any): the socket used, whether QMP answered lately, and the values of the
 * last answer no older than a few seconds (absent otherwise). Never blocks on QEMU. */
void qmp_poll_lookup(struct qmp_poll *p, struct vmm_info *info);

void qmp_poll_free(struct qmp_poll *p);
/* The poller's last round: its duration, and whether every socket polled answered.
 * false before the first round. */
bool qmp_poll_round(struct qmp_poll *p, double *seconds, bool *ok);

#endif
