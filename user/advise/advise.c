// SPDX-License-Identifier: MIT
/* Advisor rules. Every threshold is named here and tabled in README.md with its source:
 * ksmtuned (committed vs free memory, ±300/−50 steps), oVirt MoM (host free fraction 0.20,
 * 5 % balloon steps), the kernel's KSM advisor, and vmmem's own fault and TLB measurements. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "advise.h"

#define PRESSURE_FREE_FRACTION	0.20	/* MoM: host free / MemTotal below this is pressure */
#define CRIT_FREE_FRACTION	0.10
#define RELAX			0.8	/* a condition clears only when 20 % past its threshold */
#define KSMD_CPU_HIGH		0.10	/* ksmd time / wall time: one tenth of a CPU */
#define KSM_SCAN_MAX		1250	/* ksmtuned's pages_to_scan bounds and steps */
#define KSM_SCAN_MIN		64
#define KSM_SCAN_UP		300
#define KSM_SCAN_DOWN		50
#define TDP_FAULT_STORM		5000.0	/* TDP faults/s of one VM, sustained */
#define TDP_MAP_MIN		1000	/* mappings seen before the 4K share means anything */
#define SHARE_4K_HIGH		0.90
#define IDLE_FAULTS		10.0	/* TDP faults/s below which a VM counts as idle */
#define DEFLATE_FAULTS		1000.0	/* TDP faults/s of a VM that was ballooned: give memory back */
#define BALLOON_STEP		0.95	/* MoM: shrink to 95 % per step */
#define SWAP_RESERVE_FRACTION	0.10	/* host reserve for swap sizing: 10 % of RAM, at least 1 GiB */
#define KSMD_CPU_CHURN		0.05	/* ksmd share worth questioning when it mostly meets churn */
#define SWAPIN_BYTES_HIGH	(1024.0 * 1024)	/* bytes/s of guest memory read back from swap */
#define KVM_MAJFLT_HIGH		100.0	/* major faults/s KVM takes on evicted guest memory */
#define FORECAST_MIN_FRACTION	0.01	/* a KSM forecast saving < 1 % of RAM: not worth ksmd */
#define FORECAST_BIG_FRACTION	0.10	/* >= 10 % of RAM: worth saying even without pressure */
#define FORECAST_MAX_AGE_S	86400	/* older forecasts are reported but decide nothing */
#define IPI_PREEMPTED_RATE	100.0	/* guest IPIs/s to preempted vCPUs worth acting on */
#define IPI_PREEMPTED_SHARE	0.10	/* ... when at least this share of its IPIs */
#define WS_FAR_BELOW		0.50	/* working set under half the VM's memory: inflate candidate */
#define WS_PRESSES		0.90	/* working set at 90 % of a ballooned VM's size: deflate */
#define WS_HEADROOM		1.25	/* the size advised: working set + 25 % */
#define WS_MIN_KB		(256.0 * 1024)	/* never advise a guest below 256 MiB */

const char *const advice_ids[] = {
	"ksm-enable", "ksm-disable", "ksm-scan-faster", "ksm-scan-slower", "ksm-exclude-vm",
	"thp-enable", "thp-defrag", "hugepages-vm", "balloon-inflate", "balloon-deflate",
	"swap-increase", "vm-host-swapped", "vm-ipi-preempted", "healthy", NULL,
};

const char *advice_severity_name(enum advice_severity s)
{
	return s == ADVICE_CRIT ? "crit" : s == ADVICE_WARN ? "warn" : "info";
}

struct candidate {
	struct advice a;
	bool strong;	/* meets the threshold */
	bool weak;	/* meets the relaxed threshold (keeps an active advice) */
};

struct ctx {
	const struct snapshot *s;
	struct candidate c[ADVISE_MAX];
	int n;
	/* "id|target" of advice whose action is already in place in this snapshot: an active
	 * advice leaves at once instead of fading, so nobody is told to do what is done */
	char resolved[16][sizeof(((struct advice *)0)->id) + sizeof(((struct advice *)0)->target)];
	int nr_resolved;
	double total_kb, free_kb, avail_kb, free_fraction, thres_kb, committed_kb, configured_kb;
	bool pressure;
};

static struct advice *add(struct ctx *x, const char *id, const char *target, enum advice_severity sev,
			  bool strong, bool weak)
{
	struct candidate *c;

	if (x->n >= ADVISE_MAX || (!strong && !weak))
		return NULL;
	c = &x->c[x->n++];
	memset(c, 0, sizeof(*c));
	snprintf(c->a.id, sizeof(c->a.id), "%s", id);
	snprintf(c->a.target, sizeof(c->a.target), "%s", target);
	c->a.severity = sev;
	c->strong = strong;
	c->weak = weak || strong;
	return &c->a;
}

static void resolved(struct ctx *x, const char *id, const char *target)
{
	if (x->nr_resolved < (int)(sizeof(x->resolved) / sizeof(x->resolved[0])))
		snprintf(x->resolved[x->nr_resolved++], sizeof(x->resolved[0]), "%s|%s", id, target);
}

static bool is_resolved(const struct ctx *x, const char *key)
{
	for (int i = 0; i < x->nr_resolved; i++)
		if (!strcmp(x->resolved[i], key))
			return true;
	return false;
}

/* A VM name as one shell word: names come from qemu -name or a snapshot file, and the
 * command lines are meant to be pasted into a root shell. */
static const char *shq(const char *name, char *buf, size_t sz)
{
	size_t o = 0;
	bool plain = name[0] != 0;

	for (const char *p = name; *p; p++)
		plain &= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			 strchr("._+:@%-", *p) != NULL;
	if (plain) {
		snprintf(buf, sz, "%s", name);
		return buf;
	}
	if (sz < 3)
		return "''";
	buf[o++] = '\'';
	for (const char *p = name; *p && o + 5 < sz; p++) {
		if (*p == '\'') {
			memcpy(buf + o, "'\\''", 4);
			o += 4;
		} else {
			/* a newline would end the line the operator pastes */
			buf[o++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		}
	}
	buf[o++] = '\'';
	buf[o] = 0;
	return buf;
}

/* The balloon change as commands: virsh only for a domain libvirt runs (by its libvirt name;
 * virsh knows no other VM), and QMP for any QEMU. kb: the new guest size in KiB. */
static void balloon_command(struct advice *a, const struct vm_snapshot *v, double kb)
{
	char q[VMM_NAME_MAX * 4 + 3];

	if (v->info.libvirt_domain[0])
		snprintf(a->command, sizeof(a->command),
			 "virsh setmem %s %.0fK --live\n"
			 "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":%.0f}}",
			 shq(v->info.libvirt_domain, q, sizeof(q)), kb, kb * 1024);
	else
		snprintf(a->command, sizeof(a->command),
			 "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":%.0f}}", kb * 1024);
}

