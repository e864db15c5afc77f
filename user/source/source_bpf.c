// SPDX-License-Identifier: MIT
/* BPF backend: loads the object bpf/ links from its subsystem files (CO-RE), attaches what
 * the running kernel has, and reads the per-CPU counters. The lifecycle follows libbpf-tools: open, size maps, choose
 * programs by probing, load, attach one by one (a missing hook disables its counters
 * with a one-line notice, never the tool). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "bpf_probe.h"
#include "guest_ram_bpf.h"
#include "progs.h"
#include "source.h"
#include "tp_format.h"
#include "vmmem.skel.h"

enum hook_kind { HOOK_TP, HOOK_TP_BTF, HOOK_FENTRY, HOOK_FEXIT, HOOK_KPROBE, HOOK_KRETPROBE };
enum feed_kind { FEED_END, FEED_VM, FEED_HOST, FEED_VM_HIST, FEED_HOST_HIST };

/* A counter or histogram a program feeds: VMMEM_C_*, VMMEM_H_*, VMMEM_HIST_* or VMMEM_HHIST_* */
struct feed {
	unsigned char kind;		/* enum feed_kind */
	unsigned char id;
};

/* One program, its hook, and the counters it feeds: a row of bpf/progs.h. Programs sharing
 * a group are alternatives: the lowest rank whose every hook exists is loaded. */
struct prog_spec {
	const char *prog;
	enum hook_kind kind;
	const char *category;		/* tracepoint category (HOOK_TP) */
	const char *hook;		/* tracepoint or function name */
	const char *group;		/* NULL: stands alone */
	int rank;
	const char *with;		/* loaded only when a program of this group is */
	const char *btf_struct;		/* HOOK_TP read through CO-RE: the record's struct */
	bool fmt;			/* HOOK_TP read at offsets from tracefs' format file */
	bool needs_ksm_scan;		/* reads ksm_scan.seqnr: needs its kallsyms address */
	bool needs_task_storage;	/* uses a task storage map (5.11+) */
	struct feed feeds[10];		/* FEED_END-terminated */
	/* per-event records: a counting program names the type its *_rec twin streams; the
	 * twin is loaded instead only when the stream mask has that type */
	int twin_streams;		/* VMMEM_EV_* + 1 (counting program) */
	int streams;			/* VMMEM_EV_* + 1 (the *_rec twin) */
};

