// SPDX-License-Identifier: MIT
/* Snapshot -> Prometheus text 0.0.4 / OpenMetrics 1.0.0. Family names come from the ABI
 * counter tables (tdp_faults -> vmmem_tdp_faults_total); a counter the backend cannot count
 * and a VM that has exited are absent, never 0. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "export_prom.h"
#include "fact_table.h"

/* ---- growable buffer ---- */

void strbuf_init(struct strbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void strbuf_free(struct strbuf *sb)
{
	free(sb->buf);
	strbuf_init(sb);
}

static bool strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need, cap;
	char *p;

	if (sb->oom)
		return false;
	if (extra > SIZE_MAX / 2 - sb->len - 1)
		goto oom;
	need = sb->len + extra + 1;
	if (need <= sb->cap)
		return true;
	cap = sb->cap ? sb->cap : 4096;
	while (cap < need)
		cap *= 2;
	p = realloc(sb->buf, cap);
	if (!p)
		goto oom;
	sb->buf = p;
	sb->cap = cap;
	return true;
oom:
	sb->oom = true;
	return false;
}

void strbuf_put(struct strbuf *sb, const char *s, size_t n)
{
	if (!strbuf_reserve(sb, n))
		return;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = 0;
}

void strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_put(sb, s, strlen(s));
}

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !strbuf_reserve(sb, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (sb->oom) {
		free(sb->buf);
		p = NULL;
	} else {
		p = sb->buf ? sb->buf : calloc(1, 1);	/* nothing appended: still a valid string */
	}
	if (len)
		*len = p ? sb->len : 0;
	strbuf_init(sb);
	return p;
}

/* Number formatting without printf: a scrape at 1000 VMs prints ~30000 numbers. */
static void put_u64(struct strbuf *sb, uint64_t v)
{
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	strbuf_put(sb, tmp + i, sizeof(tmp) - i);
}

static void put_i64(struct strbuf *sb, int64_t v)
{
	if (v < 0) {
		strbuf_put(sb, "-", 1);
		put_u64(sb, (uint64_t)0 - (uint64_t)v);
	} else {
		put_u64(sb, (uint64_t)v);
	}
}

static void put_double(struct strbuf *sb, double v)
{
	strbuf_printf(sb, "%.9g", v);
}

/* Nanoseconds as exact decimal seconds ("0.000000004", not 4.0000000000000002e-09) into
 * buf (at least 32 bytes). Returns the length. */
static size_t ns_to_seconds(char *buf, uint64_t ns)
{
	char tmp[32];
	uint64_t sec = ns / 1000000000u, f = ns % 1000000000u;
	int i = sizeof(tmp);

	for (int d = 0; d < 9; d++, f /= 10)
		tmp[--i] = '0' + f % 10;
	tmp[--i] = '.';
	do {
		tmp[--i] = '0' + sec % 10;
		sec /= 10;
	} while (sec);
	memcpy(buf, tmp + i, sizeof(tmp) - i);
	buf[sizeof(tmp) - i] = 0;
	return sizeof(tmp) - i;
}

static void put_ns_as_seconds(struct strbuf *sb, uint64_t ns)
{
	char buf[32];

	strbuf_put(sb, buf, ns_to_seconds(buf, ns));
}

/* ---- escaping ---- */

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if it is not one (overlongs,
 * surrogates and code points above U+10FFFF are invalid too). */
static int utf8_seq_len(const unsigned char *s)
{
	unsigned char c = s[0];
	int n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL terminator */
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void escape(struct strbuf *out, const char *str, bool quote)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *run = s;

	while (*s) {
		const char *rep = NULL;
		int n = 1;

		if (*s == '\\')
			rep = "\\\\";
		else if (*s == '\n')
			rep = "\\n";
		else if (*s == '"' && quote)
			rep = "\\\"";
		else if (*s >= 0x80 && !(n = utf8_seq_len(s)))
			rep = "\xef\xbf\xbd", n = 1;	/* U+FFFD for each bad byte */
		if (rep) {
			strbuf_put(out, (const char *)run, s - run);
			strbuf_puts(out, rep);
			s += n;
			run = s;
		} else {
			s += n;
		}
	}
	strbuf_put(out, (const char *)run, s - run);
}

void export_label_escape(struct strbuf *out, const char *s)
{
	escape(out, s, true);
}

/* ---- families ---- */

enum ftype { F_GAUGE, F_COUNTER, F_INFO, F_HIST };

