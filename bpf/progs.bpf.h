/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The BPF side of bpf/progs.h: every program of the table declared with its section, so a
 * file defines a program by name alone (`int vm_exit_tp(void *ctx)`, or libbpf's BPF_PROG /
 * BPF_KPROBE, which add no section of their own) and the hook is written only in the table.
 * A definition whose context type does not match its hook's fails to compile (conflicting
 * types); a table row without a definition fails user/source/source_bpf.c's compile-time check.
 */
#ifndef VMMEM_PROGS_BPF_H
#define VMMEM_PROGS_BPF_H

#include "progs.h"

#define VMMEM_SEC_TP(cat, ev)		"tracepoint/" #cat "/" #ev
#define VMMEM_SEC_TP_CORE(cat, ev)	VMMEM_SEC_TP(cat, ev)
#define VMMEM_SEC_TP_FMT(cat, ev)	VMMEM_SEC_TP(cat, ev)
#define VMMEM_SEC_BTF(ev)		"tp_btf/" #ev
#define VMMEM_SEC_FENTRY(fn)		"fentry/" #fn
#define VMMEM_SEC_FENTRY_KSM_SCAN(fn)	"fentry/" #fn
#define VMMEM_SEC_FEXIT(fn)		"fexit/" #fn
#define VMMEM_SEC_FENTRY_TS(fn)		"fentry/" #fn
#define VMMEM_SEC_FEXIT_TS(fn)		"fexit/" #fn
#define VMMEM_SEC_BTF_TS(ev)		"tp_btf/" #ev
#define VMMEM_SEC_KPROBE(fn)		"kprobe/" #fn
#define VMMEM_SEC_KRETPROBE(fn)		"kretprobe/" #fn

/* the context each attach type passes (what BPF_PROG and BPF_KPROBE declare) */
#define VMMEM_CTX_TP(cat, ev)		void *ctx
#define VMMEM_CTX_TP_CORE(cat, ev)	void *ctx
#define VMMEM_CTX_TP_FMT(cat, ev)	void *ctx
#define VMMEM_CTX_BTF(ev)		unsigned long long *ctx
#define VMMEM_CTX_FENTRY(fn)		unsigned long long *ctx
#define VMMEM_CTX_FENTRY_KSM_SCAN(fn)	unsigned long long *ctx
#define VMMEM_CTX_FEXIT(fn)		unsigned long long *ctx
#define VMMEM_CTX_FENTRY_TS(fn)		unsigned long long *ctx
#define VMMEM_CTX_FEXIT_TS(fn)		unsigned long long *ctx
#define VMMEM_CTX_BTF_TS(ev)		unsigned long long *ctx
#define VMMEM_CTX_KPROBE(fn)		struct pt_regs *ctx
#define VMMEM_CTX_KRETPROBE(fn)		struct pt_regs *ctx

#define VMMEM_DECLARE(name, hook, alt, feeds)	SEC(VMMEM_SEC_##hook) int name(VMMEM_CTX_##hook);
#define VMMEM_DECLARE_TWIN(base, sfx, ev, hook, alt, feeds)				\
	VMMEM_DECLARE(base##sfx, hook, alt, feeds)					\
	VMMEM_DECLARE(base##_rec##sfx, hook, alt, feeds)
VMMEM_PROGS(VMMEM_DECLARE, VMMEM_DECLARE_TWIN)
#undef VMMEM_DECLARE
#undef VMMEM_DECLARE_TWIN

/*
 * A counting program base##sfx and its recording twin base##_rec##sfx from one body, which
 * follows the macro and sees `ctx` (of type ctx_t, the hook's context) and `rec`, a
 * constant: the compiler drops every `if (rec)` emit from the counting build, arguments and
 * all, so it costs exactly what it did before records existed.
 *
 *	VMMEM_TWIN(tdp_fault, _btf, unsigned long long *)
 *	{
 *		...
 *	}
 */
#define VMMEM_TWIN(base, sfx, ctx_t)							\
	static __always_inline int base##sfx##_body(ctx_t ctx, const bool rec);		\
	int base##sfx(ctx_t ctx)							\
	{										\
		return base##sfx##_body(ctx, false);					\
	}										\
	int base##_rec##sfx(ctx_t ctx)							\
	{										\
		return base##sfx##_body(ctx, true);					\
	}										\
	static __always_inline int base##sfx##_body(ctx_t ctx, const bool rec)

/* The same for a classic tracepoint whose record is read through CO-RE: the body sees
 * `ctx` as a pointer to record_t. VMMEM_TWIN_TP(exit, _tp, struct trace_event_raw_kvm_exit) */
#define VMMEM_TWIN_TP(base, sfx, record_t)						\
	static __always_inline int base##sfx##_body(record_t *ctx, const bool rec);	\
	int base##sfx(void *ctx)							\
	{										\
		return base##sfx##_body(ctx, false);					\
	}										\
	int base##_rec##sfx(void *ctx)							\
	{										\
		return base##sfx##_body(ctx, true);					\
	}										\
	static __always_inline int base##sfx##_body(record_t *ctx, const bool rec)

/* The same with the hook's arguments typed and named, as BPF_PROG gives them (tp_btf,
 * fentry; libbpf's ___bpf_ctx_cast passes ctx and then each argument):
 * VMMEM_TWIN_ARGS(tlb_flush, _btf, int reason, unsigned long pages) { ... } */
#define VMMEM_TWIN_ARGS(base, sfx, args...)						\
	static __always_inline int base##sfx##_body(const bool rec, unsigned long long *ctx, ##args);		\
	int base##sfx(unsigned long long *ctx)						\
	{										\
		_Pragma("GCC diagnostic push")						\
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
		return base##sfx##_body(false, ___bpf_ctx_cast(args));			\
		_Pragma("GCC diagnostic pop")						\
	}										\
	int base##_rec##sfx(unsigned long long *ctx)					\
	{										\
		_Pragma("GCC diagnostic push")						\
		_Pragma("GCC diagnostic ignored \"-Wint-conversion\"")			\
		return base##sfx##_body(true, ___bpf_ctx_cast(args));			\
		_Pragma("GCC diagnostic pop")						\
	}										\
	static __always_inline int base##sfx##_body(const bool rec, unsigned long long *ctx, ##args)

/*
 * A handler that reads nothing of its hook's context, attached where the kernel allows: as
 * a tp_btf program base##_btf and as a classic tracepoint program base##_tp, the two rows of
 * one ALT group in the table. VMMEM_BTF_OR_TP(vm_exit, handle_vm_exit) defines vm_exit_btf
 * and vm_exit_tp, both calling handle_vm_exit().
 */
#define VMMEM_BTF_OR_TP(base, handler)							\
	int base##_btf(unsigned long long *ctx)						\
	{										\
		handler();								\
		return 0;								\
	}										\
	int base##_tp(void *ctx)							\
	{										\
		handler();								\
		return 0;								\
	}

#endif