/* the vocabulary of bpf/progs.h's rows, as spec fields */
#define SPEC_TP(cat, ev)		.kind = HOOK_TP, .category = #cat, .hook = #ev
#define SPEC_TP_CORE(cat, ev)		SPEC_TP(cat, ev), .btf_struct = "trace_event_raw_" #ev
#define SPEC_TP_FMT(cat, ev)		SPEC_TP(cat, ev), .fmt = true
#define SPEC_BTF(ev)			.kind = HOOK_TP_BTF, .hook = #ev
#define SPEC_FENTRY(fn)			.kind = HOOK_FENTRY, .hook = #fn
#define SPEC_FENTRY_KSM_SCAN(fn)	SPEC_FENTRY(fn), .needs_ksm_scan = true
#define SPEC_FEXIT(fn)			.kind = HOOK_FEXIT, .hook = #fn
#define SPEC_FENTRY_TS(fn)		SPEC_FENTRY(fn), .needs_task_storage = true
#define SPEC_FEXIT_TS(fn)		SPEC_FEXIT(fn), .needs_task_storage = true
#define SPEC_BTF_TS(ev)			SPEC_BTF(ev), .needs_task_storage = true
#define SPEC_KPROBE(fn)			.kind = HOOK_KPROBE, .hook = #fn
#define SPEC_KRETPROBE(fn)		.kind = HOOK_KRETPROBE, .hook = #fn
#define ALT(g, r)			.group = #g, .rank = r
#define ALT_WITH(g, r, w)		.group = #g, .rank = r, .with = #w
#define ALONE				.group = NULL
#define FEEDS(...)			.feeds = { __VA_ARGS__ }
#define VM(x)				{ FEED_VM, VMMEM_C_##x }
#define HOST(x)				{ FEED_HOST, VMMEM_H_##x }
#define VM_HIST(x)			{ FEED_VM_HIST, VMMEM_HIST_##x }
#define HOST_HIST(x)			{ FEED_HOST_HIST, VMMEM_HHIST_##x }
#define SPEC(name, hook, alt, feeds)	{ .prog = #name, SPEC_##hook, alt, feeds },
#define SPEC_TWIN(base, sfx, ev, hook, alt, feeds)					\
	{ .prog = #base #sfx, SPEC_##hook, alt, feeds, .twin_streams = VMMEM_EV_##ev + 1 },	\
	{ .prog = #base "_rec" #sfx, SPEC_##hook, alt, feeds, .streams = VMMEM_EV_##ev + 1 },
static const struct prog_spec specs[] = {
	VMMEM_PROGS(SPEC, SPEC_TWIN)
};
#undef ALT
#undef ALT_WITH
#undef ALONE
#undef FEEDS
#undef VM
#undef HOST
#undef VM_HIST
#undef HOST_HIST
#define NR_SPECS (int)(sizeof(specs) / sizeof(specs[0]))

/* The object holds exactly the programs of the table (plus the iterator loaded apart): a
 * row without a program, or a program without a row, fails here rather than at run time. */
#define SKEL_PROG(name)			sizeof(((struct vmmem_bpf *)0)->progs.name)
#define COUNT(name, hook, alt, feeds)	+ SKEL_PROG(name)
#define COUNT_TWIN(base, sfx, ev, hook, alt, feeds) + SKEL_PROG(base##sfx) + SKEL_PROG(base##_rec##sfx)
_Static_assert(0 VMMEM_PROGS(COUNT, COUNT_TWIN) + SKEL_PROG(kvm_memslots_iter) ==
	       sizeof(((struct vmmem_bpf *)0)->progs), "bpf/progs.h and the BPF object list different programs");

struct bpf_priv {
	struct vmmem_bpf *skel;
	struct bpf_link *links[NR_SPECS];
	int prog_fds[NR_SPECS];		/* of attached programs, for their miss counters */
	struct ring_buffer *rb;
	int ncpus;
	uint32_t max_tgid;
	struct vmmem_vm_counters *percpu;	/* ncpus values, scratch for reads */
	struct vmmem_vm_hists *percpu_hists;	/* likewise */
	uint32_t nr_hist_slots;			/* vm_hists entries (fewer on many-CPU hosts) */
	void (*ev_cb)(void *ctx, const struct vmmem_event *ev);
	void *ev_ctx;
	uint64_t stream_mask;
	struct vmmem_ev_lost *percpu_lost;	/* ncpus values, scratch for reads */
	struct gr_tracker *gr;			/* guest RAM of each VMM, for the balloon split */
	bool iter_ok;				/* the kvm-vm memslot iterator can load */
	char refusal[NR_SPECS][64];		/* why the kernel refused a program at load */
};

/* The ring: minimal when nothing streams; for the rare types, room for a burst (a balloon
 * inflate is one record per page run, 65536 of them in seconds); when every fault or exit is
 * a record, ~260k records between two drains (PERFORMANCE.md: 10^5-10^6 exits/s). */
#define RING_IDLE_BYTES		(64u << 10)
#define RING_RARE_BYTES		(4u << 20)
#define RING_STREAM_BYTES	(16u << 20)
#define STREAM_DRAIN_MS		5	/* drain period while a recorder streams */
#define PER_EVENT_TYPES		(~(uint64_t)VMMEM_EV_RARE_MASK)

static bool verbose;
static char libbpf_last_error[256];
static char libbpf_failed_prog[64];	/* the program libbpf last said it could not load */

/* libbpf names the program it failed on: "prog 'NAME': BPF program load failed: ..." and
 * "prog 'NAME': failed to load: -22" (libbpf 1.1, bpf_object_load_prog) */
static void note_failed_prog(const char *msg)
{
	const char *a = strstr(msg, "prog '"), *b;

	if (!a || !strstr(msg, "fail"))
		return;
	a += 6;
	b = strchr(a, '\'');
	if (b && b - a < (long)sizeof(libbpf_failed_prog))
		snprintf(libbpf_failed_prog, sizeof(libbpf_failed_prog), "%.*s", (int)(b - a), a);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN) {
		va_list aq;

		va_copy(aq, ap);
		vsnprintf(libbpf_last_error, sizeof(libbpf_last_error), fmt, aq);
		va_end(aq);
		note_failed_prog(libbpf_last_error);
	}
	/* -v: libbpf's warnings (a verifier log comes with them); VMMEM_DEBUG=1: everything */
	if (getenv("VMMEM_DEBUG") || (verbose && level == LIBBPF_WARN))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* &ksm_scan (static in mm/ksm.c) from /proc/kallsyms: listed with CONFIG_KALLSYMS_ALL, and
 * readable as non-zero by root only (kptr_restrict). 0 when absent. */
static uint64_t ksm_scan_address(void)
{
	static int done;
	static uint64_t addr;
	char line[256], sym[128], type;
	unsigned long long a;
	FILE *f;

	if (done)
		return addr;
	done = 1;
	f = fopen("/proc/kallsyms", "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx %c %127s", &a, &type, sym) != 3 || strcmp(sym, "ksm_scan"))
			continue;
		if (type == 'b' || type == 'B' || type == 'd' || type == 'D')
			addr = a;
		break;
	}
	fclose(f);
	return addr;
}

