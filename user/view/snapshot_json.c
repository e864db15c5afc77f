// SPDX-License-Identifier: MIT
/* Snapshot -> JSON. Unavailable values (absent file, missing kernel hook) are null, never 0. */
#include <errno.h>
#include <math.h>
#include "snapshot_json.h"
#include "ksm_forecast_file.h"

static json_t *opt(struct opt_u64 v)
{
	return v.present ? json_integer((json_int_t)v.v) : json_null();
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

static json_t *host_json(const struct snapshot *s)
{
	const struct host_state *h = &s->host;
	const struct host_ksm *k = &h->ksm;
	json_t *ksm, *thp, *counters, *o;

	ksm = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			"run", opt(k->run), "pages_to_scan", opt(k->pages_to_scan),
			"sleep_millisecs", opt(k->sleep_millisecs), "pages_shared", opt(k->pages_shared),
			"pages_sharing", opt(k->pages_sharing), "pages_unshared", opt(k->pages_unshared),
			"pages_volatile", opt(k->pages_volatile), "full_scans", opt(k->full_scans),
			"general_profit", opt(k->general_profit), "ksm_zero_pages", opt(k->ksm_zero_pages),
			"merge_across_nodes", opt(k->merge_across_nodes),
			"advisor_mode", str_or_null(k->advisor_mode));
	json_object_set_new(ksm, "ksmd_cpu", s->ksmd_cpu == s->ksmd_cpu ?
			    json_real(round(s->ksmd_cpu * 1e4) / 1e4) : json_null());
	json_object_set_new(ksm, "scans", s->available.host[VMMEM_H_ksm_scans] ?
			    json_integer(s->host_delta.c[VMMEM_H_ksm_scans]) : json_null());
	thp = json_pack("{s:o,s:o,s:o}", "enabled", str_or_null(h->thp.enabled),
			"defrag", str_or_null(h->thp.defrag),
			"khugepaged_pages_collapsed", opt(h->thp.khugepaged_pages_collapsed));
	counters = json_object();
	for (int k2 = 0; k2 < VMMEM_NR_HOST_COUNTERS; k2++)
		json_object_set_new(counters, host_counter_names[k2], s->available.host[k2] ?
				    json_integer(s->host_delta.c[k2]) : json_null());
	o = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:s}",
		      "mem_total_kb", opt(h->mem.mem_total_kb), "mem_available_kb", opt(h->mem.mem_available_kb),
		      "mem_free_kb", opt(h->mem.mem_free_kb), "buffers_kb", opt(h->mem.buffers_kb),
		      "cached_kb", opt(h->mem.cached_kb), "swap_total_kb", opt(h->mem.swap_total_kb),
		      "swap_free_kb", opt(h->mem.swap_free_kb), "cpu_vendor", str_or_null(h->cpu_vendor),
		      "tdp_fault_name", tdp_fault_name(h->cpu_vendor));
	json_object_set_new(o, "ksm", ksm);
	json_object_set_new(o, "ksm_forecast", ksm_forecast_summary_json(&h->ksm_forecast));
	json_object_set_new(o, "thp", thp);
	json_object_set_new(o, "counters", counters);
	json_object_set_new(o, "histograms", hists_json(s->host_hist_delta.h, VMMEM_NR_HOST_HISTS,
							s->available.host_hist, host_hist_names));
	return o;
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

/* null when no QMP socket is known for the VM; else the socket, whether QEMU answered
 * lately (and why not), and each value, null when unavailable. Keys are the Prometheus
 * names without vmmem_ and _total. */
static json_t *qmp_json(const struct vmm_qmp *q)
{
	json_t *o;

	if (!q->socket[0])
		return json_null();
	o = json_pack("{s:s,s:b,s:b,s:o}", "socket", q->socket, "abstract", q->abstract, "up", q->up,
		      "error", str_or_null(q->error));
	if (!o)			/* a path that is not UTF-8 */
		return json_null();
	for (int k = 0; k < VMM_QMP_NR; k++)
		json_object_set_new(o, vmm_qmp_names[k], opt(q->v[k]));
	return o;
}

/* The VMM's own cgroup and its eviction counts; null when it shares its cgroup. */
static json_t *cgroup_json(const struct vmm_cgroup *c)
{
	json_t *o;

	if (!c->own)
		return json_null();
	o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "path", c->path, "pswpin", opt(c->pswpin),
		      "pswpout", opt(c->pswpout), "pgmajfault", opt(c->pgmajfault),
		      "workingset_refault_anon", opt(c->workingset_refault_anon),
		      "swap_current_bytes", opt(c->swap_current));
	return o ? o : json_null();	/* a path that is not UTF-8 */
}

static json_t *vm_json(const struct snapshot *s, const struct vm_snapshot *v)
{
	const struct vmm_info *i = &v->info;
	json_t *ksm = json_null(), *o;

	if (i->ksm.present)
		ksm = json_pack("{s:o,s:o,s:o,s:o}", "ksm_rmap_items", opt(i->ksm.ksm_rmap_items),
				"ksm_zero_pages", opt(i->ksm.ksm_zero_pages),
				"ksm_merging_pages", opt(i->ksm.ksm_merging_pages),
				"ksm_process_profit", opt(i->ksm.ksm_process_profit));
	o = json_pack("{s:i,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:b,s:I}",
		      "pid", (int)i->pid, "name", i->name, "comm", str_or_null(i->comm),
		      "vcpus", opt(i->vcpus), "mem_configured_kb", opt(i->mem_configured_kb),
		      "rss_kb", opt(i->rss_kb), "swap_kb", opt(i->swap_kb), "anon_huge_kb", opt(i->anon_huge_kb),
		      "exited", v->exited, "seq", (json_int_t)v->seq);
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
	json_object_set_new(o, "ksm_stat", ksm);
	json_object_set_new(o, "majflt", opt(i->majflt));
	json_object_set_new(o, "cgroup", cgroup_json(&i->cgroup));
	json_object_set_new(o, "qmp", qmp_json(&i->qmp));
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
