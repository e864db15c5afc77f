// SPDX-License-Identifier: MIT
/* The libvirt poller: a read-only connection and one virConnectGetAllDomainStats() per
 * round (balloon group, active domains), results kept under a mutex never held during a
 * libvirt call. libvirt's own numbers come from QEMU's query-balloon and the balloon
 * device's guest-stats (src/qemu/qemu_monitor_json.c qemuMonitorJSONGetMemoryStats), sizes
 * divided by 1024: they are turned back into bytes here. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "libvirt_poll.h"
#include "vmmem.h"
#ifdef HAVE_LIBVIRT
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#endif

#define LV_PERIOD_S	1.0	/* a round at most this often */
#define LV_RETRY_S	5.0	/* after a failed connection */
#define LV_FRESH_S	10.0	/* older rounds are not exported */
#define LV_STATS_AGE_S	30	/* guest stats whose last-update is older are left out */

void libvirt_balloon_to_qmp(const struct libvirt_field *f, int n, long long now, long long max_age_s,
			    struct vmm_qmp *q)
{
	static const struct { const char *field; int idx; unsigned long long scale; bool guest; } map[] = {
		{ "balloon.current", VMM_QMP_balloon_actual_bytes, 1024, false },
		{ "balloon.available", VMM_QMP_guest_mem_total_bytes, 1024, true },
		{ "balloon.unused", VMM_QMP_guest_mem_free_bytes, 1024, true },
		{ "balloon.usable", VMM_QMP_guest_mem_available_bytes, 1024, true },
		{ "balloon.disk_caches", VMM_QMP_guest_mem_cached_bytes, 1024, true },
		{ "balloon.swap_in", VMM_QMP_guest_swap_in_bytes, 1024, true },
		{ "balloon.swap_out", VMM_QMP_guest_swap_out_bytes, 1024, true },
		{ "balloon.major_fault", VMM_QMP_guest_major_faults, 1, true },
		{ "balloon.minor_fault", VMM_QMP_guest_minor_faults, 1, true },
		{ "balloon.last-update", VMM_QMP_guest_stats_last_update_timestamp_seconds, 1, true },
	};
	long long last = -1;

	for (int i = 0; i < VMM_QMP_NR; i++)
		q->v[i] = (struct opt_u64){ 0 };
	for (int i = 0; i < n; i++)
		if (!strcmp(f[i].name, "balloon.last-update"))
			last = (long long)f[i].v;
	for (int i = 0; i < n; i++) {
		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++) {
			if (strcmp(f[i].name, map[m].field))
				continue;
			/* guest stats only while the guest sends them (a stats period is set) */
			if (map[m].guest && (last <= 0 || now - last > max_age_s || last - now > max_age_s))
				break;
			if (f[i].v > UINT64_MAX / map[m].scale)	/* garbage, not a size */
				break;
			q->v[map[m].idx] = (struct opt_u64){ f[i].v * map[m].scale, true };
			break;
		}
	}
}

#ifndef HAVE_LIBVIRT

int libvirt_poll_new(struct libvirt_poll **out, const char *uri)
{
	(void)uri;
	*out = NULL;
	return -ENOTSUP;
}

void libvirt_poll_lookup(struct libvirt_poll *p, struct vmm_info *info)
{
	(void)p;
	(void)info;
}

void libvirt_poll_free(struct libvirt_poll *p)
{
	(void)p;
}

#else

#define LV_MAX_FIELDS	32

struct lv_dom {
	char name[VMM_NAME_MAX];
	char uuid[VMM_UUID_LEN + 1];
	int nr;
	struct libvirt_field f[LV_MAX_FIELDS];
	char fname[LV_MAX_FIELDS][VIR_TYPED_PARAM_FIELD_LENGTH];
};

struct libvirt_poll {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool running, start_failed, stop;
	char uri[64];
	struct lv_dom *doms;		/* the last round's active domains */
	int nr_doms;
	double result_at;		/* CLOCK_MONOTONIC of the last successful round, 0 never */
	char error[96];			/* why the last round failed */
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* libvirt prints every error to stderr unless told otherwise; the view owns the terminal */
static void quiet_errors(void *ctx, virErrorPtr e)
{
	(void)ctx;
	(void)e;
}

static int poll_round(virConnectPtr conn, struct lv_dom **out)
{
	virDomainStatsRecordPtr *recs = NULL;
	struct lv_dom *d;
	int n;

	n = virConnectGetAllDomainStats(conn, VIR_DOMAIN_STATS_BALLOON, &recs,
					VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE);
	if (n < 0)
		return -EIO;
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d) {
		virDomainStatsRecordListFree(recs);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(recs[i]->dom);
		char uuid[VIR_UUID_STRING_BUFLEN];

		snprintf(d[i].name, sizeof(d[i].name), "%s", name ? name : "");
		if (virDomainGetUUIDString(recs[i]->dom, uuid) == 0)
			vmm_uuid_parse(uuid, d[i].uuid);
		for (int k = 0; k < recs[i]->nparams && d[i].nr < LV_MAX_FIELDS; k++) {
			virTypedParameterPtr tp = &recs[i]->params[k];
			unsigned long long v;

			switch (tp->type) {
			case VIR_TYPED_PARAM_ULLONG: v = tp->value.ul; break;
			case VIR_TYPED_PARAM_UINT: v = tp->value.ui; break;
			case VIR_TYPED_PARAM_LLONG: if (tp->value.l < 0) continue; v = tp->value.l; break;
			case VIR_TYPED_PARAM_INT: if (tp->value.i < 0) continue; v = tp->value.i; break;
			default: continue;
			}
			snprintf(d[i].fname[d[i].nr], sizeof(d[i].fname[0]), "%s", tp->field);
			d[i].f[d[i].nr].name = d[i].fname[d[i].nr];
			d[i].f[d[i].nr].v = v;
			d[i].nr++;
		}
	}
	virDomainStatsRecordListFree(recs);
	*out = d;
	return n;
}