/* The fields the *_fmt_tp programs read, located in tracefs' format files (tp_format.c). */
struct fmt_field {
	const char *category, *event, *field;
	size_t off_at, size_at;		/* offsetof the rodata knobs */
};
#define FMT_FIELD(cat, ev, f, knob) { cat, ev, f, offsetof(struct vmmem_bpf__rodata, knob##_off), \
				      offsetof(struct vmmem_bpf__rodata, knob##_size) }
static const struct fmt_field fmt_fields[] = {
	FMT_FIELD("kvm", "kvm_page_fault", "fault_address", fmt_pf_addr),
	FMT_FIELD("kvm", "kvm_page_fault", "error_code", fmt_pf_err),
	FMT_FIELD("kvm", "kvm_exit", "exit_reason", fmt_exit_reason),
	FMT_FIELD("kvm", "kvm_exit", "isa", fmt_exit_isa),
	FMT_FIELD("kvmmmu", "kvm_mmu_spte_requested", "level", fmt_spte_level),
};
#define NR_FMT_FIELDS (int)(sizeof(fmt_fields) / sizeof(fmt_fields[0]))
static uint32_t fmt_values[NR_FMT_FIELDS][2];
static bool fmt_ok;
static char fmt_why[128];

/* Read every format field once; any missing one turns all *_fmt_tp programs off (simple,
 * and they are only the last resort). */
static void fmt_probe(void)
{
	const char *tracefs = probe_tracefs();

	fmt_ok = true;
	for (int i = 0; i < NR_FMT_FIELDS; i++) {
		const struct fmt_field *f = &fmt_fields[i];
		int ret = tracefs ? tp_format_read(tracefs, f->category, f->event, f->field, &fmt_values[i][0],
						   &fmt_values[i][1]) : -ENOENT;

		if (ret) {
			snprintf(fmt_why, sizeof(fmt_why), "tracefs format of %s:%s has no usable field %s (%s)",
				 f->category, f->event, f->field, strerror(-ret));
			fmt_ok = false;
			return;
		}
	}
}

static void fmt_set_rodata(struct vmmem_bpf__rodata *ro)
{
	if (!fmt_ok)
		return;
	for (int i = 0; i < NR_FMT_FIELDS; i++) {
		memcpy((char *)ro + fmt_fields[i].off_at, &fmt_values[i][0], sizeof(uint32_t));
		memcpy((char *)ro + fmt_fields[i].size_at, &fmt_values[i][1], sizeof(uint32_t));
	}
}

/* Why a program's hook cannot be used here; NULL when it can. */
static const char *hook_refusal_kind(const struct prog_spec *s, const struct source_options *opt)
{
	bool syscall_tracepoints = opt && opt->syscall_tracepoints;
	char name[128];

	/* tracepoints every context switch of the host runs (kernel/sched/core.c __schedule,
	 * arch/x86/mm/tlb.c switch_mm_irqs_off): the cost of any program there, 1-4 % of a
	 * switch here (tests/bench/switch_bench.sh), is not for a default */
	if ((s->kind == HOOK_TP || s->kind == HOOK_TP_BTF) && !(opt && opt->switch_tracepoints) &&
	    (!strcmp(s->hook, "sched_switch") || !strcmp(s->hook, "tlb_flush")))
		return "off by default, as it runs on every context switch of the host (--switch-tracepoints)";
	if (s->needs_ksm_scan && !ksm_scan_address())
		return "no ksm_scan in /proc/kallsyms (CONFIG_KALLSYMS_ALL off, or not root): full scans cannot be told";

	switch (s->kind) {
	case HOOK_TP:
		if (!strcmp(s->category, "syscalls") && !syscall_tracepoints)
			return "off by default, as they slow every syscall on the host (--syscall-tracepoints)";
		if (!probe_tracepoint(s->category, s->hook))
			return "no such tracepoint";
		if (s->btf_struct && !probe_btf_struct(s->btf_struct))
			return "its record has no BTF (kvm.ko without module BTF)";
		if (s->fmt && !fmt_ok)
			return fmt_why;
		return NULL;
	case HOOK_TP_BTF:
		snprintf(name, sizeof(name), "btf_trace_%s", s->hook);
		return probe_btf_typedef(name) ? NULL : "no BTF for it (a module without BTF, or no such tracepoint)";
	case HOOK_FENTRY:
	case HOOK_FEXIT:
		if (!probe_btf_function(s->hook))
			return "no BTF for this function (absent, or in a module without BTF)";
		return probe_fentry_loads() ? NULL : "this kernel refuses fentry/fexit programs";
	case HOOK_KPROBE:
	case HOOK_KRETPROBE:
		return probe_kprobe(s->hook) ? NULL : "no kprobes here (CONFIG_KPROBES), or no such symbol in kallsyms";
	}
	return "unknown hook kind";
}

/* why a program cannot load here, or NULL; a missing hook is named before a missing map type */
static const char *hook_refusal(const struct prog_spec *s, const struct source_options *opt)
{
	const char *why = hook_refusal_kind(s, opt);

	if (!why && s->needs_task_storage && !probe_task_storage())
		why = "no task storage maps here (5.11+): the verifier would refuse the whole object";
	return why;
}

static const char *hook_desc(const struct prog_spec *s, char *buf, size_t sz)
{
	static const char *const kinds[] = { [HOOK_FENTRY] = "fentry", [HOOK_FEXIT] = "fexit",
					     [HOOK_KPROBE] = "kprobe", [HOOK_KRETPROBE] = "kretprobe" };

	if (s->kind == HOOK_TP)
		snprintf(buf, sz, "tracepoint %s:%s", s->category, s->hook);
	else if (s->kind == HOOK_TP_BTF)
		snprintf(buf, sz, "tp_btf %s", s->hook);
	else
		snprintf(buf, sz, "%s %s()", kinds[s->kind], s->hook);
	return buf;
}

/* Decide which programs to load: per group, the best rank whose hooks all exist; of a
 * counting program and its *_rec twin, the twin when the recording streams its type. */
static void choose_programs(bool chosen[NR_SPECS], const char *why[NR_SPECS], uint64_t stream_mask,
			    const struct source_options *opt)
{
	bool exists[NR_SPECS];
	char desc[128];

	for (int i = 0; i < NR_SPECS; i++) {
		if (!why[i])
			why[i] = hook_refusal(&specs[i], opt);
		exists[i] = !why[i];
	}
	for (int i = 0; i < NR_SPECS; i++) {
		const struct prog_spec *s = &specs[i];

		if (!s->group) {
			chosen[i] = exists[i];
			continue;
		}
		/* best rank of this group with all members present */
		int best = -1;
		for (int r = 0; r < 4 && best < 0; r++) {
			bool any = false, all = true;
			for (int j = 0; j < NR_SPECS; j++) {
				if (!specs[j].group || strcmp(specs[j].group, s->group) || specs[j].rank != r)
					continue;
				any = true;
				all &= exists[j];
			}
			if (any && all)
				best = r;
		}
		chosen[i] = s->rank == best;
	}
	/* a group that only makes sense beside another (its programs read what the other's
	 * write): off when none of the other's is chosen, never a counter stuck at 0 */
	for (int i = 0; i < NR_SPECS; i++) {
		static char with_why[NR_SPECS][80];
		bool partner = false;

		if (!chosen[i] || !specs[i].with)
			continue;
		for (int j = 0; j < NR_SPECS; j++)
			partner |= chosen[j] && specs[j].group && !strcmp(specs[j].group, specs[i].with);
		if (partner)
			continue;
		snprintf(with_why[i], sizeof(with_why[i]), "loaded only with the %s programs, which are not",
			 specs[i].with);
		why[i] = with_why[i];
		exists[i] = chosen[i] = false;
	}
	for (int i = 0; i < NR_SPECS; i++) {
		if (specs[i].streams)
			chosen[i] &= !!(stream_mask & VMMEM_EV_BIT(specs[i].streams - 1));
		if (specs[i].twin_streams)
			chosen[i] &= !(stream_mask & VMMEM_EV_BIT(specs[i].twin_streams - 1));
	}
	for (int i = 0; i < NR_SPECS; i++) {
		if (verbose)
			fprintf(stderr, "vmmemtop: probe: %-44s %-22s %s%s\n", hook_desc(&specs[i], desc, sizeof(desc)),
				specs[i].prog, exists[i] ? "present" : why[i], chosen[i] ? ", using it" : "");
	}
}

static void mark_available(struct source *src, const struct prog_spec *s)
{
	for (const struct feed *f = s->feeds; f < s->feeds + 10 && f->kind != FEED_END; f++) {
		switch (f->kind) {
		case FEED_VM: src->available.vm[f->id] = true; break;
		case FEED_HOST: src->available.host[f->id] = true; break;
		case FEED_VM_HIST: src->available.vm_hist[f->id] = true; break;
		case FEED_HOST_HIST: src->available.host_hist[f->id] = true; break;
		}
	}
}

static bool spec_feeds(const struct prog_spec *s, int k)
{
	if (s->streams)		/* a *_rec twin: the same hook as its counting program */
		return false;
	for (const struct feed *f = s->feeds; f < s->feeds + 10 && f->kind != FEED_END; f++)
		if (f->kind == FEED_VM && f->id == k)
			return true;
	return false;
}

/* The hooks that could feed VM counter k and why each is not used, hooks with the same
 * reason together: "fexit do_madvise(), fexit vfs_fallocate(): <why>; <hook>: <why>". */
static void counter_reasons(int k, const char *const why[NR_SPECS], char *buf, size_t sz)
{
	bool done[NR_SPECS] = { false };
	char desc[128];
	size_t off = 0;

	buf[0] = 0;
	for (int i = 0; i < NR_SPECS && off < sz; i++) {
		const char *r = why[i] ? why[i] : "did not attach";

		if (done[i] || !spec_feeds(&specs[i], k))
			continue;
		off += snprintf(buf + off, sz - off, "%s", off ? "; " : "");
		for (int j = i; j < NR_SPECS && off < sz; j++) {
			if (done[j] || !spec_feeds(&specs[j], k) || strcmp(r, why[j] ? why[j] : "did not attach"))
				continue;
			done[j] = true;
			off += snprintf(buf + off, sz - off, "%s%s", j == i ? "" : ", ",
					hook_desc(&specs[j], desc, sizeof(desc)));
		}
		if (off < sz)
			off += snprintf(buf + off, sz - off, ": %s", r);
	}
}

/* One notice per distinct cause: the unavailable counters it leaves and every hook tried. */
static void notice_missing(const struct source *src, const char *const why[NR_SPECS])
{
	static const char *const names[] = {
#define N(n, u, h) #n,
		VMMEM_VM_COUNTERS(N)
#undef N
	};
	bool done[VMMEM_NR_VM_COUNTERS] = { false };
	char reason[1024], other[1024], list[512];

	for (int i = 0; i < VMMEM_NR_VM_COUNTERS; i++) {
		size_t off = 0;

		if (src->available.vm[i] || done[i])
			continue;
		counter_reasons(i, why, reason, sizeof(reason));
		for (int j = i; j < VMMEM_NR_VM_COUNTERS; j++) {
			if (src->available.vm[j] || done[j])
				continue;
			counter_reasons(j, why, other, sizeof(other));
			if (strcmp(reason, other))
				continue;
			done[j] = true;
			if (off < sizeof(list))
				off += snprintf(list + off, sizeof(list) - off, "%s%s", off ? ", " : "", names[j]);
		}
		fprintf(stderr, "vmmemtop: notice: unavailable: %s (%s)\n", list,
			reason[0] ? reason : "no hook in this build");
	}
}

static uint32_t read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned long v = 32768;

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 32768;
		fclose(f);
	}
	if (v < 1024)
		v = 1024;
	if (v > 4194304)	/* PID_MAX_LIMIT on 64-bit */
		v = 4194304;
	return v;
}

