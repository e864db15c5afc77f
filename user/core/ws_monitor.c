// SPDX-License-Identifier: MIT
/* The sampler's working-set monitor (ws_monitor.h): one DAMON session for the VMMs present
 * when the core opened, read round after round by its own thread. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "damon_sysfs.h"
#include "working_set.h"
#include "worker.h"
#include "ws_monitor.h"

#define WS_MON_MAX	256		/* VMs one session monitors (damon_sysfs.c MAX_KDAMONDS) */
#define ROUND_PAUSE_MS	1000		/* between rounds: a round itself waits ~1 s per VM */

struct ws_slot {
	pid_t pid;
	uint64_t start_time;
	bool done;			/* its kdamond stopped (the process exited) */
	struct ws_vm vm;		/* the last reading (under lock) */
};

struct ws_monitor {
	double window_s;
	struct damon_session *s;	/* NULL: unavailable, why says so */
	char why[320];
	int n;
	struct ws_slot slot[WS_MON_MAX];
	pthread_mutex_t lock;
	struct worker worker;		/* ws_main() */
	double t0;
};

static double mono_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *ws_main(void *arg)
{
	struct ws_monitor *m = arg;

	while (!m->worker.stop) {
		for (int i = 0; i < m->n && !m->worker.stop; i++) {
			uint64_t bytes[DAMON_NR_SCHEMES] = { 0 };
			struct ws_vm v;
			int err;

			if (m->slot[i].done)
				continue;
			err = damon_session_read(m->s, i, bytes);
			pthread_mutex_lock(&m->lock);
			v = m->slot[i].vm;
			ws_vm_fill(&v, err, bytes, mono_s() - m->t0, m->window_s);
			m->slot[i].vm = v;
			m->slot[i].done = err == -ESRCH;
			pthread_mutex_unlock(&m->lock);
		}
		for (int k = 0; k < ROUND_PAUSE_MS / 100 && !m->worker.stop; k++)
			nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
	}
	return NULL;
}

int ws_monitor_open(struct ws_monitor **out, const char *root, double window_s, const pid_t *pids,
		    const uint64_t *start_times, int n)
{
	struct ws_monitor *m = calloc(1, sizeof(*m));
	struct damon_attrs a;
	int err;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	m->window_s = window_s;
	m->n = n < WS_MON_MAX ? n : WS_MON_MAX;
	for (int i = 0; i < m->n; i++) {
		m->slot[i].pid = pids[i];
		m->slot[i].start_time = start_times[i];
		snprintf(m->slot[i].vm.why, sizeof(m->slot[i].vm.why), "warming up: monitored for 0 of %.0f s",
			 window_s);
	}
	*out = m;
	if (!m->n) {
		snprintf(m->why, sizeof(m->why), "no VMM ran when monitoring began");
		return 0;
	}
	ws_attrs(window_s, &a);
	err = damon_session_start(root, pids, m->n, &a, &m->s, m->why, sizeof(m->why));
	if (err) {
		m->s = NULL;
		if (!m->why[0])
			snprintf(m->why, sizeof(m->why), "DAMON: %s", strerror(-err));
		return 0;
	}
	m->t0 = mono_s();
	if (worker_start(&m->worker, ws_main, m)) {
		snprintf(m->why, sizeof(m->why), "cannot start the working-set thread");
		damon_session_stop(m->s);
		m->s = NULL;
	}
	return 0;
}

void ws_monitor_lookup(struct ws_monitor *m, struct vmm_info *info)
{
	info->working_set_bytes = (struct opt_u64){ 0 };
	if (!m) {
		snprintf(info->working_set_why, sizeof(info->working_set_why), "%s", WS_REASON_OFF);
		return;
	}
	if (!m->s) {
		snprintf(info->working_set_why, sizeof(info->working_set_why), "%.191s", m->why);
		return;
	}
	for (int i = 0; i < m->n; i++) {
		const struct ws_slot *sl = &m->slot[i];

		if (sl->pid != info->pid || sl->start_time != info->start_time)
			continue;
		pthread_mutex_lock(&m->lock);
		if (sl->vm.available)
			info->working_set_bytes = (struct opt_u64){ sl->vm.working_set_bytes, true };
		snprintf(info->working_set_why, sizeof(info->working_set_why), "%.191s",
			 sl->vm.available ? "" : sl->vm.why);
		pthread_mutex_unlock(&m->lock);
		return;
	}
	snprintf(info->working_set_why, sizeof(info->working_set_why),
		 "not monitored: the VM started after monitoring began (restart vmmemtop to include it)");
}

const char *ws_monitor_why(const struct ws_monitor *m)
{
	return !m ? WS_REASON_OFF : m->s ? "" : m->why;
}

void ws_monitor_free(struct ws_monitor *m)
{
	if (!m)
		return;
	worker_stop(&m->worker);
	damon_session_stop(m->s);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