static double opt(struct opt_u64 v, double dflt)
{
	return v.present ? (double)v.v : dflt;
}

static double vm_rate(const struct snapshot *s, const struct vm_snapshot *v, int id)
{
	if (!vm_counter_available(s, v, id) || s->interval_s <= 0)
		return NAN;
	return v->delta.c[id] / s->interval_s;
}

static const char *vm_target(const struct vm_snapshot *v, char *buf, size_t sz)
{
	snprintf(buf, sz, "vm:%s", v->info.name);
	return buf;
}

/* ---- KSM ---- */

/* The last `vmmemtop ksm-forecast`, if fresh: what KSM would save (for the host's current
 * use_zero_pages) and what ksmd would cost at the scan rate the advice sets. */
struct forecast_view {
	bool usable;
	double saved, age_s, scan_mib_s, pass_s, cpu;
	char text[320];
};

static void forecast_view(const struct snapshot *s, double to_scan, struct forecast_view *f)
{
	const struct host_ksm_forecast *kf = &s->host.ksm_forecast;
	const struct host_ksm *k = &s->host.ksm;
	double sleep_ms = opt(k->sleep_millisecs, 20), pages_s, per_page;
	char age[48];

	memset(f, 0, sizeof(*f));
	if (!kf->present)
		return;
	f->saved = k->use_zero_pages.present && k->use_zero_pages.v ? kf->saved_bytes_uzp : kf->saved_bytes;
	f->age_s = s->wall_time > 0 && s->wall_time >= kf->time ? (double)(s->wall_time - kf->time) : NAN;
	f->usable = f->age_s == f->age_s && f->age_s <= FORECAST_MAX_AGE_S;
	if (f->age_s == f->age_s)
		snprintf(age, sizeof(age), "%.0f s old%s", f->age_s, f->usable ? "" : ", stale: not used");
	else
		snprintf(age, sizeof(age), "age unknown: not used");
	/* ksmd scans pages_to_scan pages every sleep_millisecs (mm/ksm.c ksm_do_scan, ksm_scan_thread);
	 * per page it checksums and searches trees, work of the order of the forecast's hashing */
	pages_s = to_scan * 1000 / (sleep_ms > 0 ? sleep_ms : 1);
	per_page = kf->scanned_bytes ? kf->cpu_seconds / (kf->scanned_bytes / 4096.0) : 0;
	f->scan_mib_s = pages_s * 4096 / 1048576;
	f->pass_s = kf->scanned_bytes / 4096.0 / pages_s;
	f->cpu = fmin(1, pages_s * per_page);
	snprintf(f->text, sizeof(f->text),
		 "KSM would save ~%.1f GiB across %llu VMs (forecast, %s); at %.0f pages per %.0f ms ksmd "
		 "scans %.0f MiB/s: a full pass over the %.1f GiB takes ~%.0f s, ~%.1f%% of a CPU",
		 f->saved / (1 << 30), (unsigned long long)kf->vms, age, to_scan, sleep_ms, f->scan_mib_s,
		 kf->scanned_bytes / (double)(1 << 30), f->pass_s, f->cpu * 100);
}

