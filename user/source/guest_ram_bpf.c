// SPDX-License-Identifier: MIT
/* The BPF backend's guest RAM tables (bpf/guest_ram.bpf.h): learned once a second for every
 * tracked VMM, from its KVM memslots (the kvm-vm file iterator) or, for a QEMU without KVM,
 * from its RAM blocks (QMP sizes matched to its MADV_DONTFORK mappings), with the backing
 * of each range from /proc/PID/maps. A table is rewritten only when it changes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "guest_ram.h"
#include "guest_ram_bpf.h"
#include "vmmem.skel.h"

#define REFRESH_NS	1000000000ull	/* how stale a table can get: 1 s (plus one read) */
#define SMAPS_NS	10000000000ull	/* smaps costs a page walk: RAM blocks re-matched every 10 s */

struct slot_gr {
	uint64_t owner;			/* tgid the entry below describes */
	uint64_t seq;
	struct vmmem_guest_ram last;	/* as written to the map */
	int nr_hint;			/* QEMU RAM block sizes from QMP */
	uint64_t hint[VMM_QMP_RAMBLOCKS];
	char hint_from[24];		/* "QMP info ramblock", "main RAM of -m" */
	uint64_t smaps_ns;
	int nr_hint_spans;
	struct gr_span hint_spans[VMM_QMP_RAMBLOCKS];
	char how[96];			/* last verdict, for -v */
};

struct gr_tracker {
	struct vmmem_bpf *skel;
	struct bpf_link *iter;		/* NULL: the kernel cannot iterate kvm-vm files */
	bool verbose;
	bool hook;			/* a memslot update hook is attached (fexit or kprobe) */
	uint64_t last_ns, last_updates, gc_ns;
	struct slot_gr s[VMMEM_MAX_VMS];
	struct vmmem_kvm_slot *recs;
	int nr_recs, cap_recs;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int gr_tracker_new(struct gr_tracker **out, struct vmmem_bpf *skel, bool iter_loaded, bool hook, bool verbose)
{
	struct gr_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->skel = skel;
	t->verbose = verbose;
	t->hook = hook;
	if (iter_loaded) {
		t->iter = bpf_program__attach_iter(skel->progs.kvm_memslots_iter, NULL);
		if (!t->iter && verbose)
			fprintf(stderr, "vmmemtop: notice: cannot attach the kvm-vm memslot iterator: %s\n",
				strerror(errno));
	}
	*out = t;
	return 0;
}

bool gr_tracker_has_iter(const struct gr_tracker *t)
{
	return t && t->iter;
}

/* One pass of the iterator over every process's files: the memslots of every tracked VMM. */
static void run_iter(struct gr_tracker *t)
{
	char buf[sizeof(struct vmmem_kvm_slot) * 64];
	size_t have = 0;
	ssize_t n;
	int fd;

	t->nr_recs = 0;
	if (!t->iter)
		return;
	fd = bpf_iter_create(bpf_link__fd(t->iter));
	if (fd < 0)
		return;
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t whole;

		have += n;
		whole = have / sizeof(struct vmmem_kvm_slot) * sizeof(struct vmmem_kvm_slot);
		for (size_t off = 0; off < whole; off += sizeof(struct vmmem_kvm_slot)) {
			if (t->nr_recs == t->cap_recs) {
				int cap = t->cap_recs ? t->cap_recs * 2 : 256;
				struct vmmem_kvm_slot *q = realloc(t->recs, cap * sizeof(*q));

				if (!q)
					goto out;
				t->recs = q, t->cap_recs = cap;
			}
			memcpy(&t->recs[t->nr_recs++], buf + off, sizeof(struct vmmem_kvm_slot));
		}
		memmove(buf, buf + whole, have - whole);
		have -= whole;
	}
out:
	close(fd);
}

/* Without the iterator: the memslots the update hook recorded for pid (all of them only if
 * the kernel side saw the VM created: vm_created). Returns the count, spans in *out. */
static int hook_spans(struct gr_tracker *t, pid_t pid, struct gr_span **out)
{
	int fd = bpf_map__fd(t->skel->maps.kvm_slots);
	struct { uint32_t tgid, as_id_slot; uint64_t kvm; } key, next, *prev = NULL;
	struct vmmem_kvm_slot v;
	struct gr_span *sp = NULL;
	int n = 0, cap = 0;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (key.tgid != (uint32_t)pid || bpf_map_lookup_elem(fd, &key, &v) || !v.size)
			continue;
		if (n == cap) {
			struct gr_span *q = realloc(sp, (cap = cap ? cap * 2 : 16) * sizeof(*sp));

			if (!q)
				break;
			sp = q;
		}
		sp[n++] = (struct gr_span){ v.hva, v.size };
	}
	*out = sp;
	return n;
}

