// SPDX-License-Identifier: MIT
/* libFuzzer target: the recording reader and the report built on it, fed arbitrary bytes.
 * Anything but a clean return (a crash, a sanitizer report, a leak, a hang) is a bug: the
 * reader must treat every file as hostile (user/source/record_reader.c).
 *
 * Chunks are compressed and checksummed, so byte-level mutations almost never get past the
 * CRC to the record parser. A custom mutator therefore also mutates inside a chunk: inflate
 * it, mutate the records, deflate, and write a correct header (libFuzzer's structure-aware
 * fuzzing); plain mutations of the whole file still exercise the header and checksum paths. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#include "record_reader.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define MUT_RAW_MAX	(256u << 10)

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	static uint8_t raw[MUT_RAW_MAX], comp[MUT_RAW_MAX + 1024], out[1 << 17];
	size_t offs[64], n = 0, off = REC_HEADER_SIZE, at, end, len;
	uLongf raw_len = sizeof(raw), comp_len = sizeof(comp);
	uint32_t r = seed * 2654435761u;

	while (n < 64 && off + REC_CHUNK_HEADER_SIZE <= size) {
		size_t c = rec_get_le32(data + off + 12);

		if (c > size - off - REC_CHUNK_HEADER_SIZE)
			break;
		offs[n++] = off;
		off += REC_CHUNK_HEADER_SIZE + c;
	}
	if (!n || r % 4 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	at = offs[(r >> 2) % n];
	end = at + REC_CHUNK_HEADER_SIZE + rec_get_le32(data + at + 12);
	if (uncompress(raw, &raw_len, data + at + REC_CHUNK_HEADER_SIZE, end - at - REC_CHUNK_HEADER_SIZE) != Z_OK)
		return LLVMFuzzerMutate(data, size, max_size);
	raw_len = LLVMFuzzerMutate(raw, raw_len, sizeof(raw) / 2);
	if (!raw_len || compress2(comp, &comp_len, raw, raw_len, (r >> 8) & 1) != Z_OK)
		return LLVMFuzzerMutate(data, size, max_size);
	len = at + REC_CHUNK_HEADER_SIZE + comp_len + (size - end);
	if (len > max_size || len > sizeof(out))
		return LLVMFuzzerMutate(data, size, max_size);
	memcpy(out, data, at + REC_CHUNK_HEADER_SIZE);
	memcpy(out + at + REC_CHUNK_HEADER_SIZE, comp, comp_len);
	memcpy(out + at + REC_CHUNK_HEADER_SIZE + comp_len, data + end, size - end);
	rec_put_le32(out + at + 8, raw_len);
	rec_put_le32(out + at + 12, comp_len);
	rec_put_le32(out + at + 16, crc32(0, comp, comp_len));
	rec_put_le32(out + at + 20, crc32(0, out + at, 20));
	memcpy(data, out, len);
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct report rp;
	struct rec_reader *r;
	struct rec_item it;
	char err[512];
	uint64_t sum = 0;
	int ret;

	if (rec_reader_open_mem(&r, data, size, err, sizeof(err)) == 0) {
		while ((ret = rec_reader_next(r, &it)) > 0) {
			/* touch what an item hands out, so that the sanitizers see every byte */
			if (it.kind == REC_ITEM_SAMPLE)
				for (int i = 0; i < it.sample.nr_vms; i++)
					sum += it.sample.vms[i].total.c[0] + strlen(it.sample.vms[i].info.name);
			else if (it.kind == REC_ITEM_THREAD)
				sum += strlen(it.thread.comm);
			else if (it.kind == REC_ITEM_EVENT)
				sum += it.event.a;
		}
		if (ret < 0 && (!rec_reader_error(r)[0] || strchr(rec_reader_error(r), '\n')))
			__builtin_trap();	/* an error must be one line, never empty */
		rec_reader_close(r);
	} else if (!err[0] || strchr(err, '\n')) {
		__builtin_trap();
	}
	report_build_mem(&rp, data, size, 10, err, sizeof(err));
	report_sort_top(&rp);
	report_free(&rp);
	return sum == 42 ? 0 : 0;
}