static void rules_ksm(struct ctx *x)
{
	const struct host_ksm *k = &x->s->host.ksm;
	double run = opt(k->run, -1), profit = opt(k->general_profit, NAN);
	double ksmd_cpu = NAN, to_scan = opt(k->pages_to_scan, 100);
	bool advisor = k->advisor_mode[0] != 0, advisor_on = advisor && strcmp(k->advisor_mode, "none");
	bool churn = k->pages_volatile.present && k->pages_sharing.present &&
		     k->pages_volatile.v > k->pages_sharing.v;
	bool want_on = x->committed_kb + x->thres_kb >= x->total_kb || x->free_kb < x->thres_kb;
	bool want_on_relaxed = x->committed_kb + x->thres_kb * RELAX >= x->total_kb * RELAX ||
			       x->free_kb < x->thres_kb / RELAX;
	struct advice *a;

	if (!k->present || !k->run.present)
		return;
	if (run != 0)
		resolved(x, "ksm-enable", "host");
	if (run != 1)
		resolved(x, "ksm-disable", "host");
	if (run != 1 || advisor_on || to_scan >= KSM_SCAN_MAX)
		resolved(x, "ksm-scan-faster", "host");
	if (run != 1 || advisor_on || to_scan <= KSM_SCAN_MIN)
		resolved(x, "ksm-scan-slower", "host");
	if (x->s->nr_vms == 0)
		return;
	ksmd_cpu = x->s->ksmd_cpu;	/* ksmd's own CPU time (its scans include sleeps) */
	if (profit == profit)
		profit = (double)(int64_t)k->general_profit.v;	/* signed in mm/ksm.c */

	if (run == 0) {
		struct forecast_view f;
		enum advice_severity sev = x->pressure ? ADVICE_CRIT : ADVICE_WARN;
		double ram = x->total_kb * 1024;

		forecast_view(x->s, KSM_SCAN_UP, &f);	/* the rate the command below sets */
		if (f.usable && f.saved < FORECAST_MIN_FRACTION * ram) {
			/* measured: too little to share for ksmd's CPU and rmap metadata */
			want_on = want_on_relaxed = false;
		} else if (f.usable && f.saved >= FORECAST_BIG_FRACTION * ram && !want_on) {
			want_on = want_on_relaxed = true;
			sev = ADVICE_INFO;
		}
		a = add(x, "ksm-enable", "host", sev, want_on, want_on_relaxed);
		if (a) {
			int n = 0;

			if (f.text[0])
				n = snprintf(a->evidence, sizeof(a->evidence), "%s; ", f.text);
			snprintf(a->evidence + n, sizeof(a->evidence) - n,
				 "KSM is off; VMs' RSS %.0f MiB + reserve %.0f MiB vs RAM %.0f MiB, free %.0f MiB "
				 "(ksmtuned: on when committed + 20%% of RAM >= RAM or free < 20%% of RAM)",
				 x->committed_kb / 1024, x->thres_kb / 1024, x->total_kb / 1024, x->free_kb / 1024);
			snprintf(a->action, sizeof(a->action), "turn KSM on so identical guest pages are shared%s",
				 advisor ? ", with the kernel's scan-time advisor tuning the scan rate" : "");
			if (advisor)
				snprintf(a->command, sizeof(a->command),
					 "echo scan-time > /sys/kernel/mm/ksm/advisor_mode\n"
					 "echo 1 > /sys/kernel/mm/ksm/run");
			else
				snprintf(a->command, sizeof(a->command),
					 "echo %d > /sys/kernel/mm/ksm/pages_to_scan\n"
					 "echo 1 > /sys/kernel/mm/ksm/run", KSM_SCAN_UP);
			snprintf(a->risk, sizeof(a->risk),
				 "ksmd costs CPU; merged pages are copied again on write; on multi-tenant hosts "
				 "page sharing opens cross-VM timing side channels (exclude untrusted VMs)");
		}
		return;
	}
	if (run != 1)
		return;

	/* on, but not paying: negative profit, or nothing to gain */
	{
		bool negative = profit == profit && profit < 0;
		bool idle_host = !want_on && x->s->host.ksm.pages_sharing.present &&
				 k->pages_sharing.v * 4.0 < x->total_kb * 0.01;

		a = add(x, "ksm-disable", "host", negative ? ADVICE_WARN : ADVICE_INFO,
			negative || idle_host, negative || (!want_on_relaxed && idle_host));
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "KSM is on; general_profit %.0f bytes (threshold < 0); pages_sharing %.0f "
				 "(threshold: 1%% of RAM when memory is plentiful), pages_volatile %.0f; "
				 "free %.0f of %.0f MiB; ksmd CPU %.1f%%",
				 profit == profit ? profit : 0, opt(k->pages_sharing, 0), opt(k->pages_volatile, 0),
				 x->free_kb / 1024,
				 x->total_kb / 1024, ksmd_cpu == ksmd_cpu ? ksmd_cpu * 100 : 0.0);
			snprintf(a->action, sizeof(a->action),
				 "stop KSM and unmerge: it costs more (rmap metadata, ksmd CPU) than it saves");
			snprintf(a->command, sizeof(a->command), "echo 2 > /sys/kernel/mm/ksm/run");
			snprintf(a->risk, sizeof(a->risk),
				 "unmerging needs memory for every shared page at once (run=2); check free memory first");
			return;	/* never tune the rate of a KSM we advise to stop */
		}
	}

	/* scan rate: ksmtuned's steps, or the kernel advisor where it exists */
	if (x->free_kb < x->thres_kb && !advisor_on && to_scan < KSM_SCAN_MAX) {
		a = add(x, "ksm-scan-faster", "host", ADVICE_WARN, true, true);
		snprintf(a->evidence, sizeof(a->evidence),
			 "free %.0f MiB < threshold %.0f MiB (20%% of RAM); pages_to_scan %.0f < %d",
			 x->free_kb / 1024, x->thres_kb / 1024, to_scan, KSM_SCAN_MAX);
		if (advisor) {
			snprintf(a->action, sizeof(a->action), "let the kernel's KSM advisor raise the scan rate");
			snprintf(a->command, sizeof(a->command), "echo scan-time > /sys/kernel/mm/ksm/advisor_mode");
		} else {
			snprintf(a->action, sizeof(a->action), "scan faster (ksmtuned step +%d)", KSM_SCAN_UP);
			snprintf(a->command, sizeof(a->command), "echo %.0f > /sys/kernel/mm/ksm/pages_to_scan",
				 fmin(to_scan + KSM_SCAN_UP, KSM_SCAN_MAX));
		}
		snprintf(a->risk, sizeof(a->risk), "more ksmd CPU (now %.1f%% of a CPU)",
			 ksmd_cpu == ksmd_cpu ? ksmd_cpu * 100 : 0.0);
	} else if (ksmd_cpu == ksmd_cpu && x->free_kb >= x->thres_kb && !advisor_on &&
		   (ksmd_cpu > KSMD_CPU_HIGH * RELAX || (churn && ksmd_cpu > KSMD_CPU_CHURN * RELAX)) &&
		   to_scan > KSM_SCAN_MIN) {
		/* ksm.rst: pages_volatile above pages_sharing means ksmd mostly meets pages that
		 * change too fast to merge, so its CPU buys little */
		a = add(x, "ksm-scan-slower", "host", ADVICE_INFO,
			ksmd_cpu > KSMD_CPU_HIGH || (churn && ksmd_cpu > KSMD_CPU_CHURN), true);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "ksmd used %.1f%% of a CPU (threshold %.0f%%, or %.0f%% when pages_volatile > "
				 "pages_sharing: %.0f vs %.0f) while free memory %.0f MiB is above %.0f MiB",
				 ksmd_cpu * 100, KSMD_CPU_HIGH * 100, KSMD_CPU_CHURN * 100, opt(k->pages_volatile, 0),
				 opt(k->pages_sharing, 0), x->free_kb / 1024, x->thres_kb / 1024);
			snprintf(a->action, sizeof(a->action), "scan slower: memory is not short");
			if (advisor)
				snprintf(a->command, sizeof(a->command),
					 "echo scan-time > /sys/kernel/mm/ksm/advisor_mode\n"
					 "echo 30 > /sys/kernel/mm/ksm/advisor_max_cpu");
			else
				snprintf(a->command, sizeof(a->command), "echo %.0f > /sys/kernel/mm/ksm/pages_to_scan",
					 fmax(to_scan - KSM_SCAN_DOWN, KSM_SCAN_MIN));
			snprintf(a->risk, sizeof(a->risk), "new duplicate pages are merged later");
		}
	}

	/* a VM whose merging costs more than it saves */
	for (int i = 0; i < x->s->nr_vms; i++) {
		const struct vm_snapshot *v = &x->s->vms[i];
		char t[VMM_NAME_MAX + 8], q[VMM_NAME_MAX * 4 + 3];
		int64_t p;

		if (v->exited || !v->info.ksm.ksm_process_profit.present)
			continue;
		p = (int64_t)v->info.ksm.ksm_process_profit.v;
		if (p >= 0)
			continue;
		a = add(x, "ksm-exclude-vm", vm_target(v, t, sizeof(t)), ADVICE_INFO, true, true);
		if (!a)
			break;
		snprintf(a->evidence, sizeof(a->evidence),
			 "ksm_process_profit %lld bytes (< 0) with %.0f pages merging, %.0f rmap items",
			 (long long)p, opt(v->info.ksm.ksm_merging_pages, 0), opt(v->info.ksm.ksm_rmap_items, 0));
		snprintf(a->action, sizeof(a->action), "stop offering this VM's memory to KSM");
		if (v->info.libvirt_domain[0])
			snprintf(a->command, sizeof(a->command),
				 "libvirt: virsh edit %s: <memoryBacking><nosharepages/></memoryBacking>, then restart it",
				 shq(v->info.libvirt_domain, q, sizeof(q)));
		else
			snprintf(a->command, sizeof(a->command), "qemu: -machine mem-merge=off (then restart the VM)");
		snprintf(a->risk, sizeof(a->risk), "the VM's RSS grows by its merged pages (%.0f MiB)",
			 opt(v->info.ksm.ksm_merging_pages, 0) * 4 / 1024);
	}
}