/* The kernel side saw pid create its VM (bpf/lifecycle.bpf.c vm_created). */
static bool created_seen(const struct gr_tracker *t, pid_t pid)
{
	uint32_t key = pid;
	uint8_t v = 0;

	return bpf_map_lookup_elem(bpf_map__fd(t->skel->maps.vm_created), &key, &v) == 0 && v;
}

/* Forget the hook's memslots of a process that is gone. */
static void hook_forget(struct gr_tracker *t, pid_t pid)
{
	int fd = bpf_map__fd(t->skel->maps.kvm_slots);
	uint32_t tgid = pid;

	bpf_map_delete_elem(bpf_map__fd(t->skel->maps.vm_created), &tgid);
	struct { uint32_t tgid, as_id_slot; uint64_t kvm; } key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (key.tgid == (uint32_t)pid) {
			bpf_map_delete_elem(fd, &key);
			prev = NULL;	/* restart: the deleted key cannot lead on */
			continue;
		}
		prev = &key;
	}
}

/* The hook records every process that sets memslots, tracked or not: drop those gone. */
static void gc_gone(struct gr_tracker *t)
{
	int fd = bpf_map__fd(t->skel->maps.kvm_slots), cfd = bpf_map__fd(t->skel->maps.vm_created);
	struct { uint32_t tgid, as_id_slot; uint64_t kvm; } key, next, *prev = NULL;
	uint32_t pid, npid, *pprev = NULL;
	char path[64];

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		snprintf(path, sizeof(path), "/proc/%u", key.tgid);
		if (access(path, F_OK) && bpf_map_delete_elem(fd, &key) == 0) {
			prev = NULL;
			continue;
		}
		prev = &key;
	}
	while (bpf_map_get_next_key(cfd, pprev, &npid) == 0) {
		pid = npid;
		snprintf(path, sizeof(path), "/proc/%u", pid);
		if (access(path, F_OK) && bpf_map_delete_elem(cfd, &pid) == 0) {
			pprev = NULL;
			continue;
		}
		pprev = &pid;
	}
}

static void write_table(struct gr_tracker *t, uint32_t slot, struct vmmem_guest_ram *g, const char *how)
{
	struct slot_gr *s = &t->s[slot];
	int fd = bpf_map__fd(t->skel->maps.guest_ram);

	g->gen = s->last.gen;
	if (!memcmp(g, &s->last, sizeof(*g)) && !strcmp(how, s->how))
		return;
	g->gen = s->last.gen + 1;
	if (bpf_map_update_elem(fd, &slot, g, BPF_ANY))
		return;
	s->last = *g;
	if (t->verbose)
		fprintf(stderr, "vmmemtop: guest RAM of pid %llu: %s: %u range(s), %u file range(s)%s\n",
			(unsigned long long)s->owner, how, g->nr, g->nr_files,
			g->state == VMMEM_GR_KNOWN ? "" : "; its balloon counters are unavailable");
	snprintf(s->how, sizeof(s->how), "%s", how);
}

static void refresh_slot(struct gr_tracker *t, uint32_t slot, uint64_t now)
{
	struct slot_gr *s = &t->s[slot];
	pid_t pid = s->owner;
	struct gr_span *spans = NULL;
	struct gr_vma *vmas = NULL;
	struct vmmem_guest_ram g;
	const char *how = "unknown (no kvm-vm file, no QEMU RAM block list over QMP)";
	char howbuf[96];
	int nr = 0, nv;

	memset(&g, 0, sizeof(g));
	if (!t->iter && t->hook && !created_seen(t, pid))
		how = "unknown (its VM predates vmmemtop, and this kernel cannot list memslots)";
	for (int i = 0; i < t->nr_recs; i++)
		nr += t->recs[i].tgid == (uint32_t)pid && t->recs[i].size;
	if (!nr && !t->iter && t->hook && created_seen(t, pid)) {
		nr = hook_spans(t, pid, &spans);
		how = "KVM memslots (memslot update hook)";
	}
	if (spans) {
		/* from the hook */
	} else if (nr) {
		spans = calloc(nr, sizeof(*spans));
		if (!spans)
			return;
		nr = 0;
		for (int i = 0; i < t->nr_recs; i++)
			if (t->recs[i].tgid == (uint32_t)pid && t->recs[i].size)
				spans[nr++] = (struct gr_span){ t->recs[i].hva, t->recs[i].size };
		how = "KVM memslots (kvm-vm iterator)";
	} else if (s->nr_hint) {
		if (!s->nr_hint_spans || now - s->smaps_ns >= SMAPS_NS) {
			nv = gr_read_vmas("/proc", pid, true, &vmas);
			s->nr_hint_spans = nv > 0 ? gr_match_ramblocks(s->hint, s->nr_hint, vmas, nv, s->hint_spans,
								      VMM_QMP_RAMBLOCKS) : 0;
			if (s->nr_hint_spans < 0)
				s->nr_hint_spans = 0;
			s->smaps_ns = now;
			free(vmas);
			vmas = NULL;
		}
		if (s->nr_hint_spans) {
			spans = s->hint_spans;
			nr = s->nr_hint_spans;
			snprintf(howbuf, sizeof(howbuf), "QEMU RAM blocks (%s, MADV_DONTFORK mappings)", s->hint_from);
			how = howbuf;
		} else {
			how = "unknown (QMP RAM blocks do not match the process's mappings)";
		}
	}
	if (nr) {
		nv = gr_read_vmas("/proc", pid, false, &vmas);
		if (nv < 0)
			goto out;	/* the process is going: leave the table as it was */
		if (gr_build(spans, nr, vmas, nv, &g) == -E2BIG)
			how = "unknown (more guest RAM ranges than the kernel table holds)";
	}
	write_table(t, slot, &g, how);
out:
	if (spans != s->hint_spans)
		free(spans);
	free(vmas);
}