/* Histogram buckets: every third log2 slot edge from 2^10 ns (1 us) to 2^31 ns (2.1 s).
 * Each edge is a slot edge, so the cumulative counts are exact; 8 buckets instead of 40
 * keep a 1000-VM scrape (and the series count in Prometheus) small.
 * Slot i holds [2^i, 2^(i+1)) ns, so le=2^b counts slots below b. */
#define HIST_FIRST_EDGE	10
#define HIST_LAST_EDGE	31
#define HIST_EDGE_STEP	3
#define HIST_LINES	((HIST_LAST_EDGE - HIST_FIRST_EDGE) / HIST_EDGE_STEP + 4)	/* + Inf, sum, count */

struct render {
	struct strbuf *out;
	enum export_format fmt;
	const struct snapshot *s;
	struct strbuf labels;		/* every live VM's escaped label set, back to back */
	size_t *label_off;		/* per VM: offset into labels, or SIZE_MAX if not exported */
	char le[HIST_LAST_EDGE + 1][32];	/* bucket bounds in seconds, printed once */
};

static const char *unit_of(const char *name)
{
	size_t n = strlen(name);

	if (n > 6 && !strcmp(name + n - 6, "_bytes"))
		return "bytes";
	if (n > 8 && !strcmp(name + n - 8, "_seconds"))
		return "seconds";
	return NULL;
}

static void family(struct render *r, const char *name, enum ftype t, const char *help)
{
	static const char *const suffix[] = { [F_GAUGE] = "", [F_COUNTER] = "_total", [F_INFO] = "_info",
					      [F_HIST] = "" };
	static const char *const om_type[] = { [F_GAUGE] = "gauge", [F_COUNTER] = "counter", [F_INFO] = "info",
					       [F_HIST] = "histogram" };
	static const char *const text_type[] = { [F_GAUGE] = "gauge", [F_COUNTER] = "counter", [F_INFO] = "gauge",
						 [F_HIST] = "histogram" };
	struct strbuf *o = r->out;
	bool om = r->fmt == EXPORT_FMT_OPENMETRICS;
	const char *sfx = om ? "" : suffix[t];
	const char *unit = unit_of(name);

	strbuf_puts(o, "# HELP ");
	strbuf_puts(o, name);
	strbuf_puts(o, sfx);
	strbuf_put(o, " ", 1);
	escape(o, help, om);		/* OpenMetrics escapes quotes in HELP too */
	strbuf_puts(o, "\n# TYPE ");
	strbuf_puts(o, name);
	strbuf_puts(o, sfx);
	strbuf_put(o, " ", 1);
	strbuf_puts(o, om ? om_type[t] : text_type[t]);
	strbuf_put(o, "\n", 1);
	if (om && unit && t != F_INFO) {
		strbuf_puts(o, "# UNIT ");
		strbuf_puts(o, name);
		strbuf_put(o, " ", 1);
		strbuf_puts(o, unit);
		strbuf_put(o, "\n", 1);
	}
}

/* "name[_total]{" — the caller adds labels, then sample_end() the value. */
static void sample_begin(struct render *r, const char *name, enum ftype t)
{
	strbuf_puts(r->out, name);
	if (t == F_COUNTER)
		strbuf_puts(r->out, "_total");
	else if (t == F_INFO)
		strbuf_puts(r->out, "_info");
}

/* "{labels} " or " " */
static void put_labels(struct strbuf *o, const char *labels)
{
	if (labels && *labels) {
		strbuf_put(o, "{", 1);
		strbuf_puts(o, labels);
		strbuf_put(o, "} ", 2);
	} else {
		strbuf_put(o, " ", 1);
	}
}

static void sample_u64(struct render *r, const char *name, enum ftype t, const char *labels, uint64_t v)
{
	sample_begin(r, name, t);
	put_labels(r->out, labels);
	put_u64(r->out, v);
	strbuf_put(r->out, "\n", 1);
}

static void sample_double(struct render *r, const char *name, enum ftype t, double v)
{
	sample_begin(r, name, t);
	strbuf_put(r->out, " ", 1);
	put_double(r->out, v);
	strbuf_put(r->out, "\n", 1);
}

/* name{label="value"} v, with value escaped */
static void sample_label1(struct render *r, const char *name, const char *label, const char *value,
			  uint64_t v)
{
	strbuf_puts(r->out, name);
	strbuf_put(r->out, "{", 1);
	strbuf_puts(r->out, label);
	strbuf_puts(r->out, "=\"");
	export_label_escape(r->out, value);
	strbuf_puts(r->out, "\"} ");
	put_u64(r->out, v);
	strbuf_put(r->out, "\n", 1);
}

