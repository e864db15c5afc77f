// SPDX-License-Identifier: MIT
/* Counter name tables, generated from the ABI X-macros so every view uses one name. */
#include <string.h>
#include <stdlib.h>
#include "snapshot.h"

#define NAME(n, u, h) #n,
#define UNIT(n, u, h) #u,
#define HELP(n, u, h) h,
const char *const vm_counter_names[VMMEM_NR_VM_COUNTERS] = { VMMEM_VM_COUNTERS(NAME) };
const char *const vm_counter_units[VMMEM_NR_VM_COUNTERS] = { VMMEM_VM_COUNTERS(UNIT) };
const char *const vm_counter_help[VMMEM_NR_VM_COUNTERS] = { VMMEM_VM_COUNTERS(HELP) };
const char *const host_counter_names[VMMEM_NR_HOST_COUNTERS] = { VMMEM_HOST_COUNTERS(NAME) };
const char *const host_counter_units[VMMEM_NR_HOST_COUNTERS] = { VMMEM_HOST_COUNTERS(UNIT) };
const char *const host_counter_help[VMMEM_NR_HOST_COUNTERS] = { VMMEM_HOST_COUNTERS(HELP) };

#define CAUSE(n) #n,
const char *const flush_cause_names[VMMEM_NR_FLUSH_CAUSES] = { VMMEM_FLUSH_CAUSES(CAUSE) };
_Static_assert(VMMEM_C_flushes_recv_ksmd + VMMEM_FLUSH_other == VMMEM_C_flushes_recv_other &&
	       VMMEM_C_flushes_recv_ksmd + VMMEM_FLUSH_numa == VMMEM_C_flushes_recv_numa,
	       "the flushes_recv_* counters follow VMMEM_FLUSH_CAUSES' order");
_Static_assert(VMMEM_SHOOT_COUNTER(VMMEM_FLUSH_kswapd) == VMMEM_C_shootdowns_recv_kswapd &&
	       VMMEM_SHOOT_COUNTER(VMMEM_FLUSH_other) == VMMEM_C_shootdowns_recv_other &&
	       VMMEM_C_shootdowns_recv_ksmd + VMMEM_NR_SHOOT_CAUSES - 1 == VMMEM_C_shootdowns_recv_other,
	       "the shootdowns_recv_* counters follow VMMEM_FLUSH_CAUSES' order, other last");

#define HNAME(n, h) #n,
#define HHELP(n, h) h,
const char *const vm_hist_names[VMMEM_NR_VM_HISTS] = { VMMEM_VM_HISTS(HNAME) };
const char *const vm_hist_help[VMMEM_NR_VM_HISTS] = { VMMEM_VM_HISTS(HHELP) };
const char *const host_hist_names[VMMEM_NR_HOST_HISTS] = { VMMEM_HOST_HISTS(HNAME) };
const char *const host_hist_help[VMMEM_NR_HOST_HISTS] = { VMMEM_HOST_HISTS(HHELP) };

uint64_t hist_count(const struct vmmem_hist *h)
{
	uint64_t n = 0;

	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		n += h->slot[i];
	return n;
}

uint64_t hist_quantile_ns(const struct vmmem_hist *h, double q)
{
	uint64_t n = hist_count(h), seen = 0, want;

	if (!n)
		return 0;
	want = (uint64_t)(q * n);
	if (want >= n)
		want = n - 1;
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++) {
		seen += h->slot[i];
		if (seen > want)
			return 2ull << i;
	}
	return 2ull << (VMMEM_HIST_SLOTS - 1);
}

int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int vm_counter_index(const char *name)
{
	return name_index(vm_counter_names, VMMEM_NR_VM_COUNTERS, name);
}

int host_counter_index(const char *name)
{
	return name_index(host_counter_names, VMMEM_NR_HOST_COUNTERS, name);
}

void snapshot_free(struct snapshot *s)
{
	free(s->vms);
	s->vms = NULL;
	s->nr_vms = 0;
}

bool snapshot_vm_matches(const struct vm_snapshot *v, pid_t pid, const char *text)
{
	if (pid && v->info.pid != pid)
		return false;
	return !text || !*text || strstr(v->info.name, text) || strstr(v->info.libvirt_domain, text) ||
	       strstr(v->info.uuid, text);
}

#define SNAP_SRC_NAME(name) #name,
const char *const snap_source_names[SNAP_NR_SOURCES] = { SNAPSHOT_SOURCES(SNAP_SRC_NAME) };