void gr_tracker_refresh(struct gr_tracker *t, bool force)
{
	struct vmmem_bpf__bss *bss = t->skel->bss;
	uint64_t now = mono_ns(), updates = __atomic_load_n(&bss->memslot_updates, __ATOMIC_RELAXED);

	/* a memslot changed (the hook saw it): rebuild now rather than at the next refresh */
	if (updates != t->last_updates)
		force = true;
	/* a VMM just claimed (discovery, a KVM event): learn its guest RAM at once, its
	 * discards count only from then on */
	for (uint32_t i = 0; i < VMMEM_MAX_VMS && !force; i++) {
		uint64_t owner = __atomic_load_n(&bss->slot_owner[i], __ATOMIC_RELAXED);

		force = owner && __atomic_load_n(&bss->slot_state[i], __ATOMIC_RELAXED) == VMMEM_SLOT_LIVE &&
			(t->s[i].owner != owner || t->s[i].seq != bss->slot_seq[i]);
	}
	t->last_updates = updates;
	if (!force && now - t->last_ns < REFRESH_NS)
		return;
	t->last_ns = now;
	if (now - t->gc_ns >= SMAPS_NS)
		gc_gone(t), t->gc_ns = now;
	run_iter(t);
	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		uint64_t owner = __atomic_load_n(&bss->slot_owner[i], __ATOMIC_SEQ_CST);
		uint32_t state = __atomic_load_n(&bss->slot_state[i], __ATOMIC_SEQ_CST);
		struct slot_gr *s = &t->s[i];

		if (!owner || state != VMMEM_SLOT_LIVE)
			continue;
		if (s->owner != owner || s->seq != bss->slot_seq[i]) {
			memset(s, 0, sizeof(*s));
			s->owner = owner;
			s->seq = bss->slot_seq[i];
		}
		refresh_slot(t, i, now);
	}
}

bool gr_tracker_known(const struct gr_tracker *t, uint32_t slot)
{
	return slot < VMMEM_MAX_VMS && t->s[slot].last.state == VMMEM_GR_KNOWN;
}

void gr_tracker_hint(struct gr_tracker *t, pid_t tgid, const uint64_t *sizes, int n, const char *from)
{
	for (uint32_t i = 0; i < VMMEM_MAX_VMS; i++) {
		struct slot_gr *s = &t->s[i];

		if (s->owner != (uint64_t)tgid)
			continue;
		if (n < 0 || n > VMM_QMP_RAMBLOCKS)
			n = 0;
		if (n != s->nr_hint || memcmp(sizes, s->hint, n * sizeof(*sizes))) {
			s->nr_hint_spans = 0;	/* the block list changed: match again, now */
			t->last_ns = 0;
		}
		s->nr_hint = n;
		memcpy(s->hint, sizes, n * sizeof(*sizes));
		snprintf(s->hint_from, sizeof(s->hint_from), "%s", from);
	}
}

void gr_tracker_forget(struct gr_tracker *t, uint32_t slot)
{
	struct vmmem_guest_ram zero;
	int fd = bpf_map__fd(t->skel->maps.guest_ram);

	if (slot >= VMMEM_MAX_VMS)
		return;
	if (t->s[slot].owner)
		hook_forget(t, t->s[slot].owner);
	memset(&zero, 0, sizeof(zero));
	bpf_map_update_elem(fd, &slot, &zero, BPF_ANY);
	memset(&t->s[slot], 0, sizeof(t->s[slot]));
}

void gr_tracker_free(struct gr_tracker *t)
{
	if (!t)
		return;
	bpf_link__destroy(t->iter);
	free(t->recs);
	free(t);
}