int export_counter_family(char *out, size_t outsz, const char *name, const char *unit, double *scale)
{
	size_t n = strlen(name), u = strlen(unit);
	int w;

	*scale = 1;
	for (size_t i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return -EINVAL;
	if (!strcmp(unit, "ns")) {
		/* Prometheus wants base units: nanoseconds are exported as seconds */
		if (n > 3 && !strcmp(name + n - 3, "_ns"))
			n -= 3;
		*scale = 1e-9;
		w = snprintf(out, outsz, "vmmem_%.*s_seconds", (int)n, name);
	} else if (!strcmp(unit, "events") || (n > u && name[n - u - 1] == '_' && !strcmp(name + n - u, unit))) {
		w = snprintf(out, outsz, "vmmem_%s", name);
	} else {
		w = snprintf(out, outsz, "vmmem_%s_%s", name, unit);
	}
	return w < 0 || (size_t)w >= outsz ? -ENAMETOOLONG : 0;
}

/* The family of one of the kernel side's counters or histograms, named by
 * export_counter_family(): scale is 1e-9 where nanoseconds are shown as seconds. */
struct counter_family {
	char name[128];
	double scale;
};

/* f for counter `base` in unit, if the backend has it: false when it is skipped. */
static bool counter_family(struct counter_family *f, bool available, const char *base, const char *unit)
{
	return available && !export_counter_family(f->name, sizeof(f->name), base, unit, &f->scale);
}

/* One sample of a counter family: events, or nanoseconds as seconds. */
static void sample_counter(struct render *r, const struct counter_family *f, const char *labels, uint64_t v)
{
	if (f->scale == 1) {
		sample_u64(r, f->name, F_COUNTER, labels, v);
		return;
	}
	sample_begin(r, f->name, F_COUNTER);
	put_labels(r->out, labels);
	put_ns_as_seconds(r->out, v);
	strbuf_put(r->out, "\n", 1);
}

/* Facts (user/facts/fact_table.h): a value read from /proc, sysfs or QMP is exported only when
 * present, in base units (kB x 1024 bytes, ms as seconds), signed where the kernel's is. */
static void sample_fact(struct render *r, const struct fact *f, const char *labels, uint64_t v)
{
	enum ftype t = f->kind == FK_COUNTER ? F_COUNTER : F_GAUGE;

	if (f->unit == FU_MS) {
		sample_begin(r, f->prom, t);
		put_labels(r->out, labels);
		put_double(r->out, v / 1000.0);
		strbuf_put(r->out, "\n", 1);
	} else if (f->flags & FF_SIGNED) {
		/* ksm profits are signed longs in the kernel (mm/ksm.c): keep the sign */
		sample_begin(r, f->prom, t);
		put_labels(r->out, labels);
		put_i64(r->out, (int64_t)v);
		strbuf_put(r->out, "\n", 1);
	} else {
		sample_u64(r, f->prom, t, labels, f->unit == FU_KB ? v * 1024 : v);
	}
}

/* A sysfs choice file as a state set: one series per mode, 1 for the chosen one. */
static void render_choice(struct render *r, const char *name, const char *help, const char *const *modes,
			  const char *cur)
{
	bool known = false;

	if (!cur[0])
		return;
	family(r, name, F_GAUGE, help);
	for (int i = 0; modes && modes[i]; i++) {
		known |= !strcmp(modes[i], cur);
		sample_label1(r, name, "mode", modes[i], !strcmp(modes[i], cur));
	}
	if (!known)
		sample_label1(r, name, "mode", cur, 1);
}

static void render_host_facts(struct render *r)
{
	const struct host_state *h = &r->s->host;

	for (int k = 0; k < HOST_NR_FACTS; k++) {
		const struct fact *f = &host_facts[k];
		const struct opt_u64 *v = fact_u64(f, h);

		if (!f->prom || f->type == FACT_FLAG)
			continue;
		if (f->type == FACT_STR) {
			render_choice(r, f->prom, f->help, f->modes, fact_str(f, h));
			continue;
		}
		if (!v->present)
			continue;
		family(r, f->prom, f->kind == FK_COUNTER ? F_COUNTER : F_GAUGE, f->help);
		sample_fact(r, f, NULL, v->v);
	}
}

static void render_host_counters(struct render *r)
{
	const struct snapshot *s = r->s;

	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++) {
		struct counter_family f;

		if (!counter_family(&f, s->available.host[k], host_counter_names[k], host_counter_units[k]))
			continue;
		family(r, f.name, F_COUNTER, host_counter_help[k]);
		sample_counter(r, &f, NULL, s->host_total.c[k]);
	}
}