/* ---- THP and huge pages ---- */

static void rules_thp(struct ctx *x)
{
	char q2[VMM_NAME_MAX * 4 + 3];
	const struct host_thp *t = &x->s->host.thp;
	bool storm_any = false, storm_any_relaxed = false;
	char worst[VMM_NAME_MAX] = "";
	double worst_rate = 0, share4k = 0;
	struct advice *a;

	for (int i = 0; i < x->s->nr_vms; i++) {
		const struct vm_snapshot *v = &x->s->vms[i];
		double r = vm_rate(x->s, v, VMMEM_C_tdp_faults);
		uint64_t m4 = v->delta.c[VMMEM_C_tdp_map_4k];
		uint64_t maps = m4 + v->delta.c[VMMEM_C_tdp_map_2m] + v->delta.c[VMMEM_C_tdp_map_1g];
		double sh = maps ? (double)m4 / maps : 0;
		char tg[VMM_NAME_MAX + 8], q[VMM_NAME_MAX * 4 + 3];

		if (v->exited || r != r)
			continue;
		if (r > worst_rate) {
			worst_rate = r;
			share4k = sh;
			snprintf(worst, sizeof(worst), "%s", v->info.name);
		}
		storm_any |= r >= TDP_FAULT_STORM;
		storm_any_relaxed |= r >= TDP_FAULT_STORM * RELAX;
		/* THP is usable and still 4K: static huge pages for this VM */
		if (t->present && strcmp(t->enabled, "never") && maps >= TDP_MAP_MIN &&
		    (r >= TDP_FAULT_STORM * RELAX) && sh >= SHARE_4K_HIGH * RELAX &&
		    strcmp(t->defrag, "never") && strcmp(t->defrag, "defer")) {
			a = add(x, "hugepages-vm", vm_target(v, tg, sizeof(tg)), ADVICE_WARN,
				r >= TDP_FAULT_STORM && sh >= SHARE_4K_HIGH, true);
			if (!a)
				continue;
			snprintf(a->evidence, sizeof(a->evidence),
				 "%.0f TDP faults/s (threshold %.0f) and %.0f%% of %llu TDP mappings at 4K "
				 "(threshold %.0f%%) although THP is %s with defrag %s",
				 r, TDP_FAULT_STORM, sh * 100, (unsigned long long)maps, SHARE_4K_HIGH * 100,
				 t->enabled, t->defrag);
			snprintf(a->action, sizeof(a->action), "back this VM with static 2M huge pages");
			snprintf(a->command, sizeof(a->command),
				 "echo $(( $(cat /proc/sys/vm/nr_hugepages) + %.0f )) > /proc/sys/vm/nr_hugepages   # %s: %.0f MiB in 2 MiB pages\n"
				 "%s%s%s",
				 ceil(opt(v->info.mem_configured_kb, opt(v->info.rss_kb, 0)) / 2048), shq(v->info.name, q, sizeof(q)),
				 opt(v->info.mem_configured_kb, opt(v->info.rss_kb, 0)) / 1024,
				 v->info.libvirt_domain[0] ? "libvirt: virsh edit " : "qemu: -mem-path /dev/hugepages",
				 v->info.libvirt_domain[0] ? shq(v->info.libvirt_domain, q2, sizeof(q2)) : "",
				 v->info.libvirt_domain[0] ? ": <memoryBacking><hugepages/></memoryBacking>, then restart the VM" :
				 " -mem-prealloc, then restart the VM");
			snprintf(a->risk, sizeof(a->risk),
				 "huge pages are reserved, not swappable and not shared by KSM; the host needs that "
				 "much contiguous memory free");
		}
	}
	if (!t->present)
		return;
	if (strcmp(t->enabled, "never"))
		resolved(x, "thp-enable", "host");
	if (strcmp(t->defrag, "never") && strcmp(t->defrag, "defer"))
		resolved(x, "thp-defrag", "host");
	if (!strcmp(t->enabled, "never")) {
		a = add(x, "thp-enable", "host", ADVICE_WARN, storm_any, storm_any_relaxed);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "THP is never; %s takes %.0f TDP faults/s (storm threshold %.0f), %.0f%% of its "
				 "TDP mappings at 4K", worst, worst_rate, TDP_FAULT_STORM, share4k * 100);
			snprintf(a->action, sizeof(a->action),
				 "allow transparent huge pages where asked for: QEMU madvises guest RAM huge");
			snprintf(a->command, sizeof(a->command),
				 "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled");
			snprintf(a->risk, sizeof(a->risk),
				 "khugepaged CPU; memory bloat inside partly used 2M regions");
		}
	} else if ((!strcmp(t->defrag, "never") || !strcmp(t->defrag, "defer"))) {
		bool strong = storm_any && share4k >= SHARE_4K_HIGH;
		bool weak = storm_any_relaxed && share4k >= SHARE_4K_HIGH * RELAX;

		a = add(x, "thp-defrag", "host", ADVICE_INFO, strong, weak);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "THP %s but defrag %s; %s takes %.0f TDP faults/s with %.0f%% of mappings at 4K "
				 "(thresholds %.0f/s, %.0f%%)", t->enabled, t->defrag, worst, worst_rate,
				 share4k * 100, TDP_FAULT_STORM, SHARE_4K_HIGH * 100);
			snprintf(a->action, sizeof(a->action),
				 "let regions that asked for huge pages (guest RAM) compact directly");
			snprintf(a->command, sizeof(a->command),
				 "echo defer+madvise > /sys/kernel/mm/transparent_hugepage/defrag");
			snprintf(a->risk, sizeof(a->risk), "page-fault latency spikes while compacting");
		}
	}
}

/* The host reads this VM's memory back from swap (at least the relaxed thresholds). */
static bool vm_swapped(const struct snapshot *s, const struct vm_snapshot *v, double scale)
{
	double sin = vm_rate(s, v, VMMEM_C_swapin_bytes), maj = vm_rate(s, v, VMMEM_C_kvm_major_faults);

	return (sin == sin && sin >= SWAPIN_BYTES_HIGH * scale) || (maj == maj && maj >= KVM_MAJFLT_HIGH * scale);
}