static int bpf_track(struct source *src, pid_t tgid)
{
	struct bpf_priv *p = src->priv;
	struct vmmem_bpf__bss *bss = p->skel->bss;
	int fd = bpf_map__fd(p->skel->maps.vmm_slot_by_tgid);
	uint32_t key = tgid, cur = 0;

	if (tgid <= 0 || (uint32_t)tgid >= p->max_tgid)
		return -EINVAL;
	if (bpf_map_lookup_elem(fd, &key, &cur) == 0 && cur)
		return -EEXIST;
	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		uint64_t expect = 0;

		if (bss->slot_owner[i])
			continue;
		/* same protocol as claim_slot() in bpf/vmm_table.bpf.h, on the mmap()ed .bss */
		if (!__atomic_compare_exchange_n(&bss->slot_owner[i], &expect, (uint64_t)tgid, false,
						 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
			continue;
		bss->slot_seq[i] = __atomic_add_fetch(&bss->next_seq, 1, __ATOMIC_SEQ_CST);
		__atomic_store_n(&bss->slot_state[i], VMMEM_SLOT_LIVE, __ATOMIC_SEQ_CST);
		cur = i + 1;
		if (bpf_map_update_elem(fd, &key, &cur, BPF_ANY)) {
			int err = -errno;

			__atomic_store_n(&bss->slot_state[i], VMMEM_SLOT_FREE, __ATOMIC_SEQ_CST);
			__atomic_store_n(&bss->slot_owner[i], 0, __ATOMIC_SEQ_CST);
			return err;
		}
		return 0;
	}
	return -ENOSPC;
}

static void sum_percpu(const struct bpf_priv *p, struct vmmem_vm_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < p->ncpus; cpu++)
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			out->c[k] += p->percpu[cpu].c[k];
}