static const char *vm_labels(struct render *r, int i)
{
	return r->label_off[i] == SIZE_MAX ? NULL : r->labels.buf + r->label_off[i];
}

/* The first VM from i on that has series of VM counter k (labels, and the counter means
 * something for it), or nr_vms: a family no VM has is absent. */
static int next_vm_series(struct render *r, int k, int i)
{
	while (i < r->s->nr_vms && (!vm_labels(r, i) || !vm_counter_available(r->s, &r->s->vms[i], k)))
		i++;
	return i;
}

static void render_vm_counters(struct render *r)
{
	const struct snapshot *s = r->s;

	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++) {
		struct counter_family f;
		int i;

		if ((k >= VMMEM_C_flushes_recv_ksmd && k < VMMEM_C_flushes_recv_ksmd + VMMEM_NR_FLUSH_CAUSES) ||
		    (k >= VMMEM_C_shootdowns_recv_ksmd && k < VMMEM_C_shootdowns_recv_ksmd + VMMEM_NR_SHOOT_CAUSES))
			continue;	/* families with a cause label: render_flushes_recv() */
		i = next_vm_series(r, k, 0);
		if (i == s->nr_vms ||
		    !counter_family(&f, s->available.vm[k], vm_counter_names[k], vm_counter_units[k]))
			continue;
		family(r, f.name, F_COUNTER, vm_counter_help[k]);
		for (; i < s->nr_vms; i = next_vm_series(r, k, i + 1))
			sample_counter(r, &f, vm_labels(r, i), s->vms[i].total.c[k]);
	}
}

/* One counter family with a cause label from N counters starting at FIRST (flushes_recv_*,
 * shootdowns_recv_* in JSON): vmmem_vm_flushes_received_total{...,cause="ksmd"} */
static void render_cause_family(struct render *r, const char *name, int first, int n, const char *help)
{
	const struct snapshot *s = r->s;
	int i = next_vm_series(r, first, 0);

	if (i < s->nr_vms)
		family(r, name, F_COUNTER, help);
	for (; i < s->nr_vms; i = next_vm_series(r, first, i + 1)) {
		const char *l = vm_labels(r, i);

		for (int c = 0; c < n; c++) {
			sample_begin(r, name, F_COUNTER);
			strbuf_puts(r->out, "{");
			if (*l) {
				strbuf_puts(r->out, l);
				strbuf_puts(r->out, ",");
			}
			strbuf_puts(r->out, "cause=\"");
			/* the shootdown causes are the flush causes without numa and vmm */
			strbuf_puts(r->out, flush_cause_names[c == n - 1 ? VMMEM_FLUSH_other : c]);
			strbuf_puts(r->out, "\"} ");
			put_u64(r->out, s->vms[i].total.c[first + c]);
			strbuf_put(r->out, "\n", 1);
		}
	}
}

static void render_flushes_recv(struct render *r)
{
	render_cause_family(r, "vmmem_vm_flushes_received", VMMEM_C_flushes_recv_ksmd, VMMEM_NR_FLUSH_CAUSES,
			    "KVM remote TLB flushes of this VM (kvm_flush_remote_tlbs), by the class of the task that "
			    "caused them: ksmd, khugepaged, kcompactd (and migrations), kswapd (and direct reclaim), "
			    "numa (NUMA balancing's scan), vmm (its own threads), other");
	render_cause_family(r, "vmmem_vm_shootdowns_received", VMMEM_C_shootdowns_recv_ksmd, VMMEM_NR_SHOOT_CAUSES,
			    "TLB shootdowns that tasks outside the VMM sent for its mm (tlb:tlb_flush reason 4 inside "
			    "flush_tlb_mm_range), by the sender's class: ksmd, khugepaged, kcompactd, kswapd, other");
}

