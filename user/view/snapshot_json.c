// SPDX-License-Identifier: MIT
/* Snapshot -> JSON. Unavailable values (absent file, missing kernel hook) are null, never 0. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "snapshot_json.h"
#include "fact_table.h"
#include "ksm_forecast_file.h"

/* signed: a two's complement value (KSM profits) */
static json_t *opt_json(struct opt_u64 v, bool is_signed)
{
	if (!v.present)
		return json_null();
	return json_integer(is_signed ? (json_int_t)(int64_t)v.v : (json_int_t)v.v);
}

static json_t *str_or_null(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

json_t *snapshot_hist_json(const struct vmmem_hist *h)
{
	json_t *slots = json_array();
	int last = -1;

	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		if (h->slot[i])
			last = i;
	for (int i = 0; i <= last; i++)
		json_array_append_new(slots, json_integer((json_int_t)h->slot[i]));
	return json_pack("{s:I,s:I,s:I,s:I,s:o}", "count", (json_int_t)hist_count(h),
			 "sum_ns", (json_int_t)h->sum_ns, "p50_ns", (json_int_t)hist_quantile_ns(h, 0.5),
			 "p99_ns", (json_int_t)hist_quantile_ns(h, 0.99), "log2_ns", slots);
}

static json_t *hists_json(const struct vmmem_hist *h, int n, const bool *available,
			  const char *const *names)
{
	json_t *o = json_object();

	for (int k = 0; k < n; k++)
		json_object_set_new(o, names[k], available[k] ? snapshot_hist_json(&h[k]) : json_null());
	return o;
}

/* Each fact of table (n entries) that has a JSON key, read from base, into its group's object
 * (groups[g] NULL: that group is not written); ok[g] turns false where a string is not UTF-8
 * (groups_put() then makes the group null). */
static void facts_json(const struct fact *table, int n, const void *base, json_t *groups[FG_NR], bool ok[FG_NR])
{
	for (int k = 0; k < n; k++) {
		const struct fact *f = &table[k];
		json_t *o = groups[f->group], *v;

		if (!f->json || !o || f->type == FACT_FLAG)
			continue;
		v = f->type == FACT_U64 ? opt_json(*fact_u64(f, base), f->flags & FF_SIGNED) :
		    str_or_null(fact_str(f, base));
		if (!v)
			ok[f->group] = false;	/* a string that is not UTF-8 */
		else
			json_object_set_new(o, f->json, v);
	}
}

/* Put each sub-object of groups into top under its name: null where it failed. */
static void groups_put(json_t *top, json_t *groups[FG_NR], const bool ok[FG_NR])
{
	for (int g = FG_TOP + 1; g < FG_NR; g++) {
		if (!groups[g])
			continue;
		if (!ok[g]) {
			json_decref(groups[g]);
			groups[g] = json_null();
		}
		json_object_set_new(top, fact_group_json[g], groups[g]);
	}
}

static json_t *host_json(const struct snapshot *s)
{
	const struct host_state *h = &s->host;
	json_t *g[FG_NR] = { NULL }, *counters;
	bool ok[FG_NR];

	memset(ok, 1, sizeof(ok));

	g[FG_TOP] = json_object();
	g[FG_KSM] = json_object();
	g[FG_THP] = json_object();
	facts_json(host_facts, HOST_NR_FACTS, h, g, ok);
	json_object_set_new(g[FG_TOP], "tdp_fault_name", json_string(tdp_fault_name(h->cpu_vendor)));
	json_object_set_new(g[FG_KSM], "ksmd_cpu", s->ksmd_cpu == s->ksmd_cpu ?
			    json_real(round(s->ksmd_cpu * 1e4) / 1e4) : json_null());
	/* ksmd's full scans counted from its hooks are .host.counters.ksm_scans only (earlier
	 * versions wrote them as .host.ksm.scans too; snapshot_load still reads that) */
	groups_put(g[FG_TOP], g, ok);
	json_object_set_new(g[FG_TOP], "ksm_forecast", ksm_forecast_summary_json(&h->ksm_forecast));
	counters = json_object();
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		json_object_set_new(counters, host_counter_names[k], s->available.host[k] ?
				    json_integer(s->host_delta.c[k]) : json_null());
	json_object_set_new(g[FG_TOP], "counters", counters);
	json_object_set_new(g[FG_TOP], "histograms", hists_json(s->host_hist_delta.h, VMMEM_NR_HOST_HISTS,
								s->available.host_hist, host_hist_names));
	return g[FG_TOP];
}

static json_t *counters_json(const struct snapshot *s, const struct vm_snapshot *v,
			     const struct vmmem_vm_counters *c)
{
	json_t *o = json_object();

	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		json_object_set_new(o, vm_counter_names[k],
				    vm_counter_available(s, v, k) ? json_integer((json_int_t)c->c[k]) : json_null());
	return o;
}

/* .qmp: null when no QMP socket is known for the VM; else the socket, whether QEMU answered
 * lately (and why not), then each value (from the fact table), null when unavailable. */
static json_t *qmp_head(const struct vmm_qmp *q, bool *ok)
{
	json_t *o;

	if (!q->socket[0])
		return NULL;
	o = json_pack("{s:s,s:b,s:b,s:o}", "socket", q->socket, "abstract", q->abstract, "up", q->up,
		      "error", str_or_null(q->error));
	if (!o) {		/* a path that is not UTF-8 */
		*ok = false;
		return json_object();
	}
	return o;
}

static json_t *vm_json(const struct snapshot *s, const struct vm_snapshot *v)
{
	const struct vmm_info *i = &v->info;
	json_t *g[FG_NR] = { NULL }, *o;
	bool ok[FG_NR];

	memset(ok, 1, sizeof(ok));
	o = g[FG_TOP] = json_pack("{s:i,s:s,s:o}", "pid", (int)i->pid, "name", i->name, "comm", str_or_null(i->comm));
	if (i->ksm.present)
		g[FG_KSM_STAT] = json_object();
	if (i->cgroup.own)	/* the VMM's own cgroup and its eviction counts */
		g[FG_CGROUP] = json_object();
	g[FG_QMP] = qmp_head(&i->qmp, &ok[FG_QMP]);
	facts_json(vm_facts, VM_NR_FACTS, i, g, ok);
	json_object_set_new(o, "exited", json_boolean(v->exited));
	json_object_set_new(o, "seq", json_integer((json_int_t)v->seq));
	/* identity: the same names as the Prometheus labels of vmmem_vm_info */
	json_object_set_new(o, "uuid", str_or_null(i->uuid));
	json_object_set_new(o, "libvirt_domain", str_or_null(i->libvirt_domain));
	json_object_set_new(o, "machine", str_or_null(i->machine));
	json_object_set_new(o, "vmid", str_or_null(i->vmid));
	/* anon_huge_kb is a page-table walk done about once a minute per VM (user/core/core.c): its
	 * age in seconds at this sample, null when unknown */
	json_object_set_new(o, "anon_huge_age_s", i->anon_huge_kb.present && i->anon_huge_time.present &&
			    s->wall_time >= (int64_t)i->anon_huge_time.v ?
			    json_integer(s->wall_time - (int64_t)i->anon_huge_time.v) : json_null());
	json_object_set_new(o, "counters", counters_json(s, v, &v->delta));
	json_object_set_new(o, "totals", counters_json(s, v, &v->total));
	/* null unless filled below: no ksm_stat, a shared cgroup, no QMP socket */
	json_object_set_new(o, "ksm_stat", json_null());
	json_object_set_new(o, "cgroup", json_null());
	json_object_set_new(o, "qmp", json_null());
	groups_put(o, g, ok);
	json_object_set_new(o, "histograms", hists_json(v->hist_delta.h, VMMEM_NR_VM_HISTS,
							s->available.vm_hist, vm_hist_names));
	return o;
}

json_t *snapshot_to_json(const struct snapshot *s)
{
	json_t *vms = json_array(), *o;

	for (int i = 0; i < s->nr_vms; i++)
		json_array_append_new(vms, vm_json(s, &s->vms[i]));
	o = json_pack("{s:s,s:f,s:I,s:s}", "schema", SNAPSHOT_SCHEMA, "interval_s", round(s->interval_s * 1000) / 1000,
		      "time", (json_int_t)s->wall_time, "backend", s->backend ? s->backend : "none");
	json_object_set_new(o, "host", host_json(s));
	json_object_set_new(o, "vms", vms);
	json_object_set_new(o, "dropped_events", json_integer((json_int_t)s->dropped_events));
	return o;
}

int snapshot_print_json(const struct snapshot *s, FILE *f, bool compact)
{
	json_t *o = snapshot_to_json(s);
	int ret;

	if (!o)
		return -ENOMEM;
	ret = json_dumpf(o, f, compact ? JSON_COMPACT : JSON_INDENT(2));
	json_decref(o);
	if (ret == 0 && fputc('\n', f) == EOF)
		ret = -1;
	fflush(f);
	return ret ? -EIO : 0;
}