static void hist_sum(struct vmmem_hist *out, const struct vmmem_hist *in)
{
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		out->slot[i] += in->slot[i];
	out->sum_ns += in->sum_ns;
}

static void read_hists(const struct bpf_priv *p, uint32_t slot, struct vmmem_vm_hists *out)
{
	int fd = bpf_map__fd(p->skel->maps.vm_hists);

	memset(out, 0, sizeof(*out));
	if (slot >= p->nr_hist_slots || bpf_map_lookup_elem(fd, &slot, p->percpu_hists))
		return;
	for (int cpu = 0; cpu < p->ncpus; cpu++)
		for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
			hist_sum(&out->h[k], &p->percpu_hists[cpu].h[k]);
}

static void read_lost(const struct bpf_priv *p, uint32_t slot, struct vmmem_ev_lost *out)
{
	int fd = bpf_map__fd(p->skel->maps.ev_lost);

	memset(out, 0, sizeof(*out));
	if (!p->stream_mask || bpf_map_lookup_elem(fd, &slot, p->percpu_lost))
		return;
	for (int cpu = 0; cpu < p->ncpus; cpu++) {
		for (int k = 0; k < VMMEM_EV_LOST_TYPES; k++)
			out->events[k] += p->percpu_lost[cpu].events[k];
		out->balloon_inflate_bytes += p->percpu_lost[cpu].balloon_inflate_bytes;
		out->balloon_deflate_bytes += p->percpu_lost[cpu].balloon_deflate_bytes;
	}
}

static void zero_lost(const struct bpf_priv *p, uint32_t slot)
{
	int fd = bpf_map__fd(p->skel->maps.ev_lost);

	if (!p->stream_mask)
		return;
	memset(p->percpu_lost, 0, sizeof(*p->percpu_lost) * p->ncpus);
	bpf_map_update_elem(fd, &slot, p->percpu_lost, BPF_ANY);
}

static void zero_hists(const struct bpf_priv *p, uint32_t slot)
{
	int fd = bpf_map__fd(p->skel->maps.vm_hists);

	if (slot >= p->nr_hist_slots)
		return;
	memset(p->percpu_hists, 0, sizeof(*p->percpu_hists) * p->ncpus);
	bpf_map_update_elem(fd, &slot, p->percpu_hists, BPF_ANY);
}

static int bpf_read(struct source *src, struct source_read *out)
{
	struct bpf_priv *p = src->priv;
	struct vmmem_bpf__bss *bss = p->skel->bss;
	int cfd = bpf_map__fd(p->skel->maps.vm_counters);
	int sfd = bpf_map__fd(p->skel->maps.vmm_slot_by_tgid);
	int hfd = bpf_map__fd(p->skel->maps.host_counters);
	uint32_t zero = 0, slots[VMMEM_MAX_VMS];
	struct timespec ts;

	/* The time of a read is taken just before the counters are: an event record stamped
	 * at or before it was counted in this read (bpf_ktime_get_ns runs after the increment),
	 * so a recording's window matches its counters up to the microseconds the next few
	 * lookups take. Everything slower (histograms, host counters, program info) comes after. */
	gr_tracker_refresh(p->gr, false);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	out->ts_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	out->nr_vms = 0;
	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		uint64_t owner = __atomic_load_n(&bss->slot_owner[i], __ATOMIC_SEQ_CST);
		uint32_t state = __atomic_load_n(&bss->slot_state[i], __ATOMIC_SEQ_CST);
		struct source_vm *vm;
		uint32_t key = owner, cur = 0;

		if (!owner || state == VMMEM_SLOT_FREE)
			continue;
		/* a slot orphaned by a kernel/user claim race for the same tgid: free it */
		if (state == VMMEM_SLOT_LIVE && bpf_map_lookup_elem(sfd, &key, &cur) == 0 && cur && cur != i + 1) {
			struct vmmem_vm_counters zeroes[p->ncpus];

			memset(zeroes, 0, sizeof(zeroes));
			bpf_map_update_elem(cfd, &i, zeroes, BPF_ANY);
			zero_hists(p, i);
			zero_lost(p, i);
			__atomic_store_n(&bss->slot_state[i], VMMEM_SLOT_FREE, __ATOMIC_SEQ_CST);
			__atomic_store_n(&bss->slot_owner[i], 0, __ATOMIC_SEQ_CST);
			continue;
		}
		if (bpf_map_lookup_elem(cfd, &i, p->percpu))
			return -errno;
		vm = &out->vms[out->nr_vms++];
		vm->tgid = owner;
		vm->state = state;
		vm->seq = bss->slot_seq[i];
		sum_percpu(p, &vm->counters);
		/* guest RAM not learned (yet): the kernel side counted none of its discards */
		vm->unavailable = gr_tracker_known(p->gr, i) ? 0 : VMMEM_BALLOON_COUNTERS_MASK;
		slots[out->nr_vms - 1] = i;
	}
	for (int v = 0; v < out->nr_vms; v++) {
		read_hists(p, slots[v], &out->vms[v].hists);
		read_lost(p, slots[v], &out->vms[v].lost);
	}
	{
		struct vmmem_host_hists hh[p->ncpus];
		int hhfd = bpf_map__fd(p->skel->maps.host_hists);

		memset(&out->host_hists, 0, sizeof(out->host_hists));
		if (bpf_map_lookup_elem(hhfd, &zero, hh) == 0)
			for (int cpu = 0; cpu < p->ncpus; cpu++)
				for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
					hist_sum(&out->host_hists.h[k], &hh[cpu].h[k]);
	}
	{
		struct vmmem_host_counters hc[p->ncpus];

		memset(&out->host, 0, sizeof(out->host));
		if (bpf_map_lookup_elem(hfd, &zero, hc) == 0)
			for (int cpu = 0; cpu < p->ncpus; cpu++)
				for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
					out->host.c[k] += hc[cpu].c[k];
	}
	/* the kernel counts the runs it skipped (kernel/trace/bpf_trace.c, bpf_prog_inc_misses_counter) */
	for (int i = 0; i < NR_SPECS; i++) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		if (!p->links[i])
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(p->prog_fds[i], &info, &len) == 0)
			out->host.c[VMMEM_H_missed_runs] += info.recursion_misses;
	}
	return 0;
}

