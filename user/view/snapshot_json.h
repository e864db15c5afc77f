/* SPDX-License-Identifier: MIT */
/* Snapshot -> JSON (schema vmmemtop.snapshot/1). Fields may be added, never renamed. */
#ifndef VMMEM_SNAPSHOT_JSON_H
#define VMMEM_SNAPSHOT_JSON_H

#include <stdio.h>
#include <jansson.h>
#include "snapshot.h"

json_t *snapshot_to_json(const struct snapshot *s);

/* One histogram as the snapshot schema writes it (the report uses the same shape):
 * {"count","sum_ns","p50_ns","p99_ns","log2_ns":[slot counts up to the last non-zero]} */
json_t *snapshot_hist_json(const struct vmmem_hist *h);

/* One JSON object; compact prints it on one line (for streams). Returns 0 or -EIO. */
int snapshot_print_json(const struct snapshot *s, FILE *f, bool compact);

#endif
