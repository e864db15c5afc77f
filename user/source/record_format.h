/* SPDX-License-Identifier: MIT */
/* The recording file format (vmmemtop record / report / replay), shared by the writer and the
 * reader: constants, record types, limits, and the byte-level encoders. Documented in README
 * ("Recording file format"). Everything is little-endian; integers inside records are LEB128
 * varints unless said otherwise.
 *
 *   file   = file header (16 bytes, uncompressed) chunk*
 *   header = "VMMEMREC" u16 version u16 header_size u32 flags(0)
 *   chunk  = u32 magic "VRCK" u32 index u32 raw_len u32 comp_len u32 crc32(payload)
 *            u32 crc32(the 20 bytes before) payload(comp_len bytes: one zlib stream of raw_len)
 *   raw    = record*    (a record never spans two chunks)
 *   record = u8 type, varint length, body(length bytes)
 *
 * Each chunk is compressed and checksummed on its own, so a file cut anywhere still gives
 * every chunk before the cut. Chunk 0 describes the file (META and NAMES records), so a reader
 * maps counters and event types by name, not by position. */
#ifndef VMMEM_RECORD_FORMAT_H
#define VMMEM_RECORD_FORMAT_H

#include <stdint.h>
#include <string.h>

#define REC_MAGIC		"VMMEMREC"
#define REC_VERSION		1
#define REC_HEADER_SIZE		16
#define REC_CHUNK_MAGIC		0x4b435256u	/* "VRCK" little-endian */
#define REC_CHUNK_HEADER_SIZE	24

/* Limits a reader enforces before it allocates or loops on anything a file says. */
#define REC_MAX_CHUNK_RAW	(16u << 20)
#define REC_MAX_CHUNK_COMP	(REC_MAX_CHUNK_RAW + (REC_MAX_CHUNK_RAW >> 8) + 64)	/* > compressBound */
#define REC_MAX_ZLIB_RATIO	1032u	/* deflate cannot expand 1 byte into more than ~1032 */
#define REC_MAX_NAMES		64	/* per name table */
#define REC_MAX_NAME_LEN	64
#define REC_MAX_STR		255
#define REC_MAX_META		32
#define REC_MAX_EVENTS_PER_REC	(1u << 20)

/* The writer closes a chunk when this much raw data is pending, or on flush. */
#define REC_CHUNK_TARGET	(256u << 10)

enum rec_type {
	REC_META = 1,		/* u8 n, n x (str key, str value) */
	REC_NAMES = 2,		/* u8 kind, u8 n, n x (u8 number, str name) */
	REC_SAMPLE = 3,		/* one counter sample: host part, then each VM (see record_writer.c) */
	REC_EVENTS = 4,		/* varint n, n x event (delta-encoded, see record_writer.c) */
	REC_THREAD = 5,		/* varint pid, varint tid, str comm: names a vCPU thread once */
	REC_END = 6,		/* varint ts_ns, varint events, varint samples: a clean end */
};

/* Name tables of REC_NAMES: values in a file are keyed by these names. */
enum rec_names_kind {
	REC_NAMES_VM_COUNTERS = 1,
	REC_NAMES_HOST_COUNTERS = 2,
	REC_NAMES_VM_HISTS = 3,
	REC_NAMES_HOST_HISTS = 4,
	REC_NAMES_EVENTS = 5,
	REC_NAMES_QMP = 6,		/* QMP values of a VM (user/facts/vmm_qmp.h) */
	REC_NAMES_VM_FACTS = 7,		/* VM facts recorded by name (FF_RECN in fact_table.h) */
	REC_NAMES_NR_KINDS = 8,
};

/* flags of a VM in a REC_SAMPLE */
#define REC_VM_EXITED		1u
#define REC_VM_HAVE_INFO	2u

/* flags of a VM's QMP part */
#define REC_QMP_ABSTRACT	1u
#define REC_QMP_UP		2u

static inline void rec_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void rec_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static inline uint16_t rec_get_le16(const uint8_t *p)
{
	return p[0] | (uint16_t)p[1] << 8;
}

static inline uint32_t rec_get_le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* zigzag: small negative deltas (events from another CPU a little earlier) stay small */
static inline uint64_t rec_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t rec_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

#endif