/* ---- balloons ---- */

/* The guest RAM a VM has now, KiB: the balloon's actual size (QMP query-balloon), else -m
 * minus what vmmem saw the balloon take; 0 unknown. *how names the source. */
static double vm_size_kb(const struct vm_snapshot *v, const char **how)
{
	const struct opt_u64 *act = &v->info.qmp.v[VMM_QMP_balloon_actual_bytes];
	uint64_t in = v->total.c[VMMEM_C_balloon_inflate_bytes], de = v->total.c[VMMEM_C_balloon_deflate_bytes];

	if (act->present && act->v) {
		*how = "balloon actual (QMP)";
		return act->v / 1024.0;
	}
	*how = in > de ? "-m minus the balloon's inflations seen" : "-m";
	return fmax(opt(v->info.mem_configured_kb, 0) - (in > de ? (in - de) / 1024.0 : 0), 0);
}

/* From the VM's working set (vmmemtop --working-set: DAMON on the VMM, guest accesses through
 * EPT/NPT, no guest agent): far below the guest's size, a candidate to inflate; pressing a
 * ballooned guest's size, a candidate to deflate. A window of accesses per evaluation, and
 * the usual hysteresis: a figure must hold ADVISE_ENTER_STREAK evaluations. Returns true when
 * the VM had a figure (the rules from faults and idleness then leave it alone). */
static bool rules_balloon_ws(struct ctx *x, const struct vm_snapshot *v)
{
	double ws_kb, size_kb, conf_kb = opt(v->info.mem_configured_kb, 0), want;
	const char *how;
	struct advice *a;
	char tg[VMM_NAME_MAX + 8];

	if (!v->info.working_set_bytes.present)
		return false;
	ws_kb = v->info.working_set_bytes.v / 1024.0;
	size_kb = vm_size_kb(v, &how);
	if (size_kb <= 0)
		return true;
	want = fmax(ceil(ws_kb * WS_HEADROOM / 1024) * 1024, WS_MIN_KB);
	/* ballooned (below -m) and its working set presses the balloon: give memory back */
	if (conf_kb > size_kb && ws_kb >= size_kb * WS_PRESSES * RELAX) {
		double to = fmin(conf_kb, fmax(want, size_kb));

		a = add(x, "balloon-deflate", vm_target(v, tg, sizeof(tg)), ADVICE_WARN,
			ws_kb >= size_kb * WS_PRESSES, true);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "working set %.0f MiB = %.0f%% of the %.0f MiB the balloon leaves it (%s; "
				 "threshold %.0f%%); configured %.0f MiB (from the host: DAMON, no guest agent)",
				 ws_kb / 1024, 100 * ws_kb / size_kb, size_kb / 1024, how, WS_PRESSES * 100,
				 conf_kb / 1024);
			snprintf(a->action, sizeof(a->action),
				 "deflate the balloon to %.0f MiB (working set + %.0f%%, at most -m)", to / 1024,
				 (WS_HEADROOM - 1) * 100);
			balloon_command(a, v, to);
			snprintf(a->risk, sizeof(a->risk), "host free memory drops by %.0f MiB",
				 (to - size_kb) / 1024);
		}
		return true;
	}
	if (ws_kb < size_kb * WS_FAR_BELOW / RELAX && want < size_kb) {
		bool strong = ws_kb < size_kb * WS_FAR_BELOW;

		a = add(x, "balloon-inflate", vm_target(v, tg, sizeof(tg)),
			!x->pressure ? ADVICE_INFO : x->free_fraction < CRIT_FREE_FRACTION ? ADVICE_CRIT :
			ADVICE_WARN, strong, true);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "working set %.0f MiB = %.0f%% of its %.0f MiB (%s; threshold %.0f%%), from the "
				 "host (DAMON, no guest agent); host free %.1f%% of RAM",
				 ws_kb / 1024, 100 * ws_kb / size_kb, size_kb / 1024, how, WS_FAR_BELOW * 100,
				 x->free_fraction * 100);
			snprintf(a->action, sizeof(a->action),
				 "inflate the balloon to leave %.0f MiB (working set + %.0f%%): frees %.0f MiB",
				 want / 1024, (WS_HEADROOM - 1) * 100, (size_kb - want) / 1024);
			balloon_command(a, v, want);
			snprintf(a->risk, sizeof(a->risk),
				 "the guest drops caches or swaps if its working set grows; needs a balloon driver "
				 "in the guest");
		}
	}
	return true;
}