static void render_vm_facts(struct render *r)
{
	const struct snapshot *s = r->s;
	bool any_qmp = false;

	/* only VMs with a known QMP socket: the others have no guest-side source at all */
	for (int i = 0; i < s->nr_vms; i++) {
		const char *l = vm_labels(r, i);

		if (!l || !s->vms[i].info.qmp.socket[0])
			continue;
		if (!any_qmp)
			family(r, "vmmem_qmp_up", F_GAUGE,
			       "1 if the VM's QMP socket (or, for a libvirt domain, libvirtd) answered in the last 10 s (guest-side balloon facts); 0 if not");
		any_qmp = true;
		sample_u64(r, "vmmem_qmp_up", F_GAUGE, l, s->vms[i].info.qmp.up);
	}
	for (int k = 0; k < VM_NR_FACTS; k++) {
		const struct fact *f = &vm_facts[k];
		bool any = false;

		if (!f->prom || f->type != FACT_U64)
			continue;
		for (int i = 0; i < s->nr_vms; i++) {
			const struct opt_u64 *v = fact_u64(f, &s->vms[i].info);
			const char *l = vm_labels(r, i);

			if (!l || !v->present)
				continue;
			if (!any)
				family(r, f->prom, f->kind == FK_COUNTER ? F_COUNTER : F_GAUGE, f->help);
			any = true;
			sample_fact(r, f, l, v->v);
		}
	}
}


/* name_bucket{labels,le="x"} n ... name_sum, name_count; built with puts: a 1000-VM scrape
 * has ~100000 of these lines. */
static void hist_sample(struct render *r, const char *name, const char *labels, const struct vmmem_hist *h)
{
	struct strbuf *o = r->out;
	size_t nl = strlen(name);
	uint64_t cum = 0;
	int slot = 0;

	if (!labels)
		labels = "";
	for (int edge = HIST_FIRST_EDGE; edge <= HIST_LAST_EDGE + HIST_EDGE_STEP; edge += HIST_EDGE_STEP) {
		bool inf = edge > HIST_LAST_EDGE;

		while (slot < VMMEM_HIST_SLOTS && (inf || slot < edge))
			cum += h->slot[slot++];
		strbuf_put(o, name, nl);
		strbuf_put(o, "_bucket{", 8);
		if (*labels) {
			strbuf_puts(o, labels);
			strbuf_put(o, ",", 1);
		}
		strbuf_put(o, "le=\"", 4);
		strbuf_puts(o, inf ? "+Inf" : r->le[edge]);
		strbuf_put(o, "\"} ", 3);
		put_u64(o, cum);
		strbuf_put(o, "\n", 1);
	}
	strbuf_put(o, name, nl);
	strbuf_put(o, "_sum", 4);
	put_labels(o, labels);
	put_ns_as_seconds(o, h->sum_ns);
	strbuf_put(o, "\n", 1);
	strbuf_put(o, name, nl);
	strbuf_put(o, "_count", 6);
	put_labels(o, labels);
	put_u64(o, cum);
	strbuf_put(o, "\n", 1);
}

static bool hist_empty(const struct vmmem_hist *h)
{
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		if (h->slot[i])
			return false;
	return true;
}

static void render_hists(struct render *r)
{
	const struct snapshot *s = r->s;

	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++) {
		struct counter_family f;

		if (!counter_family(&f, s->available.host_hist[k], host_hist_names[k], "ns"))
			continue;
		family(r, f.name, F_HIST, host_hist_help[k]);
		hist_sample(r, f.name, NULL, &s->host_hist_total.h[k]);
	}
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++) {
		struct counter_family f;
		bool any = false;

		if (!counter_family(&f, s->available.vm_hist[k], vm_hist_names[k], "ns"))
			continue;
		for (int i = 0; i < s->nr_vms; i++) {
			const char *l = vm_labels(r, i);

			/* a VM with no event of this kind yet has no series (saves most of a
			 * 1000-VM scrape); it appears with its first event */
			if (!l || hist_empty(&s->vms[i].hist_total.h[k]))
				continue;
			if (!any)
				family(r, f.name, F_HIST, vm_hist_help[k]);
			any = true;
			hist_sample(r, f.name, l, &s->vms[i].hist_total.h[k]);
		}
	}
}

/* A VM's series key: vm and uuid, not the pid, so a restarted VM (a new process with the
 * same name or UUID) continues its series as a counter reset. */
static int cmp_vm_key(const void *a, const void *b, void *ctx)
{
	const struct snapshot *s = ctx;
	const struct vmm_info *x = &s->vms[*(const int *)a].info, *y = &s->vms[*(const int *)b].info;
	int r = strcmp(x->name, y->name);

	return r ? r : strcmp(x->uuid, y->uuid);
}

static void vm_comm(const struct vmm_info *i, char comm[sizeof(i->comm) + 1])
{
	/* comm is a fixed array that the kernel does not always NUL-terminate for us */
	memcpy(comm, i->comm, sizeof(i->comm));
	comm[sizeof(i->comm)] = 0;
}

