/* SPDX-License-Identifier: MIT */
/* KSM forecast arithmetic: from the hashes of every scanned page, what KSM would save once
 * converged, per VM and for the host. Pure logic (no I/O): unit-tested. */
#ifndef VMMEM_KSM_FORECAST_H
#define VMMEM_KSM_FORECAST_H

#include <stddef.h>
#include <stdint.h>

/* A key is the page hash with the VM's index in its low bits: sorting the keys sorts pages by
 * content, then by VM. 52 hash bits stay; see README "KSM forecast" for why that suffices. */
#define KF_VM_BITS	12
#define KF_MAX_VMS	(1 << KF_VM_BITS)
#define KF_KEY(hash, vm)	(((hash) & ~(uint64_t)(KF_MAX_VMS - 1)) | (uint64_t)(vm))
#define KF_KEY_VM(key)		((int)((key) & (KF_MAX_VMS - 1)))

/* Pages, per VM or for the host. */
struct kf_result {
	uint64_t scanned;	/* present anonymous pages read (zero ones included) */
	uint64_t zero;		/* of which all bytes are 0 */
	uint64_t dup_within;	/* a copy of a page this VM already holds */
	uint64_t dup_across;	/* this VM's first copy of a page another VM scanned first */
	uint64_t cap_loss;	/* pages kept because a KSM page takes max_page_sharing sharers */
	uint64_t saved;		/* dup_within + dup_across - cap_loss: pages_sharing, use_zero_pages=0 */
	uint64_t saved_uzp;	/* with use_zero_pages=1: zero pages all go to the kernel's zero page */
	uint64_t thp_zero;	/* zero subpages of THPs that KSM's split maps to the zero page */
	uint64_t freed;		/* memory freed: saved + thp_zero (use_zero_pages=0) */
};

/* Sort keys[0..n) in place and count. zero[v] is VM v's zero pages that KSM merges (kept
 * out of keys); thp_zero[v] its zero pages inside THPs that splitting frees (kernels >= 6.12,
 * see ksm_scan.h; NULL: none); pages[v] its scanned pages (all zero pages included). max_page_sharing as in /sys/kernel/mm/ksm (0:
 * the default 256). vms[0..nr_vms) and host are overwritten. Returns 0 or -EINVAL. */
int ksm_forecast_count(uint64_t *keys, size_t n, const uint64_t *zero, const uint64_t *thp_zero,
		       const uint64_t *pages,
		       int nr_vms, unsigned int max_page_sharing, struct kf_result *vms,
		       struct kf_result *host);

#endif
