// SPDX-License-Identifier: MIT
/* The QMP poller: one thread, one short conversation per socket per round (qmp.c), results
 * kept per target under a mutex that is never held during I/O. A hung QEMU costs the
 * poller one timeout per round and the sampler nothing. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "qmp.h"
#include "qmp_poll.h"
#include "vmmem.h"

#define QMP_PERIOD_S	1.0	/* a round at most this often */
#define QMP_TIMEOUT_MS	1000	/* per conversation, connect to close */
#define QMP_FRESH_S	10.0	/* older values are not exported */
#define QMP_FORGET_S	30.0	/* a socket no VM asked about for this long is dropped */
#define QMP_TARGETS	(VMMEM_MAX_VMS + QMP_POLL_MAX_PATHS)

struct target {
	bool used, is_explicit;
	uint64_t gen;			/* changes when the slot is reused */
	pid_t pid;			/* the VMM (explicit: the last listener seen, 0 unknown) */
	uint64_t start_time;
	char path[VMM_QMP_PATH_MAX];
	bool abstract;
	double wanted_at;		/* last lookup that named it */
	double result_at;		/* last successful conversation, 0 never */
	bool last_ok;			/* the latest attempt succeeded */
	struct vmm_qmp result;		/* values of the last success; error of the last failure */
	char balloon[QMP_QOM_PATH_MAX];	/* the balloon's QOM path, once found */
};

struct work {
	int idx;
	uint64_t gen;
	struct target t;
};

