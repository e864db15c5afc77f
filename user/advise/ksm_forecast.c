// SPDX-License-Identifier: MIT
/* KSM forecast arithmetic. What the kernel does, and what is counted here:
 * - KSM merges every group of identical anonymous pages into one KSM page: the group's
 *   c pages become 1 (pages_shared) plus c - 1 mappings of it (pages_sharing), so a group
 *   saves c - 1 pages (mm/ksm.c, stable_tree_search/stable_tree_insert).
 * - One KSM page takes at most max_page_sharing sharers; a larger group gets further
 *   duplicates of the KSM page chained to the same stable node (stable_node_dup), so it saves
 *   c - ceil(c / max_page_sharing) pages.
 * - With use_zero_pages=1 a zero page is mapped to the kernel's zero page instead
 *   (cmp_and_merge_page -> try_to_merge_one_page with ZERO_PAGE): every zero page is saved,
 *   and it counts in ksm_zero_pages, not pages_sharing.
 * - To merge a subpage of a THP, KSM splits it (try_to_merge_one_page -> split_folio); since
 *   6.12 ("mm: remap unused subpages to shared zeropage when splitting isolated thp") the split
 *   maps the THP's zero-filled subpages to the zero page: they are freed, in neither
 *   pages_sharing nor ksm_zero_pages, and are kept out of the zero group here (thp_zero).
 * Per VM, a group's first page of the first VM holding it stays; its other copies in that VM
 * are dup_within; another VM's first copy is dup_across and its further copies dup_within. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "ksm_forecast.h"

static int key_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t cap_loss(uint64_t c, unsigned int mps)
{
	return c ? (c + mps - 1) / mps - 1 : 0;
}

int ksm_forecast_count(uint64_t *keys, size_t n, const uint64_t *zero, const uint64_t *thp_zero,
		       const uint64_t *pages,
		       int nr_vms, unsigned int mps, struct kf_result *vms, struct kf_result *host)
{
	uint64_t zero_total = 0;
	int keeper = -1;

	if (nr_vms < 0 || nr_vms > KF_MAX_VMS || (n && !keys))
		return -EINVAL;
	if (!mps)
		mps = 256;
	if (mps < 2)
		return -EINVAL;
	memset(vms, 0, sizeof(*vms) * nr_vms);
	memset(host, 0, sizeof(*host));
	if (n)
		qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		uint64_t h = keys[i] >> KF_VM_BITS;

		for (j = i + 1; j < n && keys[j] >> KF_VM_BITS == h; j++) {
			int v = KF_KEY_VM(keys[j]);

			if (v >= nr_vms)
				return -EINVAL;
			if (v == KF_KEY_VM(keys[j - 1]))
				vms[v].dup_within++;
			else
				vms[v].dup_across++;
		}
		if (KF_KEY_VM(keys[i]) >= nr_vms)
			return -EINVAL;
		vms[KF_KEY_VM(keys[i])].cap_loss += cap_loss(j - i, mps);
	}
	/* the zero pages are one more group, kept out of the keys */
	for (int v = 0; v < nr_vms; v++) {
		if (!zero[v])
			continue;
		if (keeper < 0)
			keeper = v;
		else
			vms[v].dup_across++;
		vms[v].dup_within += zero[v] - 1;
		zero_total += zero[v];
	}
	if (keeper >= 0)
		vms[keeper].cap_loss += cap_loss(zero_total, mps);
	for (int v = 0; v < nr_vms; v++) {
		struct kf_result *r = &vms[v];
		/* what the zero group saved for this VM under use_zero_pages=0 */
		uint64_t zsaved = !zero[v] ? 0 : zero[v] - (v == keeper) -
				  (v == keeper ? cap_loss(zero_total, mps) : 0);

		r->scanned = pages[v];
		r->thp_zero = thp_zero ? thp_zero[v] : 0;
		r->zero = zero[v] + r->thp_zero;
		r->saved = r->dup_within + r->dup_across - r->cap_loss;
		r->saved_uzp = r->saved - zsaved + r->zero;
		r->freed = r->saved + r->thp_zero;
		host->scanned += r->scanned;
		host->zero += r->zero;
		host->dup_within += r->dup_within;
		host->dup_across += r->dup_across;
		host->cap_loss += r->cap_loss;
		host->saved += r->saved;
		host->saved_uzp += r->saved_uzp;
		host->thp_zero += r->thp_zero;
		host->freed += r->freed;
	}
	return 0;
}