static void *poll_main(void *arg)
{
	struct libvirt_poll *p = arg;
	virConnectPtr conn = NULL;

	virSetErrorFunc(NULL, quiet_errors);
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct lv_dom *d = NULL;
		struct timespec until;
		double wait_s = LV_PERIOD_S;
		int n = -ENOTCONN;

		pthread_mutex_unlock(&p->lock);
		if (!conn)
			conn = virConnectOpenReadOnly(p->uri);
		if (conn) {
			n = poll_round(conn, &d);
			if (n < 0) {		/* libvirtd restarted or went away: reconnect */
				virConnectClose(conn);
				conn = NULL;
			}
		}
		pthread_mutex_lock(&p->lock);
		if (n >= 0) {
			free(p->doms);
			p->doms = d;
			p->nr_doms = n;
			p->result_at = mono_s();
			p->error[0] = 0;
		} else {
			virErrorPtr e = virGetLastError();

			snprintf(p->error, sizeof(p->error), "libvirt %.20s: %.60s", p->uri,
				 e && e->message ? e->message : "cannot connect");
			wait_s = LV_RETRY_S;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)wait_s;
		until.tv_nsec += (long)((wait_s - (time_t)wait_s) * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!p->stop)
			pthread_cond_timedwait(&p->cond, &p->lock, &until);
	}
	pthread_mutex_unlock(&p->lock);
	if (conn)
		virConnectClose(conn);
	return NULL;
}

int libvirt_poll_new(struct libvirt_poll **out, const char *uri)
{
	struct libvirt_poll *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	snprintf(p->uri, sizeof(p->uri), "%s", uri ? uri : LIBVIRT_DEFAULT_URI);
	*out = p;
	return 0;
}

void libvirt_poll_lookup(struct libvirt_poll *p, struct vmm_info *info)
{
	const struct lv_dom *d = NULL;

	if (!p || (!info->libvirt_domain[0] && !info->uuid[0]))
		return;
	pthread_mutex_lock(&p->lock);
	if (!p->running && !p->start_failed && info->libvirt_domain[0]) {
		/* the first libvirt domain seen: start polling (a host without libvirt never connects) */
		if (pthread_create(&p->thread, NULL, poll_main, p) == 0)
			p->running = true;
		else
			p->start_failed = true;
	}
	if (p->result_at > 0 && mono_s() - p->result_at <= LV_FRESH_S) {
		for (int i = 0; i < p->nr_doms && !d; i++)
			if (info->uuid[0] ? !strcmp(p->doms[i].uuid, info->uuid) :
					    !strcmp(p->doms[i].name, info->libvirt_domain))
				d = &p->doms[i];
	}
	if (d) {
		snprintf(info->libvirt_domain, sizeof(info->libvirt_domain), "%s", d->name);
		if (!info->uuid[0])
			memcpy(info->uuid, d->uuid, sizeof(info->uuid));
		if (!info->qmp.socket[0]) {
			snprintf(info->qmp.socket, sizeof(info->qmp.socket), "libvirt:%s", p->uri);
			info->qmp.up = true;
			info->qmp.error[0] = 0;
			libvirt_balloon_to_qmp(d->f, d->nr, (long long)time(NULL), LV_STATS_AGE_S, &info->qmp);
		}
	} else if (info->libvirt_domain[0] && !info->qmp.socket[0] && p->error[0]) {
		/* say why libvirt's side is missing, as a silent QMP socket would */
		snprintf(info->qmp.socket, sizeof(info->qmp.socket), "libvirt:%s", p->uri);
		info->qmp.up = false;
		snprintf(info->qmp.error, sizeof(info->qmp.error), "%s", p->error);
	}
	pthread_mutex_unlock(&p->lock);
}

void libvirt_poll_free(struct libvirt_poll *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->running)
		pthread_join(p->thread, NULL);
	free(p->doms);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

#endif
