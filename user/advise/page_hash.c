// SPDX-License-Identifier: MIT
/* Page hash for the KSM forecast: four independent multiply-rotate lanes over 64-bit words
 * (the round shape of the well-known xxHash64 family, written from its description), merged
 * and passed through a 64-bit finaliser so that every input bit reaches every output bit.
 * The seed is random per run: hashes mean nothing outside the process that made them, and a
 * guest cannot craft pages that collide to inflate the forecast. */
#include <string.h>
#include "page_hash.h"

#define P1 0x9e3779b185ebca87ULL
#define P2 0xc2b2ae3d27d4eb4fULL
#define P3 0x165667b19e3779f9ULL

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t round1(uint64_t acc, uint64_t w)
{
	return rotl(acc + w * P2, 31) * P1;
}

/* murmur3's fmix64: full avalanche */
static inline uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

uint64_t page_hash(const void *p, size_t len, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t a0 = seed + P1 + P2, a1 = seed + P2, a2 = seed, a3 = seed - P1, w[4], h;

	for (size_t i = 0; i + 32 <= len; i += 32) {
		memcpy(w, b + i, 32);
		a0 = round1(a0, w[0]);
		a1 = round1(a1, w[1]);
		a2 = round1(a2, w[2]);
		a3 = round1(a3, w[3]);
	}
	h = rotl(a0, 1) + rotl(a1, 7) + rotl(a2, 12) + rotl(a3, 18);
	h = (h ^ round1(0, a0)) * P1 + P3;
	h = (h ^ round1(0, a1)) * P1 + P3;
	h = (h ^ round1(0, a2)) * P1 + P3;
	h = (h ^ round1(0, a3)) * P1 + P3;
	return fmix(h + len);
}

bool page_is_zero(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t w[8], acc = 0;

	for (size_t i = 0; i + 64 <= len; i += 64) {
		memcpy(w, b + i, 64);
		acc |= w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7];
		if (acc)
			return false;
	}
	return true;
}
