// SPDX-License-Identifier: MIT
/* Recording writer: encodes records into a chunk buffer, compresses each chunk with one
 * reused deflate stream, and writes each chunk (header and payload) with one write(2), the
 * file header together with chunk 0, so a process killed at any moment leaves whole chunks
 * and at most one partial one (which the reader reports as the cut). Nothing is buffered in
 * user space past a flush; a killed process loses only the open chunk (the kernel keeps what
 * write(2) took). Power loss is another matter: nothing here calls fsync.
 *
 * Record bodies (varint = LEB128; str = varint length + bytes; opt = u8 present + varint;
 * hist = u8 n, n x (u8 slot, varint count), varint sum_ns; lists are as long as the file's
 * name table of that kind):
 *   SAMPLE: varint ts_ns, start_ts_ns, zigzag wall_time; host: counters total, delta; hists
 *           total, delta; available masks (varint bitmask per name table, in kind order);
 *           host facts; varint nr_vms; per VM: varint pid, seq, u8 flags, varint start_time,
 *           str comm, str name, VM facts; counters total, delta; hists total, delta; lost: varint
 *           n, n x varint events by type number, varint inflate bytes, varint deflate bytes;
 *           QMP: str socket, u8 flags (REC_QMP_*), str error, an opt per QMP name; after
 *           the last VM, per VM (same order) an opt per name of REC_NAMES_VM_FACTS (readers
 *           that predate that table stop before it: a record's trailing bytes are ignored).
 *   The facts are the FF_REC entries of user/facts/fact_table.h in table order: an opt per number,
 *   a str per string, a u8 per presence flag.
 *   EVENTS: varint n, varint ts of the first; per event: zigzag ts delta from the previous,
 *           u8 type, varint tgid, tid, cpu, a, b, dur_ns, flags. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "events.h"
#include "fact_table.h"
#include "record_format.h"
#include "record_writer.h"
#include "fileio.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

struct rec_writer {
	int fd;
	int err;			/* first write error, sticky */
	struct buf raw;			/* records of the open chunk */
	struct buf ev;			/* body of the open EVENTS record, after its count */
	uint64_t ev_n, ev_first_ts, ev_prev_ts;
	struct buf out;			/* [file header] chunk header + compressed payload */
	uint8_t hdr[REC_HEADER_SIZE];	/* the file header, written with chunk 0 */
	bool hdr_pending;
	z_stream zs;
	uint32_t chunk_index;
	struct rec_writer_stats st;
};

