// SPDX-License-Identifier: MIT
/* Synthetic backend (--backend synthetic:N, tests and benches only): N made-up live VMs and
 * one exited one, every counter and histogram non-empty and every QMP fact present, so the
 * core and every view can be loaded (1000 VMs, the worst case for scrape size) without any
 * kernel hook. Each read advances every cumulative figure by one step: deltas per sample
 * are constant (VM i, counter k: i + k + 1), totals grow with the samples taken. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "host_state.h"
#include "source.h"

#define SYN_PID_BASE	4200000		/* above the default pid_max: never a real process */
#define SYN_MAX_VMS	(VMMEM_MAX_VMS - 1)	/* and one exited VM */

struct synthetic {
	int n;				/* live VMs */
	uint64_t round;			/* reads so far: the cumulative figures' step */
	uint64_t exited_seq;		/* the exited VM is a new one after each reap */
};

static const char synthetic_odd_name[] =
	"syn \"quoted\" back\\slash\nnewline \xc3\xbcnic\xc3\xb6" "de \xe2\x9c\x93";

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int syn_track(struct source *src, pid_t tgid)
{
	(void)src;
	(void)tgid;
	return -EINVAL;		/* only made-up VMs here */
}

/* Who is there: N live VMs, then the exited one. */
static void syn_list_into(struct synthetic *p, struct source_read *out, bool counters)
{
	out->ts_ns = mono_ns();
	out->wall_time = 0;
	out->nr_vms = p->n + 1;
	for (int i = 0; i <= p->n; i++) {
		struct source_vm *v = &out->vms[i];
		bool exited = i == p->n;

		v->tgid = SYN_PID_BASE + i;
		v->state = exited ? VMMEM_SLOT_EXITED : VMMEM_SLOT_LIVE;
		v->seq = exited ? p->exited_seq : (uint64_t)i + 1;
		v->unavailable = 0;
		memset(&v->lost, 0, sizeof(v->lost));
		if (!counters)
			continue;
		for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
			v->counters.c[k] = p->round * (uint64_t)(i + k + 1);
		/* every histogram non-empty: the worst case for scrape size */
		memset(&v->hists, 0, sizeof(v->hists));
		for (int h = 0; h < VMMEM_NR_VM_HISTS; h++) {
			for (int slot = 10; slot < 30; slot += 3)
				v->hists.h[h].slot[slot] = p->round;
			v->hists.h[h].sum_ns = p->round * 1000000;
		}
	}
}

static int syn_list(struct source *src, struct source_read *out)
{
	syn_list_into(src->priv, out, false);
	return 0;
}

static int syn_read(struct source *src, struct source_read *out)
{
	struct synthetic *p = src->priv;

	p->round++;
	syn_list_into(p, out, true);
	memset(&out->host, 0, sizeof(out->host));
	memset(&out->host_hists, 0, sizeof(out->host_hists));
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		out->host.c[k] = k == VMMEM_H_dropped_events ? 0 : p->round * (k + 1);
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++) {	/* every family present: strict parsers see all */
		out->host_hists.h[k].slot[30] = p->round;
		out->host_hists.h[k].sum_ns = p->round * 1500000000ull;
	}
	return 0;
}

static int syn_reap(struct source *src, pid_t tgid, uint64_t seq)
{
	struct synthetic *p = src->priv;

	if (tgid == SYN_PID_BASE + p->n && seq == p->exited_seq)
		p->exited_seq++;
	return 0;
}

static int syn_vm_info(struct source *src, pid_t tgid, uint64_t seq, struct vmm_info *v)
{
	struct synthetic *p = src->priv;
	int i = tgid - SYN_PID_BASE;

	(void)seq;
	if (i < 0 || i > p->n)
		return -ENOENT;
	memset(v, 0, sizeof(*v));
	v->pid = tgid;
	v->start_time = 1000 + i;
	snprintf(v->comm, sizeof(v->comm), "qemu-system-x86");
	if (i == p->n)
		snprintf(v->name, sizeof(v->name), "synthetic-exited");
	else if (i == 0)
		snprintf(v->name, sizeof(v->name), "%s", synthetic_odd_name);
	else
		snprintf(v->name, sizeof(v->name), "synthetic-%04d", i);
	v->has_kvm_vm_fd = true;
	v->vcpus = (struct opt_u64){ 1 + i % 8, true };
	v->mem_configured_kb = (struct opt_u64){ 1048576, true };
	v->rss_kb = (struct opt_u64){ 524288 + i, true };
	v->swap_kb = (struct opt_u64){ 0, true };
	v->anon_huge_kb = (struct opt_u64){ 2048 * (i % 4), true };
	v->anon_huge_time = (struct opt_u64){ 1700000000 + i, true };
	v->ksm.present = true;
	v->ksm.ksm_rmap_items = (struct opt_u64){ 100 + i, true };
	v->ksm.ksm_merging_pages = (struct opt_u64){ i % 10 ? 50 : 0, true };
	v->ksm.ksm_zero_pages = (struct opt_u64){ 0, true };
	/* every tenth VM costs KSM memory: a negative profit, as mm/ksm.c can report */
	v->ksm.ksm_process_profit = (struct opt_u64){
		(uint64_t)(i % 10 ? 50 * 4096 - 64 * (100 + i) : -64 * (100 + i)), true };
	/* every VM with a QMP socket that answered: the guest-side families at full size */
	snprintf(v->qmp.socket, sizeof(v->qmp.socket), "/run/synthetic-%04d.qmp", i);
	v->qmp.up = true;
	for (int k = 0; k < VMM_QMP_NR; k++)
		v->qmp.v[k] = (struct opt_u64){ (uint64_t)(k + 1) << 20, true };
	return 0;
}

static int syn_host_state(struct source *src, struct host_state *out)
{
	(void)src;
	return host_state_read("", out);	/* sysfs and /proc/meminfo only */
}

static void syn_close(struct source *src)
{
	free(src->priv);
	src->priv = NULL;
}

static const struct source_ops synthetic_ops = {
	SOURCE_OPS_REQUIRED(syn),
	SOURCE_OPS_FACTS(syn),
	.list = syn_list,
};

static int source_synthetic_open(struct source *src, const char *arg, const struct source_options *opt,
				 char *err, size_t errsz)
{
	struct synthetic *p;
	char *end;
	long n;

	(void)opt;
	memset(src, 0, sizeof(*src));
	errno = 0;
	n = strtol(arg, &end, 10);
	if (!*arg || *end || errno || n < 0 || n > SYN_MAX_VMS) {
		snprintf(err, errsz, "bad --backend synthetic:'%s': need a number of VMs from 0 to %d",
			 arg, SYN_MAX_VMS);
		return -EINVAL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->n = (int)n;
	p->exited_seq = (uint64_t)n + 1;
	for (int k = 0; k < VMMEM_NR_VM_COUNTERS; k++)
		src->available.vm[k] = true;
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		src->available.vm_hist[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_COUNTERS; k++)
		src->available.host[k] = true;
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		src->available.host_hist[k] = true;
	src->name = "synthetic";
	src->priv = p;
	src->ops = &synthetic_ops;
	return 0;
}

const struct source_factory source_synthetic_factory = {
	.prefix = "synthetic:",
	.open = source_synthetic_open,
};