/* Escape every live VM's labels once: each is printed once per family. Labels: vm, and
 * uuid where the VM has one; two live VMs with the same vm and uuid (two unnamed VMMs, say)
 * both carry pid too, so every series stays unique. */
static int build_labels(struct render *r)
{
	const struct snapshot *s = r->s;
	int live = 0, *order;

	r->label_off = calloc(s->nr_vms ? s->nr_vms : 1, sizeof(*r->label_off));
	order = calloc(s->nr_vms ? s->nr_vms : 1, sizeof(*order));
	if (!r->label_off || !order) {
		free(order);
		return -ENOMEM;
	}
	for (int i = 0; i < s->nr_vms; i++) {
		r->label_off[i] = SIZE_MAX;
		if (!s->vms[i].exited)
			order[live++] = i;
	}
	qsort_r(order, live, sizeof(*order), cmp_vm_key, (void *)s);
	for (int k = 0; k < live; k++) {
		const struct vmm_info *v = &s->vms[order[k]].info;
		bool dup = (k > 0 && !cmp_vm_key(&order[k - 1], &order[k], (void *)s)) ||
			   (k + 1 < live && !cmp_vm_key(&order[k], &order[k + 1], (void *)s));

		r->label_off[order[k]] = r->labels.len;
		strbuf_puts(&r->labels, "vm=\"");
		export_label_escape(&r->labels, v->name);
		strbuf_puts(&r->labels, "\"");
		if (v->uuid[0]) {
			strbuf_puts(&r->labels, ",uuid=\"");
			strbuf_puts(&r->labels, v->uuid);	/* hex digits and dashes: nothing to escape */
			strbuf_puts(&r->labels, "\"");
		}
		if (dup)
			strbuf_printf(&r->labels, ",pid=\"%d\"", (int)v->pid);
		strbuf_put(&r->labels, "\0", 1);	/* keep the NUL: each label set is a C string */
	}
	free(order);
	return r->labels.oom ? -ENOMEM : live;
}

/* vmmem_vm_info{vm,uuid,pid,vmm,libvirt_domain,machine,vmid} 1: what the series key leaves
 * out (a restart gives a new info series, as the pid changes). Empty facts are left out. */
static void render_vm_info(struct render *r)
{
	const struct snapshot *s = r->s;
	bool any = false;

	for (int i = 0; i < s->nr_vms; i++) {
		const struct vmm_info *v = &s->vms[i].info;
		const char *l = vm_labels(r, i);
		const struct { const char *label, *value; } facts[] = {
			{ "libvirt_domain", v->libvirt_domain }, { "machine", v->machine }, { "vmid", v->vmid },
		};
		char comm[sizeof(v->comm) + 1];

		if (!l)
			continue;
		if (!any)
			family(r, "vmmem_vm", F_INFO,
			       "one per VM: its series labels (vm, uuid) with the process and what else identifies it");
		any = true;
		sample_begin(r, "vmmem_vm", F_INFO);
		strbuf_put(r->out, "{", 1);
		strbuf_puts(r->out, l);
		if (!strstr(l, ",pid=\""))
			strbuf_printf(r->out, ",pid=\"%d\"", (int)v->pid);
		vm_comm(v, comm);
		strbuf_puts(r->out, ",vmm=\"");
		export_label_escape(r->out, comm);
		strbuf_puts(r->out, "\"");
		for (size_t f = 0; f < sizeof(facts) / sizeof(facts[0]); f++) {
			if (!facts[f].value[0])
				continue;
			strbuf_printf(r->out, ",%s=\"", facts[f].label);
			export_label_escape(r->out, facts[f].value);
			strbuf_puts(r->out, "\"");
		}
		strbuf_puts(r->out, "} 1\n");
	}
}

/* One gauge per recommendation in force; value = severity (0 info, 1 warn, 2 crit). */
static void render_advice(struct render *r)
{
	const struct snapshot *s = r->s;

	if (!s->nr_advice)
		return;
	family(r, "vmmem_advice", F_GAUGE,
	       "recommendations in force (vmmemtop advise); the value is the severity: 0 info, 1 warn, 2 crit");
	for (int i = 0; i < s->nr_advice; i++) {
		struct strbuf l;

		strbuf_init(&l);
		strbuf_puts(&l, "id=\"");
		export_label_escape(&l, s->advice[i].id);
		strbuf_puts(&l, "\",target=\"");
		export_label_escape(&l, s->advice[i].target);
		strbuf_puts(&l, "\"");
		if (!l.oom)
			sample_u64(r, "vmmem_advice", F_GAUGE, l.buf, s->advice[i].severity);
		strbuf_free(&l);
	}
}