static void rules_balloon(struct ctx *x)
{
	const struct vm_snapshot *idlest = NULL;
	double idlest_rss = 0;
	struct advice *a;
	char tg[VMM_NAME_MAX + 8];

	for (int i = 0; i < x->s->nr_vms; i++) {
		const struct vm_snapshot *v = &x->s->vms[i];
		double r = vm_rate(x->s, v, VMMEM_C_tdp_faults);
		uint64_t inflated = v->total.c[VMMEM_C_balloon_inflate_bytes];
		uint64_t deflated = v->total.c[VMMEM_C_balloon_deflate_bytes];

		if (v->exited)
			continue;
		/* ballooned and now faulting hard: the guest needs the memory back */
		if (inflated > deflated && r == r && r >= DEFLATE_FAULTS * RELAX) {
			a = add(x, "balloon-deflate", vm_target(v, tg, sizeof(tg)), ADVICE_WARN,
				r >= DEFLATE_FAULTS, true);
			if (a) {
				double give_kb = (inflated - deflated) / 1024.0;
				double cur_kb = opt(v->info.mem_configured_kb, 0) - give_kb;

				snprintf(a->evidence, sizeof(a->evidence),
					 "the balloon took %.0f MiB from this VM and it now takes %.0f TDP faults/s "
					 "(threshold %.0f)", give_kb / 1024, r, DEFLATE_FAULTS);
				snprintf(a->action, sizeof(a->action), "give the ballooned memory back");
				balloon_command(a, v, cur_kb + give_kb);
				snprintf(a->risk, sizeof(a->risk), "host free memory drops by %.0f MiB", give_kb / 1024);
			}
			continue;
		}
		if (rules_balloon_ws(x, v))
			continue;
		/* a VM stalled in host swap takes few TDP faults, but it is not idle */
		if (r == r && r < IDLE_FAULTS && !vm_swapped(x->s, v, RELAX) && v->info.rss_kb.present &&
		    v->info.rss_kb.v > idlest_rss) {
			idlest = v;
			idlest_rss = v->info.rss_kb.v;
		}
	}
	if (idlest && x->free_fraction < PRESSURE_FREE_FRACTION / RELAX) {
		/* MoM steps from the balloon's current size: configured minus what it holds now */
		double held = idlest->total.c[VMMEM_C_balloon_inflate_bytes] >
			      idlest->total.c[VMMEM_C_balloon_deflate_bytes] ?
			      (idlest->total.c[VMMEM_C_balloon_inflate_bytes] -
			       idlest->total.c[VMMEM_C_balloon_deflate_bytes]) / 1024.0 : 0;
		double cur = fmax(opt(idlest->info.mem_configured_kb, idlest_rss) - held, 0);
		double target = floor(cur * BALLOON_STEP);

		a = add(x, "balloon-inflate", vm_target(idlest, tg, sizeof(tg)),
			x->free_fraction < CRIT_FREE_FRACTION ? ADVICE_CRIT : ADVICE_WARN,
			x->free_fraction < PRESSURE_FREE_FRACTION, true);
		if (a) {
			snprintf(a->evidence, sizeof(a->evidence),
				 "host free %.1f%% of RAM (MoM threshold %.0f%%); %s is idle (%.1f TDP faults/s < %.0f) "
				 "with %.0f MiB resident",
				 x->free_fraction * 100, PRESSURE_FREE_FRACTION * 100, idlest->info.name,
				 vm_rate(x->s, idlest, VMMEM_C_tdp_faults), IDLE_FAULTS, idlest_rss / 1024);
			snprintf(a->action, sizeof(a->action),
				 "shrink the idlest VM by 5%% of its current %.0f MiB (oVirt MoM's step) and re-evaluate",
				 cur / 1024);
			balloon_command(a, idlest, target);
			snprintf(a->risk, sizeof(a->risk),
				 "the guest may swap or drop caches; needs a balloon driver in the guest");
		}
	}
}

/* ---- a VM the host is swapping ---- */

/* esxtop users look at SWR/s first: a guest whose memory the host swaps stalls in KVM's own
 * page faults (hva_to_pfn -> get_user_pages -> do_swap_page), invisible to the guest. */
static void rules_vm_swapped(struct ctx *x)
{
	char tg[VMM_NAME_MAX + 8], q[VMM_NAME_MAX * 4 + 3], q2[VMM_NAME_MAX * 4 + 3];
	const struct host_meminfo *m = &x->s->host.mem;
	struct advice *a;

	for (int i = 0; i < x->s->nr_vms; i++) {
		const struct vm_snapshot *v = &x->s->vms[i], *idle = NULL;
		double sin = vm_rate(x->s, v, VMMEM_C_swapin_bytes);
		double maj = vm_rate(x->s, v, VMMEM_C_kvm_major_faults);
		double rec = vm_rate(x->s, v, VMMEM_C_mmu_inval_reclaim_bytes);
		uint64_t inflated = v->total.c[VMMEM_C_balloon_inflate_bytes];
		uint64_t deflated = v->total.c[VMMEM_C_balloon_deflate_bytes];
		double idle_rss = 0;
		size_t o = 0;

		if (v->exited)
			continue;
		a = add(x, "vm-host-swapped", vm_target(v, tg, sizeof(tg)),
			x->free_fraction < CRIT_FREE_FRACTION ? ADVICE_CRIT : ADVICE_WARN,
			vm_swapped(x->s, v, 1), vm_swapped(x->s, v, RELAX));
		if (!a)
			continue;
		/* the idlest other VM with memory to give */
		for (int j = 0; j < x->s->nr_vms; j++) {
			const struct vm_snapshot *w = &x->s->vms[j];
			double r = vm_rate(x->s, w, VMMEM_C_tdp_faults), wm = vm_rate(x->s, w, VMMEM_C_kvm_major_faults);

			if (w == v || w->exited || !(r == r && r < IDLE_FAULTS) || (wm == wm && wm > 0) ||
			    vm_swapped(x->s, w, RELAX) ||
			    !w->info.rss_kb.present || w->info.rss_kb.v <= idle_rss)
				continue;
			idle = w;
			idle_rss = w->info.rss_kb.v;
		}
		o = snprintf(a->evidence, sizeof(a->evidence), "the host reads this VM's memory back from swap:");
		if (sin == sin)
			o += snprintf(a->evidence + o, sizeof(a->evidence) - o, " %.1f MiB/s swapped in,", sin / 1048576);
		if (o < sizeof(a->evidence) && maj == maj)
			o += snprintf(a->evidence + o, sizeof(a->evidence) - o, " %.0f KVM major faults/s", maj);
		if (o < sizeof(a->evidence) && rec == rec)
			o += snprintf(a->evidence + o, sizeof(a->evidence) - o, ", reclaim unmapped %.1f MiB/s of it",
				      rec / 1048576);
		if (o < sizeof(a->evidence) && v->info.swap_kb.present)
			o += snprintf(a->evidence + o, sizeof(a->evidence) - o, ", %.0f MiB in swap now",
				      v->info.swap_kb.v / 1024.0);
		if (o < sizeof(a->evidence))
			snprintf(a->evidence + o, sizeof(a->evidence) - o, " (thresholds %.0f MiB/s, %.0f faults/s)",
				 SWAPIN_BYTES_HIGH / 1048576, KVM_MAJFLT_HIGH);
		if (inflated > deflated) {
			double give_kb = (inflated - deflated) / 1024.0;
			double cfg_kb = opt(v->info.mem_configured_kb, 0);

			snprintf(a->action, sizeof(a->action), "deflate its balloon (%.0f MiB held): the guest "
				 "then uses its own memory instead of host swap", give_kb / 1024);
			snprintf(a->command, sizeof(a->command), "virsh setmem %s %.0fK --live\n"
				 "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":%.0f}}",
				 shq(v->info.name, q, sizeof(q)), cfg_kb, cfg_kb * 1024);
			snprintf(a->risk, sizeof(a->risk), "host free memory drops by %.0f MiB; free it elsewhere first",
				 give_kb / 1024);
		} else if (idle) {
			double cur = opt(idle->info.mem_configured_kb, idle_rss);
			double target = floor(cur * BALLOON_STEP);

			snprintf(a->action, sizeof(a->action), "inflate the balloon of the idle %.60s (%.1f TDP faults/s, "
				 "%.0f MiB resident) by 5%% so the host stops swapping this VM",
				 idle->info.name, vm_rate(x->s, idle, VMMEM_C_tdp_faults), idle_rss / 1024);
			snprintf(a->command, sizeof(a->command), "virsh setmem %s %.0fK --live\n"
				 "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":%.0f}}",
				 shq(idle->info.name, q2, sizeof(q2)), target, target * 1024);
			snprintf(a->risk, sizeof(a->risk), "the idle guest may swap or drop caches; needs its balloon driver");
		} else {
			double have = opt(m->swap_total_kb, 0), left = opt(m->swap_free_kb, 0);

			snprintf(a->action, sizeof(a->action), "no idle VM to shrink: add RAM or move a VM away; "
				 "host swap is %.0f MiB, %.0f MiB free", have / 1024, left / 1024);
			snprintf(a->command, sizeof(a->command), "virsh migrate --live %s qemu+ssh://OTHER-HOST/system",
				 shq(v->info.name, q, sizeof(q)));
			snprintf(a->risk, sizeof(a->risk), "live migration copies the VM's memory over the network");
		}
	}
}

