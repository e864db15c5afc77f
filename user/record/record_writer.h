/* SPDX-License-Identifier: MIT */
/* Writes a recording (format: record_format.h): events, counter samples, vCPU thread names,
 * in zlib-compressed, checksummed chunks. Single-threaded: the recorder calls it from the
 * core's event callback and after each sample. */
#ifndef VMMEM_RECORD_WRITER_H
#define VMMEM_RECORD_WRITER_H

#include <stdint.h>
#include <sys/types.h>
#include "snapshot.h"

struct rec_writer;

struct rec_kv {
	const char *key, *value;
};

struct rec_writer_stats {
	uint64_t events, samples, chunks;
	uint64_t raw_bytes;		/* encoded records, before compression */
	uint64_t file_bytes;		/* written to the file, headers included */
};

/* Start a recording on fd (the file header and chunk 0 with meta and the name tables are
 * written at once). level: zlib level (1 fastest). Returns 0 or -errno. */
int rec_writer_open(struct rec_writer **out, int fd, const struct rec_kv *meta, int nr_meta, int level);

/* Append. Each returns 0 or -errno (a write error stays: later calls return it too). */
int rec_writer_event(struct rec_writer *w, const struct vmmem_event *ev);
int rec_writer_thread(struct rec_writer *w, pid_t pid, pid_t tid, const char *comm);
int rec_writer_sample(struct rec_writer *w, const struct snapshot *s);

/* Close the pending chunk (the file then holds everything appended so far). */
int rec_writer_flush(struct rec_writer *w);

/* Write the end marker and flush: the recording is complete. Does not close fd. */
int rec_writer_finish(struct rec_writer *w, uint64_t ts_ns);

void rec_writer_stats(const struct rec_writer *w, struct rec_writer_stats *out);
void rec_writer_free(struct rec_writer *w);

#endif