static void render_self(struct render *r, const struct export_meta *m, int live)
{
	const struct snapshot *s = r->s;

	if (!s)
		return;
	family(r, "vmmem_last_sample_timestamp_seconds", F_GAUGE,
	       "wall-clock time at the end of the sample being exported");
	sample_u64(r, "vmmem_last_sample_timestamp_seconds", F_GAUGE, NULL, (uint64_t)s->wall_time);
	family(r, "vmmem_sample_interval_seconds", F_GAUGE, "length of the sample being exported");
	sample_double(r, "vmmem_sample_interval_seconds", F_GAUGE, s->interval_s);
	family(r, "vmmem_vms", F_GAUGE, "VMM processes being counted");
	sample_u64(r, "vmmem_vms", F_GAUGE, NULL, (uint64_t)live);
	/* (promtool objects to "counter" in a gauge's name, hence vmmem_available{metric=}) */
	family(r, "vmmem_available", F_GAUGE,
	       "1 if the running kernel lets the backend count this counter or histogram; 0: it is not exported");
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		sample_label1(r, "vmmem_available", "metric", vm_counter_names[k], s->available.vm[k]);
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		sample_label1(r, "vmmem_available", "metric", host_counter_names[k], s->available.host[k]);
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		sample_label1(r, "vmmem_available", "metric", vm_hist_names[k], s->available.vm_hist[k]);
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		sample_label1(r, "vmmem_available", "metric", host_hist_names[k], s->available.host_hist[k]);
	(void)m;
}

/* vmmem_scrape_source_{success,duration_seconds}{source}: whether each data source of the
 * sample served answered in full, and what reading it took. A failing source leaves its own
 * series out (or stale), never the scrape. */
static void render_sources(struct render *r)
{
	const struct snapshot *s = r->s;
	bool any = false;

	for (int i = 0; i < SNAP_NR_SOURCES; i++)
		any |= s->sources[i].used;
	if (!any)
		return;
	family(r, "vmmem_scrape_source_success", F_GAUGE,
	       "1 if the data source answered in full for the sample served (bpf, kmod, proc, sysfs, qmp), else 0");
	for (int i = 0; i < SNAP_NR_SOURCES; i++)
		if (s->sources[i].used)
			sample_label1(r, "vmmem_scrape_source_success", "source", snap_source_names[i], s->sources[i].ok);
	family(r, "vmmem_scrape_source_duration_seconds", F_GAUGE,
	       "time spent reading the data source for the sample served (qmp: the poller's last round)");
	for (int i = 0; i < SNAP_NR_SOURCES; i++) {
		if (!s->sources[i].used)
			continue;
		strbuf_puts(r->out, "vmmem_scrape_source_duration_seconds{source=\"");
		strbuf_puts(r->out, snap_source_names[i]);
		strbuf_puts(r->out, "\"} ");
		put_double(r->out, s->sources[i].seconds);
		strbuf_put(r->out, "\n", 1);
	}
}

int export_prom_render(struct strbuf *out, const struct snapshot *s, const struct export_meta *m,
		       enum export_format fmt)
{
	struct render r = { .out = out, .fmt = fmt, .s = s };
	int live = 0;

	family(&r, "vmmem_up", F_GAUGE, "1 if vmmemtop is counting and the exported sample is fresh");
	sample_u64(&r, "vmmem_up", F_GAUGE, NULL, m->up && s);
	family(&r, "vmmem_build", F_INFO, "vmmemtop version and the backend it counts with");
	sample_begin(&r, "vmmem_build", F_INFO);
	strbuf_puts(out, "{version=\"");
	export_label_escape(out, m->version ? m->version : "unknown");
	strbuf_puts(out, "\",backend=\"");
	export_label_escape(out, s && s->backend ? s->backend : "none");
	strbuf_puts(out, "\",tdp_fault_name=\"");
	export_label_escape(out, s ? tdp_fault_name(s->host.cpu_vendor) : "");
	strbuf_puts(out, "\"} 1\n");
	if (!s)
		return out->oom ? -ENOMEM : 0;

