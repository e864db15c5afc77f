/* SPDX-License-Identifier: MIT */
/* Snapshot -> a plain text table (for `snapshot` without --json and for batch mode). */
#ifndef VMMEM_SNAPSHOT_TABLE_H
#define VMMEM_SNAPSHOT_TABLE_H

#include <stdio.h>
#include "snapshot.h"

void snapshot_print_table(const struct snapshot *s, FILE *f);

/* Human size from KiB ("1.5G"); "-" when absent. buf needs 16 bytes. */
const char *fmt_kb(struct opt_u64 kb, char *buf, size_t sz);

#endif
