/* SPDX-License-Identifier: MIT */
/* Reads a recording (format: record_format.h) as a stream of items. Every file is treated as
 * hostile: each length and count is checked against the bytes that hold it and against fixed
 * limits before anything is allocated or looped over. A damaged file yields every item before
 * the damage, then one error naming it (truncated, corrupt chunk, malformed record, version). */
#ifndef VMMEM_RECORD_READER_H
#define VMMEM_RECORD_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "record_format.h"
#include "snapshot.h"

struct rec_reader;

struct rec_meta {
	int nr;
	char key[REC_MAX_META][32];
	char value[REC_MAX_META][REC_MAX_STR + 1];
};

struct rec_vm {
	pid_t pid;
	uint64_t seq;
	bool exited;
	struct vmm_info info;
	struct vmmem_vm_counters total, delta;
	struct vmmem_vm_hists hist_total, hist_delta;
	struct vmmem_ev_lost lost;
};

struct rec_sample {
	uint64_t ts_ns, start_ts_ns;
	int64_t wall_time;
	struct vmmem_host_counters host_total, host_delta;
	struct vmmem_host_hists host_hist_total, host_hist_delta;
	struct counter_mask available;
	struct host_state host;
	int nr_vms;
	struct rec_vm *vms;		/* owned by the reader, valid until the next call */
};

struct rec_thread {
	pid_t pid, tid;
	char comm[REC_MAX_STR + 1];
};

struct rec_end {
	uint64_t ts_ns, events, samples;
};

enum rec_item_kind { REC_ITEM_SAMPLE, REC_ITEM_EVENT, REC_ITEM_THREAD, REC_ITEM_END };

struct rec_item {
	enum rec_item_kind kind;
	union {
		struct rec_sample sample;
		struct vmmem_event event;
		struct rec_thread thread;
		struct rec_end end;
	};
};

/* Open a file ("-": stdin) or a memory buffer (kept, not copied), and read the file header
 * and chunk 0 (meta, name tables). Returns 0, or a negative errno with one line in err:
 * -ENOENT/-EACCES.. (open), -EPROTO (not a recording, or malformed), -EPROTONOSUPPORT
 * (another format version), -EBADMSG (corrupt chunk), -ENODATA (cut short). */
int rec_reader_open_file(struct rec_reader **out, const char *path, char *err, size_t errsz);
int rec_reader_open_mem(struct rec_reader **out, const void *data, size_t len, char *err, size_t errsz);

/* Next item: 1 (filled *it), 0 at the clean end (after the end marker), or a negative errno
 * (as for open; rec_reader_error() says what and where). An error is final. */
int rec_reader_next(struct rec_reader *r, struct rec_item *it);
const char *rec_reader_error(const struct rec_reader *r);

const struct rec_meta *rec_reader_meta(const struct rec_reader *r);
/* Value of a meta key, or "" when the file has none. */
const char *rec_meta_get(const struct rec_meta *m, const char *key);

/* Event type name as the file names it (its REC_NAMES table), else "type<N>". */
const char *rec_reader_event_name(const struct rec_reader *r, unsigned type, char *buf, size_t sz);

/* Complete chunks read so far, and the file offset after them. */
uint32_t rec_reader_chunks(const struct rec_reader *r);
uint64_t rec_reader_offset(const struct rec_reader *r);

void rec_reader_close(struct rec_reader *r);

#endif