static void buf_reserve(struct buf *b, size_t more)
{
	size_t cap;
	uint8_t *p;

	if (b->oom || b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	b->p = p;
	b->cap = cap;
}

static void put_bytes(struct buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void put_u8(struct buf *b, uint8_t v)
{
	put_bytes(b, &v, 1);
}

static void put_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;

	do {
		tmp[n++] = (v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		v >>= 7;
	} while (v);
	put_bytes(b, tmp, n);
}

static void put_str(struct buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > REC_MAX_STR)
		n = REC_MAX_STR;

	put_varint(b, n);
	put_bytes(b, s, n);
}

static void put_opt(struct buf *b, struct opt_u64 v)
{
	put_u8(b, v.present);
	if (v.present)
		put_varint(b, v.v);
}

static void put_hist(struct buf *b, const struct vmmem_hist *h)
{
	uint8_t n = 0;

	for (int i = 0; i < VMMEM_HIST_SLOTS; i++)
		n += h->slot[i] != 0;
	put_u8(b, n);
	for (int i = 0; i < VMMEM_HIST_SLOTS; i++) {
		if (!h->slot[i])
			continue;
		put_u8(b, i);
		put_varint(b, h->slot[i]);
	}
	put_varint(b, h->sum_ns);
}

static void put_record(struct buf *raw, uint8_t type, const struct buf *body)
{
	put_u8(raw, type);
	put_varint(raw, body->len);
	put_bytes(raw, body->p, body->len);
}

/* Close the open EVENTS record into the chunk. */
static void close_events(struct rec_writer *w)
{
	struct buf head = { 0 };

	if (!w->ev_n)
		return;
	put_varint(&head, w->ev_n);
	put_varint(&head, w->ev_first_ts);
	put_u8(&w->raw, REC_EVENTS);
	put_varint(&w->raw, head.len + w->ev.len);
	put_bytes(&w->raw, head.p, head.len);
	put_bytes(&w->raw, w->ev.p, w->ev.len);
	w->raw.oom |= head.oom;
	free(head.p);
	w->st.events += w->ev_n;
	w->ev_n = 0;
	w->ev.len = 0;
}

int rec_writer_flush(struct rec_writer *w)
{
	uint8_t *ch;
	uLong bound;
	size_t pre;
	int ret;

	if (w->err)
		return w->err;
	close_events(w);
	if (w->raw.oom || w->ev.oom)
		return w->err = -ENOMEM;
	if (!w->raw.len)
		return 0;
	bound = deflateBound(&w->zs, w->raw.len);
	pre = w->hdr_pending ? REC_HEADER_SIZE : 0;
	w->out.len = 0;
	buf_reserve(&w->out, pre + REC_CHUNK_HEADER_SIZE + bound);
	if (w->out.oom)
		return w->err = -ENOMEM;
	memcpy(w->out.p, w->hdr, pre);
	ch = w->out.p + pre;
	deflateReset(&w->zs);
	w->zs.next_in = w->raw.p;
	w->zs.avail_in = w->raw.len;
	w->zs.next_out = ch + REC_CHUNK_HEADER_SIZE;
	w->zs.avail_out = bound;
	if (deflate(&w->zs, Z_FINISH) != Z_STREAM_END)
		return w->err = -EIO;
	w->out.len = pre + REC_CHUNK_HEADER_SIZE + w->zs.total_out;
	rec_put_le32(ch, REC_CHUNK_MAGIC);
	rec_put_le32(ch + 4, w->chunk_index);
	rec_put_le32(ch + 8, w->raw.len);
	rec_put_le32(ch + 12, w->zs.total_out);
	rec_put_le32(ch + 16, crc32(0, ch + REC_CHUNK_HEADER_SIZE, w->zs.total_out));
	rec_put_le32(ch + 20, crc32(0, ch, 20));
	ret = fd_write_all(w->fd, w->out.p, w->out.len);
	if (ret)
		return w->err = ret;
	w->hdr_pending = false;
	w->chunk_index++;
	w->st.chunks++;
	w->st.raw_bytes += w->raw.len;
	w->st.file_bytes += w->out.len;
	w->raw.len = 0;
	return 0;
}

static int maybe_flush(struct rec_writer *w)
{
	if (w->raw.len + w->ev.len >= REC_CHUNK_TARGET)
		return rec_writer_flush(w);
	return w->err;
}

static void put_names(struct buf *raw, uint8_t kind, const char *const *names, int n)
{
	struct buf body = { 0 };
	uint8_t count = 0;

	for (int i = 0; i < n; i++)
		count += names[i] != NULL;
	put_u8(&body, kind);
	put_u8(&body, count);
	for (int i = 0; i < n; i++) {
		if (!names[i])
			continue;
		put_u8(&body, i);
		put_str(&body, names[i]);
	}
	put_record(raw, REC_NAMES, &body);
	raw->oom |= body.oom;
	free(body.p);
}

int rec_writer_open(struct rec_writer **out, int fd, const struct rec_kv *meta, int nr_meta, int level)
{
	struct rec_writer *w = calloc(1, sizeof(*w));
	struct buf body = { 0 };
	int ret;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	if (deflateInit(&w->zs, level) != Z_OK) {
		free(w);
		return -ENOMEM;
	}
	memcpy(w->hdr, REC_MAGIC, 8);
	rec_put_le16(w->hdr + 8, REC_VERSION);
	rec_put_le16(w->hdr + 10, REC_HEADER_SIZE);
	w->hdr_pending = true;		/* goes out with chunk 0 (below), in one write */
	if (nr_meta > REC_MAX_META)
		nr_meta = REC_MAX_META;
	put_u8(&body, nr_meta);
	for (int i = 0; i < nr_meta; i++) {
		put_str(&body, meta[i].key);
		put_str(&body, meta[i].value);
	}
	put_record(&w->raw, REC_META, &body);
	w->raw.oom |= body.oom;
	free(body.p);
	put_names(&w->raw, REC_NAMES_VM_COUNTERS, vm_counter_names, VMMEM_NR_VM_COUNTERS);
	put_names(&w->raw, REC_NAMES_HOST_COUNTERS, host_counter_names, VMMEM_NR_HOST_COUNTERS);
	put_names(&w->raw, REC_NAMES_VM_HISTS, vm_hist_names, VMMEM_NR_VM_HISTS);
	put_names(&w->raw, REC_NAMES_HOST_HISTS, host_hist_names, VMMEM_NR_HOST_HISTS);
	put_names(&w->raw, REC_NAMES_EVENTS, event_names, VMMEM_NR_EV_TYPES);
	put_names(&w->raw, REC_NAMES_QMP, vmm_qmp_names, VMM_QMP_NR);
	{
		const char *recn[VM_NR_FACTS];
		int nr = 0;

		for (int k = 0; k < VM_NR_FACTS; k++)
			if (vm_facts[k].flags & FF_RECN)
				recn[nr++] = vm_facts[k].name;
		put_names(&w->raw, REC_NAMES_VM_FACTS, recn, nr);
	}
	ret = rec_writer_flush(w);
	if (ret) {
		rec_writer_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

int rec_writer_event(struct rec_writer *w, const struct vmmem_event *ev)
{
	struct buf *b = &w->ev;

	if (w->err)
		return w->err;
	if (!w->ev_n) {
		w->ev_first_ts = ev->ts_ns;
		w->ev_prev_ts = ev->ts_ns;
	}
	put_varint(b, rec_zigzag((int64_t)(ev->ts_ns - w->ev_prev_ts)));
	w->ev_prev_ts = ev->ts_ns;
	put_u8(b, ev->type < 256 ? ev->type : 255);
	put_varint(b, ev->tgid);
	put_varint(b, ev->tid);
	put_varint(b, ev->cpu);
	put_varint(b, ev->a);
	put_varint(b, ev->b);
	put_varint(b, ev->dur_ns);
	put_varint(b, ev->flags);
	w->ev_n++;
	if (w->ev_n >= REC_MAX_EVENTS_PER_REC)
		close_events(w);
	return maybe_flush(w);
}

int rec_writer_thread(struct rec_writer *w, pid_t pid, pid_t tid, const char *comm)
{
	struct buf body = { 0 };

	if (w->err)
		return w->err;
	close_events(w);
	put_varint(&body, (uint32_t)pid);
	put_varint(&body, (uint32_t)tid);
	put_str(&body, comm);
	put_record(&w->raw, REC_THREAD, &body);
	w->raw.oom |= body.oom;
	free(body.p);
	return maybe_flush(w);
}

static void put_counters(struct buf *b, const __u64 *c, int n)
{
	for (int k = 0; k < n; k++)
		put_varint(b, c[k]);
}

static uint64_t mask_of(const bool *avail, int n)
{
	uint64_t m = 0;

	for (int k = 0; k < n && k < 64; k++)
		if (avail[k])
			m |= 1ull << k;
	return m;
}

/* The facts of table that are in the fixed layout (FF_REC), in table order. */
static void put_facts(struct buf *b, const struct fact *table, int n, const void *base)
{
	for (int k = 0; k < n; k++) {
		const struct fact *f = &table[k];

		if (!(f->flags & FF_REC))
			continue;
		if (f->type == FACT_U64)
			put_opt(b, *fact_u64(f, base));
		else if (f->type == FACT_STR)
			put_str(b, fact_str(f, base));
		else
			put_u8(b, *fact_flag(f, base));
	}
}

static void put_vm(struct buf *b, const struct vm_snapshot *v)
{
	const struct vmm_info *i = &v->info;

	put_varint(b, (uint32_t)i->pid);
	put_varint(b, v->seq);
	put_u8(b, (v->exited ? REC_VM_EXITED : 0) | REC_VM_HAVE_INFO);
	put_varint(b, i->start_time);
	put_str(b, i->comm);
	put_str(b, i->name);
	put_facts(b, vm_facts, VM_NR_FACTS, i);
	put_counters(b, v->total.c, VMMEM_NR_VM_COUNTERS);
	put_counters(b, v->delta.c, VMMEM_NR_VM_COUNTERS);
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		put_hist(b, &v->hist_total.h[k]);
	for (int k = 0; k < VMMEM_NR_VM_HISTS; k++)
		put_hist(b, &v->hist_delta.h[k]);
	put_varint(b, VMMEM_NR_EV_TYPES);
	for (int k = 0; k < VMMEM_NR_EV_TYPES; k++)
		put_varint(b, v->ev_lost.events[k]);
	put_varint(b, v->ev_lost.balloon_inflate_bytes);
	put_varint(b, v->ev_lost.balloon_deflate_bytes);
	put_str(b, i->qmp.socket);
	put_u8(b, (i->qmp.abstract ? REC_QMP_ABSTRACT : 0) | (i->qmp.up ? REC_QMP_UP : 0));
	put_str(b, i->qmp.error);
	for (int k = 0; k < VMM_QMP_NR; k++)
		put_opt(b, i->qmp.v[k]);
}

int rec_writer_sample(struct rec_writer *w, const struct snapshot *s)
{
	struct buf body = { 0 };

	if (w->err)
		return w->err;
	close_events(w);
	put_varint(&body, s->ts_ns);
	put_varint(&body, s->start_ts_ns);
	put_varint(&body, rec_zigzag(s->wall_time));
	put_counters(&body, s->host_total.c, VMMEM_NR_HOST_COUNTERS);
	put_counters(&body, s->host_delta.c, VMMEM_NR_HOST_COUNTERS);
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		put_hist(&body, &s->host_hist_total.h[k]);
	for (int k = 0; k < VMMEM_NR_HOST_HISTS; k++)
		put_hist(&body, &s->host_hist_delta.h[k]);
	put_varint(&body, mask_of(s->available.vm, VMMEM_NR_VM_COUNTERS));
	put_varint(&body, mask_of(s->available.host, VMMEM_NR_HOST_COUNTERS));
	put_varint(&body, mask_of(s->available.vm_hist, VMMEM_NR_VM_HISTS));
	put_varint(&body, mask_of(s->available.host_hist, VMMEM_NR_HOST_HISTS));
	put_facts(&body, host_facts, HOST_NR_FACTS, &s->host);
	put_varint(&body, s->nr_vms);
	for (int i = 0; i < s->nr_vms; i++)
		put_vm(&body, &s->vms[i]);
	for (int i = 0; i < s->nr_vms; i++)
		for (int k = 0; k < VM_NR_FACTS; k++)
			if (vm_facts[k].flags & FF_RECN)
				put_opt(&body, *fact_u64(&vm_facts[k], &s->vms[i].info));
	put_record(&w->raw, REC_SAMPLE, &body);
	w->raw.oom |= body.oom;
	free(body.p);
	w->st.samples++;
	return maybe_flush(w);
}

int rec_writer_finish(struct rec_writer *w, uint64_t ts_ns)
{
	struct buf body = { 0 };

	if (w->err)
		return w->err;
	close_events(w);
	put_varint(&body, ts_ns);
	put_varint(&body, w->st.events);
	put_varint(&body, w->st.samples);
	put_record(&w->raw, REC_END, &body);
	w->raw.oom |= body.oom;
	free(body.p);
	return rec_writer_flush(w);
}

void rec_writer_stats(const struct rec_writer *w, struct rec_writer_stats *out)
{
	*out = w->st;
	out->events += w->ev_n;		/* appended, not yet in a closed record */
}

void rec_writer_free(struct rec_writer *w)
{
	if (!w)
		return;
	deflateEnd(&w->zs);
	free(w->raw.p);
	free(w->ev.p);
	free(w->out.p);
	free(w);
}
