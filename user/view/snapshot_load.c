// SPDX-License-Identifier: MIT
/* Reading a snapshot JSON back (advise --from). The file is outside input: every value is
 * type- and range-checked; the first problem is reported by its JSON path. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "fact_table.h"
#include "ksm_forecast_file.h"
#include "snapshot_load.h"

#define MAX_COUNT	FACT_MAX_COUNT

struct loader {
	char *err;
	size_t errsz;
	int failed;		/* a present field was wrong: err holds the first such problem */
	char missing[384];	/* every absent required field, so one run names them all */
	int nr_missing;
};

static int fail(struct loader *l, const char *fmt, const char *path, const char *detail)
{
	if (!l->failed)
		snprintf(l->err, l->errsz, fmt, path, detail);
	l->failed = 1;
	return -EINVAL;
}

static void fail_missing(struct loader *l, const char *path)
{
	size_t len = strlen(l->missing);

	if (l->nr_missing++ == 0)
		snprintf(l->missing, sizeof(l->missing), "%s", path);
	else if (len + strlen(path) + 8 < sizeof(l->missing))
		snprintf(l->missing + len, sizeof(l->missing) - len, ", %s", path);
	else if (!strstr(l->missing, ", ..."))
		snprintf(l->missing + len, sizeof(l->missing) - len, ", ...");
}

/* Optional number at obj.key: absent or null leaves it absent. signed_ok allows < 0
 * (stored as two's complement, as the /proc parsers do). */
static void num(struct loader *l, json_t *obj, const char *path, const char *key, struct opt_u64 *out,
		uint64_t max, bool signed_ok, bool required)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	char full[160];
	double d;

	snprintf(full, sizeof(full), "%s.%s", path, key);
	out->present = false;
	if (!v || json_is_null(v)) {
		if (required)
			fail_missing(l, full);
		return;
	}
	if (!json_is_number(v)) {
		fail(l, "field %s: %s", full, "not a number");
		return;
	}
	d = json_number_value(v);
	if (!isfinite(d) || d != floor(d)) {
		fail(l, "field %s: %s", full, "not a whole number");
		return;
	}
	if (d < 0 && !signed_ok) {
		fail(l, "field %s: %s", full, "negative");
		return;
	}
	if (fabs(d) > (double)max) {
		fail(l, "field %s: %s", full, "absurdly large");
		return;
	}
	out->v = d < 0 ? (uint64_t)(int64_t)d : (uint64_t)d;
	out->present = true;
}

static void str(json_t *obj, const char *key, char *out, size_t sz)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	out[0] = 0;
	if (v && json_is_string(v))
		snprintf(out, sz, "%s", json_string_value(v));
}

static void counters(struct loader *l, json_t *obj, const char *path, struct vmmem_vm_counters *c,
		     struct counter_mask *avail)
{
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
		struct opt_u64 v;

		num(l, obj, path, vm_counter_names[k], &v, MAX_COUNT, false, false);
		c->c[k] = v.v;
		if (v.present)
			avail->vm[k] = true;
	}
}

/* Each fact of table (n entries) that has a JSON key, from its group's object in groups
 * (NULL: the group is absent, its facts stay unavailable), into base. path names the object
 * for messages (".host", ".vms[3]"). */
static void facts_load(struct loader *l, const struct fact *table, int n, void *base, json_t *groups[FG_NR],
		       const char *path)
{
	for (int k = 0; k < n; k++) {
		const struct fact *f = &table[k];
		json_t *o = groups[f->group];
		char gpath[96];

		if (!f->json || !o)
			continue;
		snprintf(gpath, sizeof(gpath), "%s%s%s", path, f->group == FG_TOP ? "" : ".",
			 fact_group_json[f->group]);
		if (f->type == FACT_U64)
			num(l, o, gpath, f->json, fact_u64(f, base), f->max, f->flags & FF_SIGNED,
			    f->flags & FF_REQUIRED);
		else if (f->type == FACT_STR)
			str(o, f->json, fact_str(f, base), f->size);
	}
}

/* The sub-object key of obj, or NULL when it is absent or not an object. */
static json_t *group_obj(json_t *obj, int g)
{
	json_t *o = obj ? json_object_get(obj, fact_group_json[g]) : NULL;

	return json_is_object(o) ? o : NULL;
}

