// SPDX-License-Identifier: MIT
/* An oracle for crash tests of `vmmemtop record`: walks a recording's chunks with its own
 * CRC-32 (not zlib's, not the reader's code) and prints how much of the file is whole:
 *   size=BYTES header=0|1 chunks=N end=OFFSET
 * N complete chunks (magic, index in sequence, both checksums right) end at OFFSET; the
 * bytes after it, if any, must be the start of one chunk the recorder was writing when it
 * died: printed as tail=partial, or tail=garbage when they cannot be (a crash-safety bug).
 * Format: user/source/record_format.h (16-byte file header; 24-byte chunk header: magic "VRCK",
 * index, raw_len, comp_len, crc32(payload), crc32(the 20 bytes before); payload).
 * usage: rec_chunks FILE */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0xedb88320u : c >> 1;
	}
	return ~c;
}

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int main(int argc, char **argv)
{
	size_t size = 0, cap = 1 << 20, off = 16, n;
	uint32_t chunks = 0;
	const char *tail = "none";
	uint8_t *buf;
	FILE *f;

	if (argc != 2 || !(f = fopen(argv[1], "rb"))) {
		fprintf(stderr, "usage: rec_chunks FILE\n");
		return 2;
	}
	buf = malloc(cap);
	while (buf && (n = fread(buf + size, 1, cap - size, f)) > 0) {
		size += n;
		if (size == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		return 1;
	if (size < 16 || memcmp(buf, "VMMEMREC", 8)) {
		printf("size=%zu header=0 chunks=0 end=0 tail=%s\n", size,
		       size == 0 ? "none" : size < 16 && !memcmp(buf, "VMMEMREC", size < 8 ? size : 8) ?
		       "partial" : "garbage");
		return 0;
	}
	for (;;) {
		const uint8_t *h = buf + off;
		size_t left = size - off;
		uint32_t comp;

		if (left == 0)
			break;
		if (left < 24) {
			/* a cut header: whatever is there must agree with a chunk header's start */
			tail = left >= 4 && le32(h) != 0x4b435256u ? "garbage" : "partial";
			break;
		}
		comp = le32(h + 12);
		if (le32(h) != 0x4b435256u || le32(h + 4) != chunks || crc32_ieee(h, 20) != le32(h + 20)) {
			tail = "garbage";
			break;
		}
		if (left < 24 + (size_t)comp) {
			tail = "partial";
			break;
		}
		if (crc32_ieee(h + 24, comp) != le32(h + 16)) {
			tail = "garbage";
			break;
		}
		off += 24 + comp;
		chunks++;
	}
	printf("size=%zu header=1 chunks=%u end=%zu tail=%s\n", size, chunks, off, tail);
	free(buf);
	return 0;
}
