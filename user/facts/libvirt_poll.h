/* SPDX-License-Identifier: MIT */
/* Guest-side balloon facts and identity from libvirt, for the domains libvirtd runs: one
 * read-only connection, virConnectGetAllDomainStats() with the balloon group about once a
 * second in a thread of its own, so no second QMP socket is needed (libvirt keeps QEMU's
 * monitor to itself). The core copies the last answer without waiting for libvirtd. */
#ifndef VMMEM_LIBVIRT_POLL_H
#define VMMEM_LIBVIRT_POLL_H

#include <stdbool.h>
#include "vmm_info.h"

#define LIBVIRT_DEFAULT_URI "qemu:///system"

struct libvirt_poll;

/* uri: NULL for qemu:///system. Returns 0, or -ENOTSUP when vmmemtop was built without
 * libvirt (then every lookup leaves info alone), or -ENOMEM. Connects on the first lookup
 * of a libvirt domain, in the thread that samples' credentials. */
int libvirt_poll_new(struct libvirt_poll **out, const char *uri);

/* For a VM libvirt runs (info->libvirt_domain or its UUID among libvirt's domains): the
 * domain's libvirt name and UUID, and, when the VM has no QMP socket of its own, info->qmp
 * from libvirt's balloon stats (qmp.socket "libvirt:URI"). Never blocks on libvirtd. */
void libvirt_poll_lookup(struct libvirt_poll *p, struct vmm_info *info);

void libvirt_poll_free(struct libvirt_poll *p);

/* One domain's balloon stats (virConnectGetAllDomainStats' "balloon.*" fields, sizes in
 * KiB) into q's values; guest stats only when last-update is at most max_age_s old at now.
 * Pure (unit-tested). */
struct libvirt_field {
	const char *name;
	unsigned long long v;
};
void libvirt_balloon_to_qmp(const struct libvirt_field *f, int n, long long now, long long max_age_s,
			    struct vmm_qmp *q);

#endif
