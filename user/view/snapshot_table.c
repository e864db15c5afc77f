// SPDX-License-Identifier: MIT
/* Snapshot -> text table (`snapshot`, and the view's batch mode `-b`). Its columns are a
 * registry, as htop's field table is: each names a fact (user/facts/fact_table.h) or a counter
 * (kmod/uapi/vmmem.h) by id, and the cell's value, unit and availability come from those
 * tables. An unavailable fact or counter prints "-", never 0. */
#include <stdio.h>
#include <string.h>
#include "fact_table.h"
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

const char *fmt_fact(const struct fact *f, const void *base, char *buf, size_t sz)
{
	const struct opt_u64 *v = fact_u64(f, base);

	if (f->type == FACT_STR)
		snprintf(buf, sz, "%.24s", fact_str(f, base)[0] ? fact_str(f, base) : "-");
	else if (f->type == FACT_FLAG)
		snprintf(buf, sz, "%s", *fact_flag(f, base) ? "yes" : "no");
	else if (!v->present)
		snprintf(buf, sz, "-");
	else if (f->unit == FU_KB || f->unit == FU_BYTES) {
		bool neg = (f->flags & FF_SIGNED) && (int64_t)v->v < 0;	/* a KSM profit */
		uint64_t mag = neg ? -v->v : v->v;

		fmt_kb((struct opt_u64){ f->unit == FU_KB ? mag : mag / 1024, true }, buf + neg, sz - neg);
		if (neg)
			buf[0] = '-';
	} else
		snprintf(buf, sz, f->flags & FF_SIGNED ? "%lld" : "%llu", (long long)v->v);
	return buf;
}

/* What a column shows: the VM's identity, one of its facts (vm_facts[id]), a counter's rate
 * per second over the interval (id: VMMEM_C_*; bytes as K/M/G per second), or the 2M share of
 * KVM's TDP mappings since the VM was first seen. */
enum col_kind { COL_NAME, COL_PID, COL_FACT, COL_RATE, COL_SHARE_2M };

struct table_col {
	const char *title;		/* NULL: the TDP fault rate, named by CPU vendor */
	int width;			/* negative: left-aligned */
	enum col_kind kind;
	int id;
};

/* The view's columns (user/view/tui_draw.c) in its rate mode, and EXITS/s. */
static const struct table_col vm_cols[] = {
	{ "NAME", -16, COL_NAME, 0 },
	{ "PID", 7, COL_PID, 0 },
	{ "VCPU", 4, COL_FACT, VF_vcpus },
	{ "RSS", 7, COL_FACT, VF_rss_kb },
	{ NULL, 9, COL_RATE, VMMEM_C_tdp_faults },
	{ "EXITS/s", 9, COL_RATE, VMMEM_C_exits },
	{ "2M%", 4, COL_SHARE_2M, VMMEM_C_tdp_map_2m },
	{ "TLBIPI/s", 9, COL_RATE, VMMEM_C_tlb_shootdown_ipis },
	{ "KSMPAGES", 9, COL_FACT, VF_ksm_merging_pages },
	{ "INFL/s", 8, COL_RATE, VMMEM_C_balloon_inflate_bytes },
	{ "DEFL/s", 8, COL_RATE, VMMEM_C_balloon_deflate_bytes },
	{ "WSET", 7, COL_FACT, VF_working_set_bytes },	/* --working-set; "-" when off */
};

static const char *col_title(const struct table_col *c, const struct snapshot *s)
{
	const char *tdp = tdp_fault_name(s->host.cpu_vendor);

	if (c->title)
		return c->title;
	return tdp[0] == 'E' ? "EPTV/s" : tdp[0] == 'N' ? "NPTV/s" : "TDPF/s";
}