struct qmp_poll {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, start_failed, stop, kick;
	int nr_explicit;		/* --qmp targets: slots 0 .. nr_explicit-1, never freed */
	double round_s;			/* the last round: its time, and whether every socket answered */
	bool round_ok;
	uint64_t rounds;
	char proc_root[64];
	struct target t[QMP_TARGETS];
	struct work work[QMP_TARGETS];	/* the poller's copy of one round's targets */
	struct qmp_conn conn;		/* the poller's only connection */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A relative -qmp path is relative to QEMU's working directory. */
static int resolve(const struct qmp_poll *p, const struct target *t, char *out, size_t outsz)
{
	int n;

	if (t->is_explicit || t->abstract || t->path[0] == '/')
		n = snprintf(out, outsz, "%s", t->path);
	else
		n = snprintf(out, outsz, "%s/%d/cwd/%s", p->proc_root, (int)t->pid, t->path);
	return n > 0 && (size_t)n < outsz ? 0 : -ENAMETOOLONG;
}

static void poll_one(struct qmp_poll *p, struct work *w)
{
	struct target *t = &w->t;
	struct vmm_qmp r = { .up = false };
	char path[VMM_QMP_PATH_MAX], err[sizeof(r.error)] = "";
	uint64_t start_time = 0;
	pid_t peer = 0;
	int ret = resolve(p, t, path, sizeof(path));

	if (ret)
		snprintf(err, sizeof(err), "QMP socket path too long with /proc/%d/cwd", (int)t->pid);
	else
		ret = qmp_read_vm(&p->conn, path, t->abstract, QMP_TIMEOUT_MS, &peer, t->balloon, &r, err, sizeof(err));
	if (!ret && !t->is_explicit && peer != t->pid) {
		/* a stale path now served by another process */
		snprintf(err, sizeof(err), "QMP socket %.60s belongs to pid %d", t->path, (int)peer);
		ret = -EPERM;
	}
	if (!ret && t->is_explicit && vmm_identity_read(p->proc_root, peer, &start_time))
		ret = -ESRCH, snprintf(err, sizeof(err), "QMP socket %.60s: its pid %d is gone", t->path, (int)peer);

	pthread_mutex_lock(&p->lock);
	t = &p->t[w->idx];
	if (t->used && t->gen == w->gen) {
		memcpy(t->balloon, w->t.balloon, sizeof(t->balloon));
		t->last_ok = !ret;
		if (!ret) {
			memcpy(t->result.v, r.v, sizeof(r.v));
			t->result.nr_ramblocks = r.nr_ramblocks;
			memcpy(t->result.ramblock_size, r.ramblock_size, sizeof(r.ramblock_size));
			t->result.error[0] = 0;
			t->result_at = mono_s();
			if (t->is_explicit)
				t->pid = peer, t->start_time = start_time;
		} else {
			snprintf(t->result.error, sizeof(t->result.error), "%s", err);
		}
	}
	pthread_mutex_unlock(&p->lock);
}

static void *poller_main(void *arg)
{
	struct qmp_poll *p = arg;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		double now = mono_s(), next = now + QMP_PERIOD_S;
		struct timespec ts;
		int n = 0;

		for (int i = 0; i < QMP_TARGETS; i++) {
			struct target *t = &p->t[i];

			if (t->used && !t->is_explicit && now - t->wanted_at > QMP_FORGET_S)
				t->used = false;	/* its VM is gone */
			if (!t->used)
				continue;
			p->work[n].idx = i;
			p->work[n].gen = t->gen;
			p->work[n++].t = *t;
		}
		p->kick = false;
		pthread_mutex_unlock(&p->lock);
		for (int i = 0; i < n; i++) {
			poll_one(p, &p->work[i]);
			if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
				break;
		}
		pthread_mutex_lock(&p->lock);
		p->round_s = mono_s() - now;
		p->round_ok = true;
		for (int i = 0; i < n; i++)
			if (p->t[p->work[i].idx].gen == p->work[i].gen && !p->t[p->work[i].idx].last_ok)
				p->round_ok = false;
		p->rounds++;
		while (!p->stop && !p->kick && mono_s() < next) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000;
			if (ts.tv_nsec >= 1000000000)
				ts.tv_sec++, ts.tv_nsec -= 1000000000;
			pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static struct target *slot_new(struct qmp_poll *p)
{
	for (int i = 0; i < QMP_TARGETS; i++) {
		struct target *t = &p->t[i];

		if (!t->used) {
			uint64_t gen = t->gen + 1;

			memset(t, 0, sizeof(*t));
			t->used = true;
			t->gen = gen;
			return t;
		}
	}
	return NULL;
}

int qmp_poll_new(struct qmp_poll **out, const char *const *paths, int nr_paths, const char *proc_root)
{
	struct qmp_poll *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	snprintf(p->proc_root, sizeof(p->proc_root), "%s", proc_root ? proc_root : "/proc");
	for (int i = 0; i < nr_paths && i < QMP_POLL_MAX_PATHS; i++) {
		struct target *t = slot_new(p);

		t->is_explicit = true;
		snprintf(t->path, sizeof(t->path), "%s", paths[i]);
		p->nr_explicit++;
	}
	*out = p;
	return 0;
}

/* Under the lock: start the thread the first time there is something to poll. */
static void ensure_running(struct qmp_poll *p)
{
	if (p->running || p->start_failed)
		return;
	if (pthread_create(&p->thread, NULL, poller_main, p)) {
		p->start_failed = true;	/* QMP values stay unavailable; counting goes on */
		return;
	}
	p->running = true;
}

void qmp_poll_lookup(struct qmp_poll *p, struct vmm_info *info)
{
	struct vmm_qmp *q = &info->qmp;
	struct target *use = NULL;
	double now = mono_s();

	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < p->nr_explicit && !use; i++) {
		struct target *t = &p->t[i];

		if (t->pid == info->pid && t->start_time == info->start_time)
			use = t;
	}
	for (int i = p->nr_explicit; i < QMP_TARGETS && !use && q->socket[0]; i++) {
		struct target *t = &p->t[i];

		if (t->used && !t->is_explicit && t->pid == info->pid && t->start_time == info->start_time &&
		    t->abstract == q->abstract && !strcmp(t->path, q->socket))
			use = t;
	}
	if (!use && q->socket[0] && (use = slot_new(p))) {
		use->pid = info->pid;
		use->start_time = info->start_time;
		use->abstract = q->abstract;
		snprintf(use->path, sizeof(use->path), "%s", q->socket);
		p->kick = true;		/* read it now, not at the next round */
		pthread_cond_signal(&p->cond);
	}
	if (use || p->nr_explicit)
		ensure_running(p);
	if (use) {
		bool fresh = use->result_at > 0 && now - use->result_at <= QMP_FRESH_S;

		use->wanted_at = now;
		snprintf(q->socket, sizeof(q->socket), "%s", use->path);
		q->abstract = use->abstract;
		q->up = fresh && use->last_ok;
		snprintf(q->error, sizeof(q->error), "%s", q->up ? "" : use->result.error[0] ? use->result.error :
			 p->start_failed ? "cannot start the QMP thread" : "no answer yet");
		for (int k = 0; k < VMM_QMP_NR; k++)
			q->v[k] = fresh ? use->result.v[k] : (struct opt_u64){ 0 };
		q->nr_ramblocks = fresh ? use->result.nr_ramblocks : 0;
		memcpy(q->ramblock_size, use->result.ramblock_size, sizeof(q->ramblock_size));
	}
	pthread_mutex_unlock(&p->lock);
}

void qmp_poll_free(struct qmp_poll *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	__atomic_store_n(&p->stop, true, __ATOMIC_RELAXED);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->running)
		pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

bool qmp_poll_round(struct qmp_poll *p, double *seconds, bool *ok)
{
	bool any;

	pthread_mutex_lock(&p->lock);
	any = p->rounds > 0;
	*seconds = p->round_s;
	*ok = p->round_ok;
	pthread_mutex_unlock(&p->lock);
	return any;
}
