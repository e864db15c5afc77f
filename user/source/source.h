/* SPDX-License-Identifier: MIT */
/* A backend ("source") delivers raw kernel counters to the aggregation core.
 * Backends: source_bpf.c (BPF programs), source_kmod.c (/dev/vmmem). Same interface. */
#ifndef VMMEM_SOURCE_H
#define VMMEM_SOURCE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "vmmem.h"
#include "snapshot.h"
#include "vmm_info.h"

/* One VMM as the kernel side knows it. */
struct source_vm {
	pid_t tgid;
	uint32_t state;			/* VMMEM_SLOT_LIVE or VMMEM_SLOT_EXITED */
	uint64_t seq;			/* new for every new VMM (pid reuse gives a new seq) */
	struct vmmem_vm_counters counters;	/* cumulative since the slot was claimed */
	struct vmmem_vm_hists hists;		/* cumulative, likewise */
	struct vmmem_ev_lost lost;		/* event records lost, cumulative (0 if unknown) */
	uint64_t unavailable;			/* bit k: counter k means nothing for this VM */
};

/* A VM reported exited and reaped (source_ops.reap), which its source must not report again. */
struct source_reaped {
	pid_t tgid;
	uint64_t seq;
};

static inline bool source_reaped_has(const struct source_reaped *r, int nr, pid_t tgid, uint64_t seq)
{
	for (int i = 0; i < nr; i++)
		if (r[i].tgid == tgid && r[i].seq == seq)
			return true;
	return false;
}

struct source_read {
	uint64_t ts_ns;
	int64_t wall_time;			/* 0: now (live); a recording's own time otherwise */
	struct vmmem_host_counters host;	/* cumulative */
	struct vmmem_host_hists host_hists;	/* cumulative */
	int nr_vms;
	struct source_vm vms[VMMEM_MAX_VMS];
};

struct source_ops;

struct source {
	const struct source_ops *ops;
	const char *name;		/* "bpf" or "kmod" */
	struct counter_mask available;	/* counters whose hooks are attached */
	void *priv;
};

struct source_ops {
	/* Claim a slot for a VMM found in /proc (kernel-side creation hooks claim their own).
	 * Returns 0, -EEXIST if already tracked, -ENOSPC when all slots are used. */
	int (*track)(struct source *src, pid_t tgid);
	/* Read all counters. Returns 0 or negative errno. */
	int (*read)(struct source *src, struct source_read *out);
	/* Optional: only tgid, state and seq of every VM (no counters), cheap enough to call
	 * every 100 ms so the core names a new VM soon after it appears. NULL: the core calls
	 * read() instead. Returns 0 or negative errno. */
	int (*list)(struct source *src, struct source_read *out);
	/* Free the slot of an exited VMM after its final counters were read. */
	int (*reap)(struct source *src, pid_t tgid, uint64_t seq);
	/* Poll for event records (may be NULL); timeout_ms like poll(2). */
	int (*poll_events)(struct source *src, int timeout_ms,
			   void (*cb)(void *ctx, const struct vmmem_event *ev), void *ctx);
	void (*close)(struct source *src);
	/* Optional: QEMU's RAM block sizes (QMP) for a VMM, so a backend can learn the guest
	 * RAM of a QEMU that has no KVM memslots (TCG). */
	void (*guest_ram_hint)(struct source *src, pid_t tgid, const uint64_t *sizes, int n, const char *from);
	/* Optional (NULL for live backends, which use /proc and sysfs): a source that
	 * carries its own process and host facts, such as a recording being replayed.
	 * vm_info returns 0 or -ENOENT; host_state returns 0 or negative errno. */
	int (*vm_info)(struct source *src, pid_t tgid, uint64_t seq, struct vmm_info *out);
	int (*host_state)(struct source *src, struct host_state *out);
	/* Optional: true when a finite source (a recording) has nothing more to give. */
	bool (*finished)(struct source *src);
	/* Optional: the source's own clock (a recording's CLOCK_MONOTONIC ns), on which the core
	 * measures its intervals; NULL: the host's CLOCK_MONOTONIC. */
	uint64_t (*clock_ns)(struct source *src);
	/* Optional: how fast that clock runs against the host's: 1, 10, INFINITY (as fast as
	 * the core reads), 0 pauses. May be called from another thread than the other ops. */
	void (*set_speed)(struct source *src, double speed);
};

/* The four ops every source has, filled from its functions named by one convention,
 * PREFIX_track, PREFIX_read, PREFIX_reap and PREFIX_close (as the kernel's
 * DEFINE_SHOW_ATTRIBUTE fills file_operations), so a source's table lists only what it adds:
 *	static const struct source_ops kmod_ops = {
 *		SOURCE_OPS_REQUIRED(kmod),
 *		.poll_events = kmod_poll_events,
 *	};
 */
#define SOURCE_OPS_REQUIRED(prefix)	\
	.track = prefix##_track,	\
	.read = prefix##_read,		\
	.reap = prefix##_reap,		\
	.close = prefix##_close

/* The pair of ops of a source that carries its own facts (a recording, made-up VMs):
 * PREFIX_vm_info and PREFIX_host_state. */
#define SOURCE_OPS_FACTS(prefix)		\
	.vm_info = prefix##_vm_info,		\
	.host_state = prefix##_host_state

struct source_options {
	bool verbose;			/* print feature-probe verdicts */
	bool syscall_tracepoints;	/* may enable syscalls:* tracepoints (every syscall of every
					 * process on the host then takes the tracing slow path) */
	bool switch_tracepoints;	/* may attach to sched_switch and tlb:tlb_flush (every
					 * context switch of the host runs them) */
	uint64_t stream_mask;		/* VMMEM_EV_BIT()s to deliver (recorder); 0: counters only */
	uint64_t slow_ns;		/* slow_fault/slow_exit threshold; 0: the default (1 ms) */
};

/* The sources selectable by --backend NAME: "bpf", "kmod", "replay:FILE"... Each factory is
 * defined by its source file (source_bpf_factory in source_bpf.c...); the program's table of
 * them, source_factories[], is chosen by whoever links the core (user/cmd/backends.c for
 * vmmemtop), so the core and its unit tests need no BPF toolchain. */
struct source_factory {
	const char *prefix;		/* the name, or the start of "name:ARG" */
	/* Returns 0 and fills *src, or a negative errno and writes one line into err. */
	int (*open)(struct source *src, const char *arg, const struct source_options *opt,
		    char *err, size_t errsz);
};
extern const struct source_factory *const source_factories[];
extern const struct source_factory source_bpf_factory, source_kmod_factory, source_replay_factory,
	source_synthetic_factory;

/* The factory whose prefix starts `backend` ("bpf" only for exactly "bpf"), or NULL. */
const struct source_factory *source_factory_find(const char *backend);

#endif