static int bpf_reap(struct source *src, pid_t tgid, uint64_t seq)
{
	struct bpf_priv *p = src->priv;
	struct vmmem_bpf__bss *bss = p->skel->bss;
	int cfd = bpf_map__fd(p->skel->maps.vm_counters);
	int sfd = bpf_map__fd(p->skel->maps.vmm_slot_by_tgid);

	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		struct vmmem_vm_counters zeroes[p->ncpus];
		uint32_t key = tgid, cur = 0;

		if (bss->slot_owner[i] != (uint64_t)tgid || bss->slot_seq[i] != seq)
			continue;
		/* a LIVE slot reaped by user space: the process vanished unseen by the exit hook */
		if (bpf_map_lookup_elem(sfd, &key, &cur) == 0 && cur == i + 1) {
			cur = 0;
			bpf_map_update_elem(sfd, &key, &cur, BPF_ANY);
		}
		memset(zeroes, 0, sizeof(zeroes));
		bpf_map_update_elem(cfd, &i, zeroes, BPF_ANY);
		zero_hists(p, i);
		zero_lost(p, i);
		gr_tracker_forget(p->gr, i);
		__atomic_store_n(&bss->slot_state[i], VMMEM_SLOT_FREE, __ATOMIC_SEQ_CST);
		__atomic_store_n(&bss->slot_owner[i], 0, __ATOMIC_SEQ_CST);
		return 0;
	}
	return -ENOENT;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct bpf_priv *p = ctx;

	if (size >= sizeof(struct vmmem_event) && p->ev_cb)
		p->ev_cb(p->ev_ctx, data);
	return 0;
}

static int bpf_poll_events(struct source *src, int timeout_ms,
			   void (*cb)(void *ctx, const struct vmmem_event *ev), void *ctx)
{
	struct bpf_priv *p = src->priv;
	int n, total = 0;

	p->ev_cb = cb;
	p->ev_ctx = ctx;
	/* records are submitted without wakeups: sleep, then drain; while a recorder streams,
	 * drain every few ms so that bursts do not fill the ring between drains */
	do {
		int ms = timeout_ms;

		if (p->stream_mask && ms > STREAM_DRAIN_MS)
			ms = STREAM_DRAIN_MS;
		if (ms > 0)
			usleep(ms * 1000);
		timeout_ms -= ms;
		n = ring_buffer__consume(p->rb);
		if (n < 0 && n != -EINTR)
			break;
		total += n > 0 ? n : 0;
	} while (timeout_ms > 0);
	p->ev_cb = NULL;
	return n < 0 && n != -EINTR ? n : total;
}

static void bpf_close(struct source *src)
{
	struct bpf_priv *p = src->priv;

	if (!p)
		return;
	ring_buffer__free(p->rb);
	gr_tracker_free(p->gr);
	for (int i = 0; i < NR_SPECS; i++)
		bpf_link__destroy(p->links[i]);
	vmmem_bpf__destroy(p->skel);
	free(p->percpu);
	free(p->percpu_hists);
	free(p->percpu_lost);
	free(p);
	src->priv = NULL;
	probe_cleanup();
}

/* The slot table alone, from the mmap()ed .bss: no counters. (The guest RAM tables are kept
 * up to date here too, at most once a second, so that a VM's discards count from the moment
 * its guest RAM is known, not from the end of the interval.) */
static int bpf_list(struct source *src, struct source_read *out)
{
	struct vmmem_bpf__bss *bss = ((struct bpf_priv *)src->priv)->skel->bss;

	gr_tracker_refresh(((struct bpf_priv *)src->priv)->gr, false);

	out->nr_vms = 0;
	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		uint64_t owner = __atomic_load_n(&bss->slot_owner[i], __ATOMIC_SEQ_CST);
		uint32_t state = __atomic_load_n(&bss->slot_state[i], __ATOMIC_SEQ_CST);
		struct source_vm *vm;

		if (!owner || state == VMMEM_SLOT_FREE)
			continue;
		vm = &out->vms[out->nr_vms++];
		vm->tgid = owner;
		vm->state = state;
		vm->seq = __atomic_load_n(&bss->slot_seq[i], __ATOMIC_SEQ_CST);
	}
	return 0;
}