/* ---- swap for overcommit ---- */

static void rules_swap(struct ctx *x)
{
	const struct host_meminfo *m = &x->s->host.mem;
	double reserve = fmax(x->total_kb * SWAP_RESERVE_FRACTION, 1024 * 1024);
	double need = x->configured_kb + reserve - x->total_kb, have = opt(m->swap_total_kb, 0);
	struct advice *a;

	if (x->configured_kb <= 0 || need <= 0 || have >= need) {
		resolved(x, "swap-increase", "host");
		if (x->configured_kb <= 0 || need <= 0)
			return;
	}
	a = add(x, "swap-increase", "host", have == 0 ? ADVICE_WARN : ADVICE_INFO, have < need, have < need / RELAX);
	if (!a)
		return;
	snprintf(a->evidence, sizeof(a->evidence),
		 "guests are configured with %.0f MiB; with a %.0f MiB host reserve that is %.0f MiB over RAM "
		 "(%.0f MiB), and swap is %.0f MiB", x->configured_kb / 1024, reserve / 1024, need / 1024,
		 x->total_kb / 1024, have / 1024);
	snprintf(a->action, sizeof(a->action), "add swap so overcommitted guests cannot OOM the host");
	snprintf(a->command, sizeof(a->command),
		 "fallocate -l %.0fM /swap.vmmem && chmod 600 /swap.vmmem && mkswap /swap.vmmem && swapon /swap.vmmem",
		 ceil((need - have) / 1024));
	snprintf(a->risk, sizeof(a->risk), "swapped guest memory is slow; size balloons first");
}

/*
 * A guest whose IPIs (TLB shootdowns above all) often find their target vCPU preempted on the
 * host: the sender spins until the host runs the target again. With PV TLB flush
 * (KVM_FEATURE_PV_TLB_FLUSH) the guest flags preempted vCPUs to flush at their next entry
 * instead of waiting (arch/x86/kernel/kvm.c kvm_flush_tlb_multi); seen here as pv_tlb_flushes.
 * Without it: enable it; with it: pin the vCPUs (the IPIs that are not flushes still wait).
 */
static void rules_ipi_preempted(struct ctx *x)
{
	for (int i = 0; i < x->s->nr_vms; i++) {
		const struct vm_snapshot *v = &x->s->vms[i];
		double pre = vm_rate(x->s, v, VMMEM_C_guest_ipis_to_preempted);
		double all = vm_rate(x->s, v, VMMEM_C_guest_ipis);
		bool pv_known = vm_counter_available(x->s, v, VMMEM_C_pv_tlb_flushes);
		bool pv = pv_known && v->total.c[VMMEM_C_pv_tlb_flushes] > 0;
		char tg[VMM_NAME_MAX + 8], q[VMM_NAME_MAX * 4 + 3], pin[VMM_NAME_MAX * 4 + 64];
		double share;
		struct advice *a;

		if (v->exited || pre != pre || all != all || all <= 0 ||
		    !vm_counter_available(x->s, v, VMMEM_C_guest_ipis_to_preempted))
			continue;
		share = pre / all;
		a = add(x, "vm-ipi-preempted", vm_target(v, tg, sizeof(tg)), ADVICE_WARN,
			pre >= IPI_PREEMPTED_RATE && share >= IPI_PREEMPTED_SHARE,
			pre >= IPI_PREEMPTED_RATE * RELAX && share >= IPI_PREEMPTED_SHARE * RELAX);
		if (!a)
			continue;
		snprintf(a->evidence, sizeof(a->evidence),
			 "%.0f guest IPIs/s, %.0f %% of them to a vCPU preempted on the host; PV TLB flush %s",
			 all, share * 100, !pv_known ? "unknown (kvm:kvm_pv_tlb_flush not hooked)" :
			 pv ? "in use" : "not seen in use");
		/* virsh only for a domain libvirt runs (by its libvirt name), else the QEMU option */
		if (v->info.libvirt_domain[0])
			snprintf(pin, sizeof(pin), "virsh vcpupin %s <vcpu> <host cpu>",
				 shq(v->info.libvirt_domain, q, sizeof(q)));
		else
			snprintf(pin, sizeof(pin), "taskset -pc <host cpu> <vCPU thread id> (one host CPU per vCPU)");
		if (pv_known && !pv) {
			snprintf(a->action, sizeof(a->action),
				 "give the guest PV TLB flush, so shootdowns to preempted vCPUs do not wait; or pin its vCPUs");
			snprintf(a->command, sizeof(a->command), "%s; or pin: %s",
				 v->info.libvirt_domain[0] ?
				 "add kvm-pv-tlb-flush=on to the domain's QEMU -cpu flags (<qemu:commandline>; the guest needs Linux 4.16+)" :
				 "qemu -cpu <model>,kvm-pv-tlb-flush=on (the guest needs Linux 4.16+)", pin);
		} else {
			snprintf(a->action, sizeof(a->action),
				 "pin the VM's vCPUs to host CPUs no other busy thread shares");
			snprintf(a->command, sizeof(a->command), "%s", pin);
		}
		snprintf(a->risk, sizeof(a->risk), "pinning lowers the host's freedom to balance load");
	}
}