static const char *col_cell(const struct table_col *c, const struct snapshot *s, const struct vm_snapshot *v,
			    char *buf, size_t sz)
{
	double rate;
	uint64_t k4, m2, g1;

	switch (c->kind) {
	case COL_NAME:
		snprintf(buf, sz, "%.16s", v->info.name);
		break;
	case COL_PID:
		snprintf(buf, sz, "%d", (int)v->info.pid);
		break;
	case COL_FACT:
		fmt_fact(&vm_facts[c->id], &v->info, buf, sz);
		break;
	case COL_RATE:
		if (!vm_counter_available(s, v, c->id)) {
			snprintf(buf, sz, "-");
			break;
		}
		rate = s->interval_s > 0 ? v->delta.c[c->id] / s->interval_s : 0.0;
		if (!strcmp(vm_counter_units[c->id], "bytes"))
			fmt_kb((struct opt_u64){ (uint64_t)(rate / 1024), true }, buf, sz);
		else
			snprintf(buf, sz, "%.0f", rate);
		break;
	case COL_SHARE_2M:
		k4 = v->total.c[VMMEM_C_tdp_map_4k], m2 = v->total.c[VMMEM_C_tdp_map_2m];
		g1 = v->total.c[VMMEM_C_tdp_map_1g];
		if (!vm_counter_available(s, v, c->id) || k4 + m2 + g1 == 0)
			snprintf(buf, sz, "-");
		else
			snprintf(buf, sz, "%.0f%%", 100.0 * m2 / (k4 + m2 + g1));
		break;
	}
	return buf;
}

/* The host line: facts of host_facts by id, each after its label. */
static void print_host(const struct snapshot *s, FILE *f)
{
	const struct host_state *h = &s->host;
	const void *b = h;
	char t[7][32];

	fprintf(f, "host: mem %s avail %s swap %s/%s  ksm run=%s sharing=%s  thp %s/%s  backend %s  interval %.1fs\n",
		fmt_fact(&host_facts[HF_mem_total_kb], b, t[0], sizeof(t[0])),
		fmt_fact(&host_facts[HF_mem_available_kb], b, t[1], sizeof(t[1])),
		fmt_kb((struct opt_u64){ h->mem.swap_total_kb.v - h->mem.swap_free_kb.v,
					 h->mem.swap_total_kb.present && h->mem.swap_free_kb.present }, t[2], sizeof(t[2])),
		fmt_fact(&host_facts[HF_swap_total_kb], b, t[3], sizeof(t[3])),
		h->ksm.run.present ? (h->ksm.run.v == 1 ? "on" : h->ksm.run.v == 2 ? "unmerge" : "off") : "-",
		fmt_fact(&host_facts[HF_ksm_pages_sharing], b, t[4], sizeof(t[4])),
		fmt_fact(&host_facts[HF_thp_enabled], b, t[5], sizeof(t[5])),
		fmt_fact(&host_facts[HF_thp_defrag], b, t[6], sizeof(t[6])), s->backend, s->interval_s);
}

void snapshot_print_table(const struct snapshot *s, FILE *f)
{
	const size_t ncols = sizeof(vm_cols) / sizeof(vm_cols[0]);
	char cell[32];

	print_host(s, f);
	for (size_t c = 0; c < ncols; c++)
		fprintf(f, c ? " %*s" : "%*s", vm_cols[c].width, col_title(&vm_cols[c], s));
	fputc('\n', f);
	for (int n = 0; n < s->nr_vms; n++) {
		const struct vm_snapshot *v = &s->vms[n];

		for (size_t c = 0; c < ncols; c++)
			fprintf(f, c ? " %*s" : "%*s", vm_cols[c].width, col_cell(&vm_cols[c], s, v, cell, sizeof(cell)));
		fprintf(f, "%s\n", v->exited ? " (exited)" : "");
	}
	if (!s->nr_vms)
		fprintf(f, "(no VMM processes)\n");
	if (s->dropped_events)
		fprintf(f, "dropped events: %llu\n", (unsigned long long)s->dropped_events);
}