int snapshot_load(const char *text, size_t len, struct snapshot *out, char *err, size_t errsz)
{
	struct loader l = { .err = err, .errsz = errsz };
	json_error_t jerr;
	json_t *root, *host, *ksm = NULL, *vms, *hc;
	struct opt_u64 v;
	const char *schema;
	size_t i;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errsz, "not valid JSON: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		snprintf(err, errsz, "not a snapshot: the top level is not an object");
		return -EINVAL;
	}
	schema = json_string_value(json_object_get(root, "schema"));
	if (!schema || strcmp(schema, SNAPSHOT_SCHEMA)) {
		snprintf(err, errsz, "schema is '%s', expected '%s'", schema ? schema : "(missing)", SNAPSHOT_SCHEMA);
		json_decref(root);
		return -EINVAL;
	}
	{
		json_t *iv = json_object_get(root, "interval_s");

		if (!iv || json_is_null(iv))
			fail_missing(&l, ".interval_s");
		else if (!json_is_number(iv) || !(json_number_value(iv) > 0) || json_number_value(iv) > 1e7) {
			fail(&l, "field %s: %s", ".interval_s", "not a number of seconds in (0, 1e7]");
		} else {
			out->interval_s = json_number_value(iv);
		}
	}
	out->backend = "file";
	out->ksmd_cpu = NAN;
	host = json_object_get(root, "host");
	if (!host || json_is_null(host)) {
		fail_missing(&l, ".host");
		host = NULL;
	} else if (!json_is_object(host)) {
		fail(&l, "field %s: %s", ".host", "not an object");
		host = NULL;
	}
	{
		json_t *g[FG_NR] = { [FG_TOP] = host, [FG_KSM] = group_obj(host, FG_KSM),
				     [FG_THP] = group_obj(host, FG_THP) };

		facts_load(&l, host_facts, HOST_NR_FACTS, &out->host, g, ".host");
		ksm = g[FG_KSM];
		out->host.ksm.present = out->host.ksm.run.present;
		out->host.thp.present = out->host.thp.enabled[0] != 0;
	}
	/* the advisor's pressure, KSM and swap rules all divide by these */
	if (out->host.mem.mem_total_kb.present && out->host.mem.mem_total_kb.v == 0)
		fail(&l, "field %s: %s", ".host.mem_total_kb", "zero: a host has RAM");
	if (out->host.mem.mem_available_kb.present && out->host.mem.mem_total_kb.present &&
	    out->host.mem.mem_available_kb.v > out->host.mem.mem_total_kb.v)
		fail(&l, "field %s: %s", ".host.mem_available_kb", "larger than .host.mem_total_kb");
	if (ksm) {
		json_t *kc = json_object_get(ksm, "ksmd_cpu");

		if (kc && !json_is_null(kc)) {
			if (!json_is_number(kc) || json_number_value(kc) < 0 || json_number_value(kc) > 4096)
				fail(&l, "field %s: %s", ".host.ksm.ksmd_cpu", "not a CPU share (0..CPUs)");
			else
				out->ksmd_cpu = json_number_value(kc);
		}
	}
	hc = host ? json_object_get(host, "counters") : NULL;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		num(&l, json_is_object(hc) ? hc : NULL, ".host.counters", host_counter_names[k], &v, MAX_COUNT,
		    false, false);
		out->host_delta.c[k] = v.v;
		out->available.host[k] = v.present;
	}
	if (ksm && !out->available.host[VMMEM_H_ksm_scans]) {
		/* earlier versions wrote them as .host.ksm.scans too (and only there before host counters
		 * were written); "scan_ns" (the ksm_scan_ns histogram's sum carries it) is ignored */
		num(&l, ksm, ".host.ksm", "scans", &v, MAX_COUNT, false, false);
		out->host_delta.c[VMMEM_H_ksm_scans] = v.v;
		out->available.host[VMMEM_H_ksm_scans] = v.present;
	}
	{
		json_t *kf = host ? json_object_get(host, "ksm_forecast") : NULL;
		char kerr[256];

		if (kf && !json_is_null(kf) &&
		    ksm_forecast_parse_json(kf, &out->host.ksm_forecast, kerr, sizeof(kerr)))
			fail(&l, "field %s: %s", ".host.ksm_forecast", kerr);
	}
	{
		json_t *t = json_object_get(root, "time");

		if (json_is_integer(t) && json_integer_value(t) > 0)
			out->wall_time = json_integer_value(t);
	}
	num(&l, root, "", "dropped_events", &v, MAX_COUNT, false, false);
	out->dropped_events = v.v;

	vms = json_object_get(root, "vms");
	if (!vms || json_is_null(vms)) {
		fail_missing(&l, ".vms");
	} else if (!json_is_array(vms)) {
		fail(&l, "field %s: %s", ".vms", "not an array");
	} else if (json_array_size(vms) > VMMEM_MAX_VMS) {
		fail(&l, "field %s: %s", ".vms", "more VMs than vmmemtop tracks (1024)");
	} else if (json_array_size(vms) > 0) {
		out->vms = calloc(json_array_size(vms), sizeof(*out->vms));
		if (!out->vms) {
			json_decref(root);
			snprintf(err, errsz, "out of memory");
			return -ENOMEM;
		}
		for (i = 0; i < json_array_size(vms) && !l.failed; i++) {
			json_t *vm = json_array_get(vms, i), *c, *tot;
			struct vm_snapshot *o = &out->vms[out->nr_vms];
			char path[64];

			snprintf(path, sizeof(path), ".vms[%zu]", i);
			if (!json_is_object(vm)) {
				fail(&l, "field %s: %s", path, "not an object");
				break;
			}
			num(&l, vm, path, "pid", &v, 0x3fffffff, false, true);
			o->info.pid = v.v;
			str(vm, "name", o->info.name, sizeof(o->info.name));
			if (!o->info.name[0])
				snprintf(o->info.name, sizeof(o->info.name), "pid-%d", (int)o->info.pid);
			str(vm, "comm", o->info.comm, sizeof(o->info.comm));
			str(vm, "libvirt_domain", o->info.libvirt_domain, sizeof(o->info.libvirt_domain));
			str(vm, "machine", o->info.machine, sizeof(o->info.machine));
			str(vm, "vmid", o->info.vmid, sizeof(o->info.vmid));
			{
				char u[64];

				str(vm, "uuid", u, sizeof(u));
				if (u[0] && vmm_uuid_parse(u, o->info.uuid))
					fail(&l, "field %s.uuid: %s", path, "not a UUID");
			}
			{
				json_t *g[FG_NR] = { [FG_TOP] = vm, [FG_KSM_STAT] = group_obj(vm, FG_KSM_STAT),
						     [FG_CGROUP] = group_obj(vm, FG_CGROUP),
						     [FG_QMP] = group_obj(vm, FG_QMP) };
				struct vmm_qmp *q = &o->info.qmp;

				facts_load(&l, vm_facts, VM_NR_FACTS, &o->info, g, path);
				o->info.ksm.present = g[FG_KSM_STAT] != NULL;
				o->info.cgroup.own = g[FG_CGROUP] != NULL;
				str(g[FG_QMP], "socket", q->socket, sizeof(q->socket));
				str(g[FG_QMP], "error", q->error, sizeof(q->error));
				q->up = g[FG_QMP] && json_is_true(json_object_get(g[FG_QMP], "up"));
				q->abstract = g[FG_QMP] && json_is_true(json_object_get(g[FG_QMP], "abstract"));
			}
			o->exited = json_is_true(json_object_get(vm, "exited"));
			c = json_object_get(vm, "counters");
			snprintf(path + strlen(path), sizeof(path) - strlen(path), ".counters");
			if (!c || json_is_null(c))
				fail_missing(&l, path);
			else if (!json_is_object(c))
				fail(&l, "field %s: %s", path, "not an object");
			else
				counters(&l, c, path, &o->delta, &out->available);
			tot = json_object_get(vm, "totals");
			o->total = o->delta;	/* without totals, the interval is all we know */
			if (json_is_object(tot)) {
				struct counter_mask ignore;

				snprintf(path, sizeof(path), ".vms[%zu].totals", i);
				counters(&l, tot, path, &o->total, &ignore);
			}
			out->nr_vms++;
		}
	}
	json_decref(root);
	if (l.nr_missing && !l.failed)
		snprintf(err, errsz, "missing required field%s %s (the advisor needs %s)",
			 l.nr_missing > 1 ? "s" : "", l.missing, l.nr_missing > 1 ? "them" : "it");
	if (l.failed || l.nr_missing) {
		snapshot_free(out);
		return -EINVAL;
	}
	return 0;
}
