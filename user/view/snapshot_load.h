/* SPDX-License-Identifier: MIT */
/* JSON (schema vmmemtop.snapshot/1, as `snapshot --json` writes it) -> struct snapshot. */
#ifndef VMMEM_SNAPSHOT_LOAD_H
#define VMMEM_SNAPSHOT_LOAD_H

#include <stddef.h>
#include "snapshot.h"

/* Parse text (len bytes). Returns 0, or -EINVAL with one line in err naming the problem
 * (the field, its path, what was wrong). The caller frees with snapshot_free. */
int snapshot_load(const char *text, size_t len, struct snapshot *out, char *err, size_t errsz);

#endif