static void bpf_guest_ram_hint(struct source *src, pid_t tgid, const uint64_t *sizes, int n, const char *from)
{
	struct bpf_priv *p = src->priv;

	gr_tracker_hint(p->gr, tgid, sizes, n, from);
}

static const struct source_ops bpf_ops = {
	SOURCE_OPS_REQUIRED(bpf),
	.guest_ram_hint = bpf_guest_ram_hint,
	.list = bpf_list,
	.poll_events = bpf_poll_events,
};

/* Open the skeleton, size its maps, set its knobs and choose its programs (why[] keeps the
 * refusals of earlier attempts). Returns 0 or negative errno. */
static int open_configured(struct bpf_priv *p, const struct source_options *opt, bool chosen[NR_SPECS],
			   const char *why[NR_SPECS])
{
	p->skel = vmmem_bpf__open();
	if (!p->skel)
		return errno ? -errno : -ENOMEM;
	p->skel->rodata->stream_mask = p->stream_mask;
	p->skel->rodata->ksm_scan_addr = ksm_scan_address();
	fmt_set_rodata(p->skel->rodata);
	if (opt && opt->slow_ns) {
		p->skel->rodata->slow_event_ns = opt->slow_ns;
		p->skel->rodata->slow_ipi_ns = opt->slow_ns;
	}
	bpf_map__set_max_entries(p->skel->maps.events, p->stream_mask & PER_EVENT_TYPES ? RING_STREAM_BYTES :
				 p->stream_mask ? RING_RARE_BYTES : RING_IDLE_BYTES);
	/* nothing is lost where nothing streams (the emits are dead code): no per-slot table */
	if (!p->stream_mask)
		bpf_map__set_max_entries(p->skel->maps.ev_lost, 1);
	bpf_map__set_max_entries(p->skel->maps.vmm_slot_by_tgid, p->max_tgid);
	bpf_map__set_max_entries(p->skel->maps.vm_hists, p->nr_hist_slots);

	choose_programs(chosen, why, p->stream_mask, opt);
	for (int i = 0; i < NR_SPECS; i++) {
		struct bpf_program *prog = bpf_object__find_program_by_name(p->skel->obj, specs[i].prog);

		if (prog)
			bpf_program__set_autoload(prog, chosen[i]);
	}
	bpf_program__set_autoload(p->skel->progs.kvm_memslots_iter, p->iter_ok);
	/* task storage is 5.11+: an object with the map would not load at all on 5.10 */
	bpf_map__set_autocreate(p->skel->maps.vcpu_threads,
				bpf_program__autoload(p->skel->progs.ipi_entry_btf));
	bpf_map__set_autocreate(p->skel->maps.notify_in,
				bpf_program__autoload(p->skel->progs.flush_notify_fentry));
	bpf_map__set_autocreate(p->skel->maps.shoot_for,
				bpf_program__autoload(p->skel->progs.shoot_mm_fentry));
	return 0;
}

