/* SPDX-License-Identifier: MIT */
/* Snapshot -> a plain text table (for `snapshot` without --json and for batch mode). */
#ifndef VMMEM_SNAPSHOT_TABLE_H
#define VMMEM_SNAPSHOT_TABLE_H

#include <stdio.h>
#include "fact_table.h"
#include "snapshot.h"

void snapshot_print_table(const struct snapshot *s, FILE *f);

/* Human size from KiB ("1.5G"); "-" when absent. buf needs 16 bytes. */
const char *fmt_kb(struct opt_u64 kb, char *buf, size_t sz);

/* Fact f of base (a struct host_state or struct vmm_info) in its unit: sizes as K/M/G, "-"
 * when absent (or an empty string), never 0. buf needs 32 bytes. */
const char *fmt_fact(const struct fact *f, const void *base, char *buf, size_t sz);

#endif
