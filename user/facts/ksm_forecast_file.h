/* SPDX-License-Identifier: MIT */
/* The KSM forecast's result file: written by `vmmemtop ksm-forecast` (totals only), read by
 * the collector for the snapshot and the advisor. */
#ifndef VMMEM_KSM_FORECAST_FILE_H
#define VMMEM_KSM_FORECAST_FILE_H

#include <stddef.h>
#include <jansson.h>
#include "host_state.h"

#define KF_SCHEMA	"vmmemtop.ksm-forecast/1"
#define KF_DEFAULT_PATH	"/run/vmmem/ksm-forecast.json"

/* Write o to path atomically (temporary file, rename), creating the parent directory.
 * Returns 0 or negative errno. */
int ksm_forecast_file_write(const char *path, json_t *o);

/* Parse a forecast's JSON text (len bytes) into out. Returns 0, or -EINVAL with err filled. */
int ksm_forecast_parse(const char *text, size_t len, struct host_ksm_forecast *out,
		       char *err, size_t errsz);

/* Parse the already-decoded object (the snapshot loader's "ksm_forecast" is one). */
int ksm_forecast_parse_json(json_t *root, struct host_ksm_forecast *out, char *err, size_t errsz);

/* The summary as the snapshot carries it (host.ksm_forecast): same schema, totals only. */
json_t *ksm_forecast_summary_json(const struct host_ksm_forecast *f);

/* Read path into out, re-parsing only when its mtime or size changed (the collector calls
 * this every sample: a stat(2) then). A missing or malformed file leaves out->present false. */
void ksm_forecast_file_poll(const char *path, struct host_ksm_forecast *out);

/* Read path into out; out->present is false when there is no file. Returns 0 (also when the
 * file is absent), or negative errno / -EINVAL when it is unreadable or malformed. */
int ksm_forecast_file_read(const char *path, struct host_ksm_forecast *out, char *err, size_t errsz);

#endif