	strbuf_init(&r.labels);
	live = build_labels(&r);
	if (live < 0)
		goto out;
	for (int e = HIST_FIRST_EDGE; e <= HIST_LAST_EDGE; e += HIST_EDGE_STEP)
		ns_to_seconds(r.le[e], 1ull << e);
	/* size the buffer once: growing a 10 MB buffer by doubling copies it ~4 times */
	if (strbuf_reserve(out, 16384 + r.labels.len * (VMMEM_NR_VM_COUNTERS + 10 + VMM_QMP_NR + VMMEM_NR_VM_HISTS * HIST_LINES) +
			   (size_t)live * 40 * (VMMEM_NR_VM_COUNTERS + 10 + VMM_QMP_NR + VMMEM_NR_VM_HISTS * HIST_LINES)) == false)
		goto out;
	render_self(&r, m, live);
	render_sources(&r);
	render_host_counters(&r);
	render_host_facts(&r);
	render_vm_info(&r);
	render_vm_counters(&r);
	render_flushes_recv(&r);
	render_vm_facts(&r);
	render_hists(&r);
	render_advice(&r);
out:
	free(r.label_off);
	strbuf_free(&r.labels);
	return live < 0 || out->oom ? -ENOMEM : 0;
}

int export_prom_finish(struct strbuf *out, double scrape_seconds, enum export_format fmt)
{
	struct render r = { .out = out, .fmt = fmt };

	family(&r, "vmmem_scrape_duration_seconds", F_GAUGE, "time taken to render this exposition");
	sample_double(&r, "vmmem_scrape_duration_seconds", F_GAUGE, scrape_seconds);
	if (fmt == EXPORT_FMT_OPENMETRICS)
		strbuf_puts(out, "# EOF\n");
	return out->oom ? -ENOMEM : 0;
}

/* ---- content negotiation ---- */

static void trim(const char **b, const char **e)
{
	while (*b < *e && (**b == ' ' || **b == '\t'))
		(*b)++;
	while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

static bool token_is(const char *b, const char *e, const char *word)
{
	size_t n = strlen(word);

	return (size_t)(e - b) == n && !strncasecmp(b, word, n);
}

/* One media range "type/sub; k=v; q=0.5" in [b, e): which format it names and its q.
 * Returns -1 for a range that names neither. */
static int media_range(const char *b, const char *e, double *q)
{
	const char *semi = memchr(b, ';', e - b), *te = semi ? semi : e, *p;
	bool version_ok = true;
	int fmt = -1;

	trim(&b, &te);
	*q = 1;
	if (token_is(b, te, "application/openmetrics-text"))
		fmt = EXPORT_FMT_OPENMETRICS;
	else if (token_is(b, te, "text/plain") || token_is(b, te, "text/*") || token_is(b, te, "*/*"))
		fmt = EXPORT_FMT_TEXT;
	for (p = semi; p && p < e;) {
		const char *pb = p + 1, *pe = memchr(pb, ';', e - pb), *eq;
		char num[32];

		if (!pe)
			pe = e;
		p = pe < e ? pe : NULL;
		trim(&pb, &pe);
		eq = memchr(pb, '=', pe - pb);
		if (!eq)
			continue;
		if (token_is(pb, eq, "q")) {
			size_t n = pe - eq - 1;
			char *end;

			if (n == 0 || n >= sizeof(num))
				return -1;
			memcpy(num, eq + 1, n);
			num[n] = 0;
			*q = strtod(num, &end);
			if (*end || *q < 0 || *q > 1)
				return -1;
		} else if (token_is(pb, eq, "version")) {
			/* we write OpenMetrics 1.0.0 (0.0.1 parsers read it) and text 0.0.4 */
			version_ok = fmt == EXPORT_FMT_OPENMETRICS ?
				     token_is(eq + 1, pe, "1.0.0") || token_is(eq + 1, pe, "0.0.1") :
				     token_is(eq + 1, pe, "0.0.4");
		}
	}
	return version_ok ? fmt : -1;
}

enum export_format export_negotiate(const char *accept)
{
	double best[2] = { 0, 0 };
	const char *b = accept;

	if (!accept)
		return EXPORT_FMT_TEXT;
	while (*b) {
		const char *e = strchr(b, ',');
		double q;
		int fmt;

		if (!e)
			e = b + strlen(b);
		fmt = media_range(b, e, &q);
		if (fmt >= 0 && q > best[fmt])
			best[fmt] = q;
		b = *e ? e + 1 : e;
	}
	return best[EXPORT_FMT_OPENMETRICS] > 0 && best[EXPORT_FMT_OPENMETRICS] >= best[EXPORT_FMT_TEXT] ?
	       EXPORT_FMT_OPENMETRICS : EXPORT_FMT_TEXT;
}

const char *export_content_type(enum export_format fmt)
{
	return fmt == EXPORT_FMT_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	       "text/plain; version=0.0.4; charset=utf-8";
}
