/* SPDX-License-Identifier: MIT */
/* The kernel-module backend's parser of /dev/vmmem snapshots, exposed for unit tests. */
#ifndef VMMEM_SOURCE_KMOD_H
#define VMMEM_SOURCE_KMOD_H

#include <stddef.h>
#include "source.h"

/* Parse one read() of the device into out, and the module's available hooks into avail
 * (may be NULL). Returns 0, or -EPROTO for anything malformed or of another ABI. */
int source_kmod_parse(const void *data, size_t len, struct source_read *out, struct counter_mask *avail);

#endif
