// SPDX-License-Identifier: MIT
/* The working-set figure from DAMON's two "stat" schemes (see working_set.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "working_set.h"

#define SAMPLE_US	200000ul
#define AGGR_US		1000000ul

void ws_attrs(double window_s, struct damon_attrs *a)
{
	double aggrs = window_s * 1e6 / AGGR_US;

	a->sample_us = SAMPLE_US;
	a->aggr_us = AGGR_US;
	a->update_us = AGGR_US;
	a->min_regions = 100;
	a->max_regions = 1000;
	/* age counts whole aggregations after the last one with an access */
	a->warm_max_age = aggrs >= 2 ? (unsigned long)lround(aggrs) - 1 : 1;
}

void ws_vm_fill(struct ws_vm *v, int err, const uint64_t bytes[DAMON_NR_SCHEMES], double elapsed_s,
		double window_s)
{
	v->available = false;
	v->hot_bytes = err ? 0 : bytes[DAMON_HOT];
	v->warm_bytes = err ? 0 : bytes[DAMON_WARM];
	v->cold_bytes = err ? 0 : bytes[DAMON_COLD];
	v->working_set_bytes = 0;
	if (err == -ESRCH) {
		snprintf(v->why, sizeof(v->why), "its kdamond stopped (the process exited)");
		return;
	}
	if (err) {
		snprintf(v->why, sizeof(v->why), "DAMON read failed: %s", strerror(-err));
		return;
	}
	if (elapsed_s < WS_WARMUP_WINDOWS * window_s || (!v->cold_bytes && elapsed_s < 3 * window_s)) {
		snprintf(v->why, sizeof(v->why), "warming up: monitored for %.0f of %.0f s",
			 elapsed_s, WS_WARMUP_WINDOWS * window_s);
		return;
	}
	v->available = true;
	v->why[0] = '\0';
	v->working_set_bytes = v->hot_bytes + v->warm_bytes;
}