/* Keep at most one of each contradicting pair per target. */
static bool contradicts(const struct advice *a, const struct advice *b)
{
	static const char *const pairs[][2] = {
		{ "ksm-enable", "ksm-disable" }, { "ksm-scan-faster", "ksm-scan-slower" },
		{ "ksm-disable", "ksm-scan-faster" }, { "ksm-disable", "ksm-scan-slower" },
		{ "balloon-inflate", "balloon-deflate" }, { "balloon-inflate", "vm-host-swapped" },
	};

	if (strcmp(a->target, b->target))
		return false;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if ((!strcmp(a->id, pairs[i][0]) && !strcmp(b->id, pairs[i][1])) ||
		    (!strcmp(a->id, pairs[i][1]) && !strcmp(b->id, pairs[i][0])))
			return true;
	return false;
}

/* Hysteresis: appear after ADVISE_ENTER_STREAK strong evaluations, stay while weak, leave
 * after ADVISE_EXIT_STREAK evaluations without even the weak condition. */
static bool hysteresis(struct advise_state *st, const struct ctx *x, const struct candidate *c)
{
	char key[sizeof(st->conds[0].key)];
	int i;

	snprintf(key, sizeof(key), "%s|%s", c->a.id, c->a.target);
	for (i = 0; i < st->n; i++)
		if (!strcmp(st->conds[i].key, key))
			break;
	if (i == st->n) {
		if (st->n >= (int)(sizeof(st->conds) / sizeof(st->conds[0])))
			return false;
		memset(&st->conds[i], 0, sizeof(st->conds[i]));
		snprintf(st->conds[i].key, sizeof(st->conds[i].key), "%s", key);
		st->n++;
	}
	st->conds[i].seen = true;
	st->conds[i].last = c->a;
	st->conds[i].strong_streak = c->strong ? st->conds[i].strong_streak + 1 : 0;
	st->conds[i].weak_misses = c->weak ? 0 : st->conds[i].weak_misses + 1;
	if (!st->conds[i].active && st->conds[i].strong_streak >= ADVISE_ENTER_STREAK)
		st->conds[i].active = true;
	if (st->conds[i].active && st->conds[i].weak_misses >= ADVISE_EXIT_STREAK)
		st->conds[i].active = false;
	if (is_resolved(x, key)) {
		st->conds[i].active = false;
		st->conds[i].strong_streak = 0;
	}
	return st->conds[i].active;
}

/* Conditions not met at all this time: an active advice stays (its last evidence) until
 * ADVISE_EXIT_STREAK evaluations in a row missed it. Returns the new count in out. */
static int hysteresis_age(struct advise_state *st, const struct ctx *x, struct advice *out, int n, int max)
{
	for (int i = 0; i < st->n; i++) {
		if (!st->conds[i].seen) {
			st->conds[i].strong_streak = 0;
			if (++st->conds[i].weak_misses >= ADVISE_EXIT_STREAK || is_resolved(x, st->conds[i].key))
				st->conds[i].active = false;
			if (st->conds[i].active && n < max) {
				bool clash = false;

				for (int j = 0; j < n; j++)
					clash |= contradicts(&out[j], &st->conds[i].last);
				if (!clash)
					out[n++] = st->conds[i].last;
			}
		}
		st->conds[i].seen = false;
	}
	return n;
}

int advise_evaluate(const struct snapshot *s, struct advise_state *st, struct advice *out, int max)
{
	static struct ctx x;	/* large; the advisor is not reentrant */
	int n = 0;

	memset(&x, 0, sizeof(x));
	x.s = s;
	x.total_kb = opt(s->host.mem.mem_total_kb, 0);
	x.avail_kb = opt(s->host.mem.mem_available_kb, opt(s->host.mem.mem_free_kb, 0));
	/* ksmtuned's free: MemFree + Buffers + Cached */
	x.free_kb = s->host.mem.mem_free_kb.present ? opt(s->host.mem.mem_free_kb, 0) +
		    opt(s->host.mem.buffers_kb, 0) + opt(s->host.mem.cached_kb, 0) : x.avail_kb;
	x.free_fraction = x.total_kb > 0 ? x.avail_kb / x.total_kb : 1;
	x.thres_kb = fmax(x.total_kb * 0.20, 2048);
	x.pressure = x.free_fraction < PRESSURE_FREE_FRACTION;
	for (int i = 0; i < s->nr_vms; i++) {
		if (s->vms[i].exited)
			continue;
		x.committed_kb += opt(s->vms[i].info.rss_kb, 0);
		x.configured_kb += opt(s->vms[i].info.mem_configured_kb, 0);
	}
	if (x.total_kb > 0) {
		rules_ksm(&x);
		rules_thp(&x);
		rules_balloon(&x);
		rules_vm_swapped(&x);
		rules_swap(&x);
		rules_ipi_preempted(&x);
	}
	for (int i = 0; i < x.n && n < max; i++) {
		const struct candidate *c = &x.c[i];
		bool keep = st ? hysteresis(st, &x, c) : c->strong;

		for (int j = 0; keep && j < n; j++)
			if (contradicts(&out[j], &c->a))
				keep = false;
		if (keep)
			out[n++] = c->a;
	}
	if (st)
		n = hysteresis_age(st, &x, out, n, max);
	if (n == 0 && max > 0) {
		struct advice *a = &out[n++];

		memset(a, 0, sizeof(*a));
		snprintf(a->id, sizeof(a->id), "healthy");
		snprintf(a->target, sizeof(a->target), "host");
		a->severity = ADVICE_INFO;
		snprintf(a->evidence, sizeof(a->evidence),
			 "%d VM(s); host free %.1f%% of RAM (pressure below %.0f%%); no VM above %.0f TDP faults/s",
			 s->nr_vms, x.free_fraction * 100, PRESSURE_FREE_FRACTION * 100, TDP_FAULT_STORM);
		snprintf(a->action, sizeof(a->action), "nothing to change");
	}
	return n;
}

void advise_annotate(struct snapshot *s, struct advise_state *st, struct advice *full, int *nr_full)
{
	static struct advice a[ADVISE_MAX];
	int n = advise_evaluate(s, st, a, ADVISE_MAX);

	if (full) {
		memcpy(full, a, sizeof(*a) * n);
		*nr_full = n;
	}
	s->nr_advice = 0;
	for (int i = 0; i < n && s->nr_advice < SNAPSHOT_MAX_ADVICE; i++) {
		struct advice_gauge *g = &s->advice[s->nr_advice++];

		_Static_assert(sizeof(g->id) == sizeof(a[i].id) && sizeof(g->target) == sizeof(a[i].target),
			       "advice_gauge mirrors struct advice");
		memcpy(g->id, a[i].id, sizeof(g->id));
		memcpy(g->target, a[i].target, sizeof(g->target));
		g->severity = a[i].severity;
	}
}
