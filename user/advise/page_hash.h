/* SPDX-License-Identifier: MIT */
/* A seeded 64-bit hash of one page's contents, and a zero-page test: the only two things
 * the KSM forecast ever computes from guest memory. */
#ifndef VMMEM_PAGE_HASH_H
#define VMMEM_PAGE_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hash len bytes (a multiple of 32) at p with a per-run seed. */
uint64_t page_hash(const void *p, size_t len, uint64_t seed);

/* True if all len bytes (a multiple of 8) are zero. */
bool page_is_zero(const void *p, size_t len);

#endif
