// SPDX-License-Identifier: MIT
/* Snapshot -> text table. An unavailable counter prints "-", never 0. */
#include <stdio.h>
#include <string.h>
#include "snapshot_table.h"

const char *fmt_kb(struct opt_u64 kb, char *buf, size_t sz)
{
	static const char units[] = "KMGTP";
	double v = kb.v;
	int u = 0;

	if (!kb.present) {
		snprintf(buf, sz, "-");
		return buf;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, sz, v < 10 && u ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

static const char *fmt_rate(const struct snapshot *s, int id, const struct vm_snapshot *v,
			    char *buf, size_t sz)
{
	if (!vm_counter_available(s, v, id))
		snprintf(buf, sz, "-");
	else
		snprintf(buf, sz, "%.0f", s->interval_s > 0 ? v->delta.c[id] / s->interval_s : 0.0);
	return buf;
}

static const char *fmt_count(const struct snapshot *s, const struct vm_snapshot *v, int id, uint64_t val,
			     bool bytes, char *buf, size_t sz)
{
	if (!vm_counter_available(s, v, id))
		snprintf(buf, sz, "-");
	else if (bytes)
		fmt_kb((struct opt_u64){ val / 1024, true }, buf, sz);
	else
		snprintf(buf, sz, "%llu", (unsigned long long)val);
	return buf;
}

static const char *fmt_share_2m(const struct snapshot *s, const struct vm_snapshot *v, char *buf, size_t sz)
{
	uint64_t k4 = v->total.c[VMMEM_C_tdp_map_4k], m2 = v->total.c[VMMEM_C_tdp_map_2m];
	uint64_t g1 = v->total.c[VMMEM_C_tdp_map_1g];

	if (!s->available.vm[VMMEM_C_tdp_map_2m] || k4 + m2 + g1 == 0)
		snprintf(buf, sz, "-");
	else
		snprintf(buf, sz, "%.0f%%", 100.0 * m2 / (k4 + m2 + g1));
	return buf;
}

void snapshot_print_table(const struct snapshot *s, FILE *f)
{
	const struct host_state *h = &s->host;
	char a[16], b[16], c[16], d[16], e[16], g[16], i2[16], j[16], k[16];

	fprintf(f, "host: mem %s avail %s swap %s/%s  ksm run=%s sharing=%s  thp %s/%s  backend %s  interval %.1fs\n",
		fmt_kb(h->mem.mem_total_kb, a, sizeof(a)), fmt_kb(h->mem.mem_available_kb, b, sizeof(b)),
		fmt_kb((struct opt_u64){ h->mem.swap_total_kb.v - h->mem.swap_free_kb.v,
					 h->mem.swap_total_kb.present && h->mem.swap_free_kb.present }, c, sizeof(c)),
		fmt_kb(h->mem.swap_total_kb, d, sizeof(d)),
		h->ksm.run.present ? (h->ksm.run.v == 1 ? "on" : h->ksm.run.v == 2 ? "unmerge" : "off") : "-",
		h->ksm.pages_sharing.present ? (snprintf(e, sizeof(e), "%llu",
			(unsigned long long)h->ksm.pages_sharing.v), e) : "-",
		h->thp.enabled[0] ? h->thp.enabled : "-", h->thp.defrag[0] ? h->thp.defrag : "-",
		s->backend, s->interval_s);
	fprintf(f, "%-16s %7s %4s %7s %9s %9s %4s %9s %9s %8s %8s\n", "NAME", "PID", "VCPU", "RSS",
		tdp_fault_name(h->cpu_vendor)[0] == 'E' ? "EPTV/s" : tdp_fault_name(h->cpu_vendor)[0] == 'N' ?
		"NPTV/s" : "TDPF/s", "EXITS/s", "2M%", "TLBIPI/s", "KSMMERGE", "INFLATE", "DEFLATE");
	for (int n = 0; n < s->nr_vms; n++) {
		const struct vm_snapshot *v = &s->vms[n];

		fprintf(f, "%-16.16s %7d %4s %7s %9s %9s %4s %9s %9s %8s %8s%s\n", v->info.name, (int)v->info.pid,
			v->info.vcpus.present ? (snprintf(a, sizeof(a), "%llu", (unsigned long long)v->info.vcpus.v), a) : "-",
			fmt_kb(v->info.rss_kb, b, sizeof(b)),
			fmt_rate(s, VMMEM_C_tdp_faults, v, c, sizeof(c)),
			fmt_rate(s, VMMEM_C_exits, v, d, sizeof(d)),
			fmt_share_2m(s, v, e, sizeof(e)),
			fmt_rate(s, VMMEM_C_tlb_shootdown_ipis, v, g, sizeof(g)),
			fmt_count(s, v, VMMEM_C_ksm_merged_pages, v->delta.c[VMMEM_C_ksm_merged_pages], false, i2, sizeof(i2)),
			fmt_count(s, v, VMMEM_C_balloon_inflate_bytes, v->delta.c[VMMEM_C_balloon_inflate_bytes], true, j, sizeof(j)),
			fmt_count(s, v, VMMEM_C_balloon_deflate_bytes, v->delta.c[VMMEM_C_balloon_deflate_bytes], true, k, sizeof(k)),
			v->exited ? " (exited)" : "");
	}
	if (!s->nr_vms)
		fprintf(f, "(no VMM processes)\n");
	if (s->dropped_events)
		fprintf(f, "dropped events: %llu\n", (unsigned long long)s->dropped_events);
}