/* "bpf" takes no ARG: source_factory_find() matched it whole */
static int source_bpf_open(struct source *src, const char *arg, const struct source_options *opt,
			   char *err, size_t errsz)
{
	struct bpf_priv *p;
	bool chosen[NR_SPECS];
	const char *why[NR_SPECS] = { NULL };
	char desc[128];
	int ret, attached = 0;

	(void)arg;
	verbose = opt && opt->verbose;
	libbpf_set_print(libbpf_print);
	memset(src, 0, sizeof(*src));
	if (!probe_kernel_btf()) {
		snprintf(err, errsz, "kernel has no BTF (/sys/kernel/btf/vmlinux missing; CONFIG_DEBUG_INFO_BTF=n): "
			 "CO-RE programs cannot load; use --backend kmod");
		return -ENOTSUP;
	}
	if (!probe_tracefs()) {
		struct stat st;

		/* tracefs is 0700 root: mounted but closed to this user is a privilege problem,
		 * not a missing mount (fs/tracefs/inode.c creates it with mode 0700) */
		if ((stat("/sys/kernel/tracing/events", &st) && errno == EACCES) ||
		    (stat("/sys/kernel/debug/tracing/events", &st) && errno == EACCES)) {
			snprintf(err, errsz, "tracefs (/sys/kernel/tracing) is mounted but not readable by uid %d: "
				 "the BPF backend needs root, or CAP_BPF + CAP_PERFMON with CAP_DAC_READ_SEARCH "
				 "(as the shipped unit grants); or use --backend kmod as a member of the group of "
				 "/dev/vmmem", (int)geteuid());
			return -EACCES;
		}
		snprintf(err, errsz, "tracefs is not mounted and cannot be mounted at /sys/kernel/tracing "
			 "(need root; or: mount -t tracefs nodev /sys/kernel/tracing)");
		return -ENOENT;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0) {
		snprintf(err, errsz, "cannot count possible CPUs: %s", strerror(-p->ncpus));
		free(p);
		return -EINVAL;
	}
	p->percpu = calloc(p->ncpus, sizeof(*p->percpu));
	p->percpu_hists = calloc(p->ncpus, sizeof(*p->percpu_hists));
	p->percpu_lost = calloc(p->ncpus, sizeof(*p->percpu_lost));
	if (!p->percpu || !p->percpu_hists || !p->percpu_lost) {
		ret = -ENOMEM;
		snprintf(err, errsz, "cannot open BPF object: %s", strerror(-ret));
		goto err_free;
	}
	p->stream_mask = opt ? opt->stream_mask : 0;
	p->max_tgid = read_pid_max();
	/* histograms are large per CPU: keep them under 64 MiB of kernel memory; VMs in
	 * slots beyond that have counters but no histograms */
	p->nr_hist_slots = (64ull << 20) / (sizeof(struct vmmem_vm_hists) * p->ncpus);
	if (p->nr_hist_slots > VMMEM_MAX_VMS)
		p->nr_hist_slots = VMMEM_MAX_VMS;
	if (p->nr_hist_slots < 1)
		p->nr_hist_slots = 1;

	fmt_probe();
	/* guest RAM for the balloon split: KVM's memslots read by an iterator over kvm-vm files,
	 * which needs task_file iterators and struct kvm in the kernel's BTF (kvm built in, or
	 * module BTF) */
	p->iter_ok = probe_btf_struct("bpf_iter__task_file") && probe_btf_struct("kvm_memslots");
	if (verbose)
		fprintf(stderr, "vmmemtop: probe: %-44s %s\n", "iter task_file over kvm-vm (memslots)",
			p->iter_ok ? "present, using it: guest RAM refreshed every 1 s" :
			"absent (no struct kvm in BTF): guest RAM from the memslot hook or QEMU's RAM blocks");
	/* Probing tells what should load; the verifier has the last word. A program the kernel
	 * still refuses is turned off (its group falls back to the next rank) and the rest are
	 * loaded again: libbpf cannot reload a failed object, so it is destroyed and reopened. */
	for (int attempt = 0;; attempt++) {
		int bad = -1;

		ret = open_configured(p, opt, chosen, why);
		if (ret) {
			snprintf(err, errsz, "cannot open BPF object: %s", strerror(-ret));
			goto err_free;
		}
		libbpf_failed_prog[0] = 0;
		ret = vmmem_bpf__load(p->skel);
		if (!ret)
			break;
		if (ret == -EPERM || (ret == -EACCES && geteuid() != 0)) {
			snprintf(err, errsz, "cannot load BPF programs: %s (need root or CAP_BPF+CAP_PERFMON; "
				 "or use --backend kmod)", strerror(-ret));
			goto err_free;
		}
		for (int i = 0; i < NR_SPECS && libbpf_failed_prog[0]; i++)
			if (chosen[i] && !strcmp(specs[i].prog, libbpf_failed_prog))
				bad = i;
		if (bad < 0 || attempt >= NR_SPECS) {
			if (ret == -EACCES)
				snprintf(err, errsz, "the kernel's verifier rejected a BPF program (run with -v for "
					 "its log; or use --backend kmod): libbpf: %.120s", libbpf_last_error);
			else
				snprintf(err, errsz, "cannot load BPF programs: %s (libbpf: %.120s)", strerror(-ret),
					 libbpf_last_error);
			goto err_free;
		}
		snprintf(p->refusal[bad], sizeof(p->refusal[bad]), "the kernel refused the program: %s",
			 strerror(-ret));
		why[bad] = p->refusal[bad];
		fprintf(stderr, "vmmemtop: notice: the kernel refused program %s (%s): %s; loading the others "
			"without it\n", specs[bad].prog, hook_desc(&specs[bad], desc, sizeof(desc)), strerror(-ret));
		vmmem_bpf__destroy(p->skel);
		p->skel = NULL;
	}
	for (int i = 0; i < NR_SPECS; i++) {
		struct bpf_program *prog;

		if (!chosen[i])
			continue;
		prog = bpf_object__find_program_by_name(p->skel->obj, specs[i].prog);
		p->links[i] = prog ? bpf_program__attach(prog) : NULL;
		if (!p->links[i]) {
			fprintf(stderr, "vmmemtop: notice: cannot attach to %s: %s; its counters are unavailable\n",
				hook_desc(&specs[i], desc, sizeof(desc)), strerror(errno));
			why[i] = "attach failed";
			continue;
		}
		p->prog_fds[i] = bpf_program__fd(prog);
		attached++;
		mark_available(src, &specs[i]);
	}
	if (!attached) {
		ret = -ENOENT;
		snprintf(err, errsz, "no BPF program could attach (see notices above)");
		goto err_free;
	}
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), ring_cb, p, NULL);
	if (!p->rb) {
		ret = -errno;
		snprintf(err, errsz, "cannot open the BPF event ring: %s", strerror(-ret));
		goto err_free;
	}
	for (int i = 0; i < NR_SPECS; i++) {
		if (p->links[i] && specs[i].fmt) {
			fprintf(stderr, "vmmemtop: notice: KVM's tracepoints are read at tracefs offsets here "
				"(kvm.ko has no BTF): a VMM counts from the /proc scan that finds it, not from "
				"its first KVM event\n");
			break;
		}
	}
	{
		bool memslot_hook = false;

		for (int i = 0; i < NR_SPECS; i++)
			memslot_hook |= p->links[i] && (!strcmp(specs[i].prog, "memslot_fexit") ||
							!strcmp(specs[i].prog, "memslot_kretprobe"));
		ret = gr_tracker_new(&p->gr, p->skel, p->iter_ok, memslot_hook, verbose);
		if (ret) {
			snprintf(err, errsz, "out of memory");
			goto err_free;
		}
	}
	src->available.host[VMMEM_H_dropped_events] = true;
	src->available.host[VMMEM_H_missed_runs] = true;
	src->available.host[VMMEM_H_pool_exhausted] = true;
	src->ops = &bpf_ops;
	src->name = "bpf";
	src->priv = p;
	notice_missing(src, why);
	return 0;

err_free:
	src->priv = p;
	bpf_close(src);
	memset(src, 0, sizeof(*src));
	return ret;
}

const struct source_factory source_bpf_factory = {
	.prefix = "bpf",
	.open = source_bpf_open,
};
