// SPDX-License-Identifier: MIT
/* Reading a snapshot JSON back (advise --from). The file is outside input: every value is
 * type- and range-checked; the first problem is reported by its JSON path. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "ksm_forecast_file.h"
#include "snapshot_load.h"

#define MAX_KB		(1ull << 50)	/* an exbibyte: beyond it a memory figure is garbage */
#define MAX_COUNT	(1ull << 62)

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

int snapshot_load(const char *text, size_t len, struct snapshot *out, char *err, size_t errsz)
{
	struct loader l = { .err = err, .errsz = errsz };
	json_error_t jerr;
	json_t *root, *host, *ksm, *thp, *vms, *hc;
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
	/* the advisor's pressure, KSM and swap rules all divide by these */
	num(&l, host, ".host", "mem_total_kb", &out->host.mem.mem_total_kb, MAX_KB, false, host != NULL);
	num(&l, host, ".host", "mem_available_kb", &out->host.mem.mem_available_kb, MAX_KB, false, host != NULL);
	if (out->host.mem.mem_total_kb.present && out->host.mem.mem_total_kb.v == 0)
		fail(&l, "field %s: %s", ".host.mem_total_kb", "zero: a host has RAM");
	if (out->host.mem.mem_available_kb.present && out->host.mem.mem_total_kb.present &&
	    out->host.mem.mem_available_kb.v > out->host.mem.mem_total_kb.v)
		fail(&l, "field %s: %s", ".host.mem_available_kb", "larger than .host.mem_total_kb");
	num(&l, host, ".host", "mem_free_kb", &out->host.mem.mem_free_kb, MAX_KB, false, false);
	num(&l, host, ".host", "buffers_kb", &out->host.mem.buffers_kb, MAX_KB, false, false);
	num(&l, host, ".host", "cached_kb", &out->host.mem.cached_kb, MAX_KB, false, false);
	num(&l, host, ".host", "swap_total_kb", &out->host.mem.swap_total_kb, MAX_KB, false, false);
	num(&l, host, ".host", "swap_free_kb", &out->host.mem.swap_free_kb, MAX_KB, false, false);
	str(host, "cpu_vendor", out->host.cpu_vendor, sizeof(out->host.cpu_vendor));
	ksm = host ? json_object_get(host, "ksm") : NULL;
	if (json_is_object(ksm)) {
		struct host_ksm *k = &out->host.ksm;

		num(&l, ksm, ".host.ksm", "run", &k->run, 2, false, false);
		k->present = k->run.present;
		num(&l, ksm, ".host.ksm", "pages_to_scan", &k->pages_to_scan, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "sleep_millisecs", &k->sleep_millisecs, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "pages_shared", &k->pages_shared, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "pages_sharing", &k->pages_sharing, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "pages_unshared", &k->pages_unshared, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "pages_volatile", &k->pages_volatile, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "full_scans", &k->full_scans, MAX_COUNT, false, false);
		num(&l, ksm, ".host.ksm", "general_profit", &k->general_profit, MAX_COUNT, true, false);
		str(ksm, "advisor_mode", k->advisor_mode, sizeof(k->advisor_mode));
		{
			json_t *kc = json_object_get(ksm, "ksmd_cpu");

			out->ksmd_cpu = NAN;
			if (kc && !json_is_null(kc)) {
				if (!json_is_number(kc) || json_number_value(kc) < 0 || json_number_value(kc) > 4096)
					fail(&l, "field %s: %s", ".host.ksm.ksmd_cpu", "not a CPU share (0..CPUs)");
				else
					out->ksmd_cpu = json_number_value(kc);
			}
		}
		num(&l, ksm, ".host.ksm", "scans", &v, MAX_COUNT, false, false);
		out->host_delta.c[VMMEM_H_ksm_scans] = v.v;
		out->available.host[VMMEM_H_ksm_scans] = v.present;
		/* "scan_ns" (before the host counter was dropped: the ksm_scan_ns histogram's
		 * sum carries it) is ignored in older files */
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
	thp = host ? json_object_get(host, "thp") : NULL;
	if (json_is_object(thp)) {
		str(thp, "enabled", out->host.thp.enabled, sizeof(out->host.thp.enabled));
		str(thp, "defrag", out->host.thp.defrag, sizeof(out->host.thp.defrag));
		out->host.thp.present = out->host.thp.enabled[0] != 0;
	}
	hc = host ? json_object_get(host, "counters") : NULL;
	num(&l, root, "", "dropped_events", &v, MAX_COUNT, false, false);
	out->dropped_events = v.v;
	(void)hc;

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
			json_t *vm = json_array_get(vms, i), *ks, *c, *tot;
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
			num(&l, vm, path, "vcpus", &o->info.vcpus, 1 << 20, false, false);
			num(&l, vm, path, "mem_configured_kb", &o->info.mem_configured_kb, MAX_KB, false, false);
			num(&l, vm, path, "rss_kb", &o->info.rss_kb, MAX_KB, false, false);
			num(&l, vm, path, "swap_kb", &o->info.swap_kb, MAX_KB, false, false);
			num(&l, vm, path, "anon_huge_kb", &o->info.anon_huge_kb, MAX_KB, false, false);
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
			ks = json_object_get(vm, "ksm_stat");
			if (json_is_object(ks)) {
				snprintf(path, sizeof(path), ".vms[%zu].ksm_stat", i);
				num(&l, ks, path, "ksm_rmap_items", &o->info.ksm.ksm_rmap_items, MAX_COUNT, false, false);
				num(&l, ks, path, "ksm_merging_pages", &o->info.ksm.ksm_merging_pages, MAX_COUNT, false, false);
				num(&l, ks, path, "ksm_zero_pages", &o->info.ksm.ksm_zero_pages, MAX_COUNT, false, false);
				num(&l, ks, path, "ksm_process_profit", &o->info.ksm.ksm_process_profit, MAX_COUNT, true, false);
				o->info.ksm.present = true;
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
