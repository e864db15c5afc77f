/* SPDX-License-Identifier: MIT */
/* A loop on a thread of its own, ended by a flag: the collector's sampling and the working-set
 * monitor's reading. The loop reads stop between steps (and hands it to what waits). */
#ifndef VMMEM_WORKER_H
#define VMMEM_WORKER_H

#include <pthread.h>
#include <stdbool.h>

struct worker {
	pthread_t thread;
	bool running;		/* started and not yet joined */
	volatile int stop;	/* set by worker_stop() */
};

/* Start fn(arg) on its own thread. 0 or a positive errno (pthread_create()'s). */
static inline int worker_start(struct worker *w, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(&w->thread, NULL, fn, arg);

	w->running = !err;
	return err;
}

/* Ask the loop to end and wait until it has (at once when it never started). */
static inline void worker_stop(struct worker *w)
{
	w->stop = 1;
	if (w->running)
		pthread_join(w->thread, NULL);
	w->running = false;
}

#endif
