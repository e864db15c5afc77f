// SPDX-License-Identifier: MIT
/* Recording reader. The input is hostile: a chunk's lengths are checked against fixed limits
 * and the bytes left before anything is allocated, its checksum before it is inflated, and every
 * field of a record through a cursor that cannot pass the record's end. Counts (VMs, events)
 * are checked against the bytes that would have to hold them. Strings are cut to their buffers
 * and anything but printable ASCII becomes '?', so a file cannot drive the terminal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include "events.h"
#include "fact_table.h"
#include "record_reader.h"

struct rec_reader {
	FILE *f;
	bool own_f;
	const uint8_t *mem;
	size_t mem_len, mem_pos;
	bool size_known;
	uint64_t file_size;
	uint64_t offset;		/* bytes consumed */
	uint32_t chunks;		/* complete chunks read */
	uint64_t chunk_off;		/* offset of the chunk whose records are being read */
	uint8_t *comp, *raw;
	size_t comp_cap, raw_cap, raw_len, raw_pos;
	z_stream zs;
	bool zs_ready;
	/* name tables: per kind, the local index of each file index (-1: unknown here) */
	bool have_names[REC_NAMES_NR_KINDS];
	int nr_names[REC_NAMES_NR_KINDS];
	int map[REC_NAMES_NR_KINDS][REC_MAX_NAMES];
	char ev_names[256][REC_MAX_NAME_LEN + 1];
	struct rec_meta meta;
	/* the EVENTS record being read */
	const uint8_t *ev_p, *ev_end;
	uint64_t ev_left, ev_ts;
	struct rec_vm *vms;
	int vms_cap;
	bool ended;
	int err;
	char errmsg[320];
};

/* ---- a cursor that cannot leave its record ---- */

struct cur {
	const uint8_t *p, *end;
	const char *why;		/* first problem; NULL while fine */
};

static void bad(struct cur *c, const char *why)
{
	if (!c->why)
		c->why = why;
	c->p = c->end;
}

static uint8_t get_u8(struct cur *c)
{
	if (c->p >= c->end) {
		bad(c, "the record ends inside a field");
		return 0;
	}
	return *c->p++;
}

static uint64_t get_varint(struct cur *c)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 70; shift += 7) {
		uint8_t b;

		if (c->p >= c->end) {
			bad(c, "the record ends inside a number");
			return 0;
		}
		b = *c->p++;
		if (shift == 63 && b > 1) {
			bad(c, "a number does not fit in 64 bits");
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	bad(c, "a number does not fit in 64 bits");
	return 0;
}

/* Keep printable ASCII and well-formed UTF-8 (VM names may be UTF-8); control characters
 * (C0, DEL, C1) and malformed or cut sequences become '?'. */
static void sanitize(char *str)
{
	unsigned char *s = (unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		uint32_t cp, min;
		int n;

		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				*s = '?';
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07, min = 0x10000;
		else
			n = -1, cp = 0, min = 0;
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80) {
				n = -1;
				break;
			}
			cp = cp << 6 | (s[i] & 0x3f);
		}
		if (n < 0 || cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp <= 0x9f) {
			*s++ = '?';
			continue;
		}
		s += n + 1;
	}
}

/* copies at most sz-1 bytes; longer strings are cut, not refused */
static void get_str(struct cur *c, char *buf, size_t sz)
{
	uint64_t n = get_varint(c);
	size_t keep;

	buf[0] = 0;
	if (c->why)
		return;
	if (n > REC_MAX_STR) {
		bad(c, "a string is longer than 255 bytes");
		return;
	}
	if (n > (uint64_t)(c->end - c->p)) {
		bad(c, "a string runs past the end of its record");
		return;
	}
	keep = n < sz - 1 ? n : sz - 1;
	memcpy(buf, c->p, keep);
	buf[keep] = 0;
	sanitize(buf);
	c->p += n;
}

static struct opt_u64 get_opt(struct cur *c)
{
	struct opt_u64 o = { 0 };
	uint8_t present = get_u8(c);

	if (present > 1) {
		bad(c, "an optional value has a bad presence flag");
		return o;
	}
	if (present) {
		o.v = get_varint(c);
		o.present = !c->why;
	}
	return o;
}

static void get_hist(struct cur *c, struct vmmem_hist *h)
{
	uint8_t n = get_u8(c);

	memset(h, 0, sizeof(*h));
	if (n > VMMEM_HIST_SLOTS) {
		bad(c, "a histogram has more than 40 slots");
		return;
	}
	for (int i = 0; i < n && !c->why; i++) {
		uint8_t slot = get_u8(c);
		uint64_t count = get_varint(c);

		if (slot >= VMMEM_HIST_SLOTS) {
			bad(c, "a histogram slot is out of range");
			return;
		}
		h->slot[slot] = count;
	}
	h->sum_ns = get_varint(c);
}

/* ---- errors ---- */

static int fail(struct rec_reader *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct rec_reader *r, int err, const char *fmt, ...)
{
	va_list ap;

	if (r->err)
		return r->err;
	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
	va_end(ap);
	r->err = err;
	return err;
}

static const char *const rec_type_names[] = {
	[REC_META] = "META", [REC_NAMES] = "NAMES", [REC_SAMPLE] = "SAMPLE", [REC_EVENTS] = "EVENTS",
	[REC_THREAD] = "THREAD", [REC_END] = "END",
};

static int malformed(struct rec_reader *r, int type, const char *why)
{
	return fail(r, -EPROTO, "chunk %u (at byte %llu): malformed %s record: %s; everything before it was read",
		    r->chunks - 1, (unsigned long long)r->chunk_off,
		    type > 0 && type <= REC_END ? rec_type_names[type] : "unknown", why);
}

/* ---- input ---- */

/* Read up to n bytes; returns bytes read (short only at the end of the input), or -errno. */
static ssize_t input_read(struct rec_reader *r, void *buf, size_t n)
{
	size_t got;

	if (r->mem) {
		got = r->mem_len - r->mem_pos < n ? r->mem_len - r->mem_pos : n;
		memcpy(buf, r->mem + r->mem_pos, got);
		r->mem_pos += got;
	} else {
		got = fread(buf, 1, n, r->f);
		if (got < n && ferror(r->f))
			return -EIO;
	}
	r->offset += got;
	return got;
}

static bool input_has(const struct rec_reader *r, uint64_t n)
{
	if (r->mem)
		return r->mem_len - r->mem_pos >= n;
	return !r->size_known || r->file_size < r->offset || r->file_size - r->offset >= n;
}

static int grow(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *n;

	if (need <= *cap)
		return 0;
	n = realloc(*p, need);
	if (!n)
		return -ENOMEM;
	*p = n;
	*cap = need;
	return 0;
}

/* The input ends inside the chunk that starts at byte at. */
static int cut(struct rec_reader *r, uint64_t at, const char *part)
{
	uint64_t end = r->mem ? r->mem_len : r->size_known ? r->file_size : r->offset;
	char before[64];

	if (r->chunks)
		snprintf(before, sizeof(before), "the %u complete chunk%s before it were read", r->chunks,
			 r->chunks == 1 ? "" : "s");
	else
		snprintf(before, sizeof(before), "nothing before it is readable");
	return fail(r, -ENODATA, "truncated at byte %llu, inside the %s of chunk %u (from byte %llu): the "
		    "recording was cut short (vmmemtop record killed, or the disk full); %s",
		    (unsigned long long)end, part, r->chunks, (unsigned long long)at, before);
}

/* Load the next chunk's records into r->raw. Returns 1, 0 at the end of the input, or -errno. */
static int read_chunk(struct rec_reader *r)
{
	uint8_t h[REC_CHUNK_HEADER_SIZE];
	uint32_t index, raw_len, comp_len;
	uint64_t at = r->offset;
	ssize_t n;

	n = input_read(r, h, sizeof(h));
	if (n < 0)
		return fail(r, -EIO, "cannot read at byte %llu: %s", (unsigned long long)at, strerror(EIO));
	if (n == 0)
		return 0;
	if (n < (ssize_t)sizeof(h))
		return cut(r, at, "header");
	if (rec_get_le32(h) != REC_CHUNK_MAGIC || rec_get_le32(h + 20) != crc32(0, h, 20))
		return fail(r, -EBADMSG, "chunk %u at byte %llu is corrupt (bad chunk header %s); everything before "
			    "it was read", r->chunks, (unsigned long long)at,
			    rec_get_le32(h) != REC_CHUNK_MAGIC ? "magic" : "checksum");
	index = rec_get_le32(h + 4);
	raw_len = rec_get_le32(h + 8);
	comp_len = rec_get_le32(h + 12);
	if (index != r->chunks)
		return fail(r, -EBADMSG, "chunk at byte %llu says it is chunk %u, expected %u (chunks lost or "
			    "reordered); everything before it was read", (unsigned long long)at, index, r->chunks);
	if (raw_len == 0 || raw_len > REC_MAX_CHUNK_RAW || comp_len == 0 || comp_len > REC_MAX_CHUNK_COMP ||
	    raw_len / REC_MAX_ZLIB_RATIO > comp_len)
		return fail(r, -EPROTO, "chunk %u at byte %llu has impossible sizes (%u bytes compressed, %u "
			    "uncompressed); everything before it was read", index, (unsigned long long)at,
			    comp_len, raw_len);
	if (!input_has(r, comp_len))
		return cut(r, at, "data");
	if (grow(&r->comp, &r->comp_cap, comp_len) || grow(&r->raw, &r->raw_cap, raw_len))
		return fail(r, -ENOMEM, "out of memory reading chunk %u", index);
	n = input_read(r, r->comp, comp_len);
	if (n < 0)
		return fail(r, -EIO, "cannot read at byte %llu: %s", (unsigned long long)r->offset, strerror(EIO));
	if (n < (ssize_t)comp_len)
		return cut(r, at, "data");
	if (crc32(0, r->comp, comp_len) != rec_get_le32(h + 16))
		return fail(r, -EBADMSG, "chunk %u at byte %llu is corrupt (checksum mismatch); everything before "
			    "it was read", index, (unsigned long long)at);
	inflateReset(&r->zs);
	r->zs.next_in = r->comp;
	r->zs.avail_in = comp_len;
	r->zs.next_out = r->raw;
	r->zs.avail_out = raw_len;
	if (inflate(&r->zs, Z_FINISH) != Z_STREAM_END || r->zs.total_out != raw_len || r->zs.avail_in)
		return fail(r, -EBADMSG, "chunk %u at byte %llu does not decompress to its %u bytes (corrupt); "
			    "everything before it was read", index, (unsigned long long)at, raw_len);
	r->raw_len = raw_len;
	r->raw_pos = 0;
	r->chunk_off = at;
	r->chunks++;
	return 1;
}

/* ---- records ---- */

/* Next record of the loaded chunk: type and a cursor over its body. 1, 0 (chunk done), -errno. */
static int next_record(struct rec_reader *r, int *type, struct cur *body)
{
	struct cur c = { r->raw + r->raw_pos, r->raw + r->raw_len, NULL };
	uint64_t len;

	if (r->raw_pos >= r->raw_len)
		return 0;
	*type = get_u8(&c);
	len = get_varint(&c);
	if (c.why)
		return malformed(r, *type, c.why);
	if (len > (uint64_t)(c.end - c.p))
		return malformed(r, *type, "its length runs past the end of the chunk");
	body->p = c.p;
	body->end = c.p + len;
	body->why = NULL;
	r->raw_pos = body->end - r->raw;
	return 1;
}

static int local_index(int kind, const char *name)
{
	int i;

	switch (kind) {
	case REC_NAMES_VM_COUNTERS:
		return vm_counter_index(name);
	case REC_NAMES_HOST_COUNTERS:
		return host_counter_index(name);
	case REC_NAMES_VM_HISTS:
		return name_index(vm_hist_names, VMMEM_NR_VM_HISTS, name);
	case REC_NAMES_HOST_HISTS:
		return name_index(host_hist_names, VMMEM_NR_HOST_HISTS, name);
	case REC_NAMES_QMP:
		return name_index(vmm_qmp_names, VMM_QMP_NR, name);
	case REC_NAMES_VM_FACTS:
		for (i = 0; i < VM_NR_FACTS; i++)
			if ((vm_facts[i].flags & FF_RECN) && vm_facts[i].type == FACT_U64 &&
			    !strcmp(vm_facts[i].name, name))
				return i;
		return -1;
	}
	return -1;
}

static int parse_names(struct rec_reader *r, struct cur *c)
{
	uint8_t kind = get_u8(c), n = get_u8(c);
	char name[REC_MAX_NAME_LEN + 1];

	if (c->why)
		return malformed(r, REC_NAMES, c->why);
	if (kind == 0 || kind >= REC_NAMES_NR_KINDS)
		return 0;	/* a table of a later version: nothing here uses it */
	if (r->have_names[kind])
		return malformed(r, REC_NAMES, "a name table appears twice");
	if (n > REC_MAX_NAMES)
		return malformed(r, REC_NAMES, "a name table has more than 64 names");
	for (int i = 0; i < n; i++) {
		uint8_t nr = get_u8(c);

		get_str(c, name, sizeof(name));
		if (c->why)
			return malformed(r, REC_NAMES, c->why);
		if (kind == REC_NAMES_EVENTS) {
			snprintf(r->ev_names[nr], sizeof(r->ev_names[nr]), "%s", name);
			continue;
		}
		if (nr != i)
			return malformed(r, REC_NAMES, "a counter name table is not in order");
		r->map[kind][i] = local_index(kind, name);
	}
	r->nr_names[kind] = n;
	r->have_names[kind] = true;
	return 0;
}

static int parse_meta(struct rec_reader *r, struct cur *c)
{
	uint8_t n = get_u8(c);

	if (n > REC_MAX_META)
		return malformed(r, REC_META, "more than 32 entries");
	for (int i = 0; i < n; i++) {
		get_str(c, r->meta.key[i], sizeof(r->meta.key[i]));
		get_str(c, r->meta.value[i], sizeof(r->meta.value[i]));
	}
	if (c->why)
		return malformed(r, REC_META, c->why);
	r->meta.nr = n;
	return 0;
}

/* A list of n values keyed by the file's name table of kind: kept where known here. */
static void get_counters(struct rec_reader *r, struct cur *c, int kind, __u64 *out, int nr_local)
{
	for (int i = 0; i < r->nr_names[kind]; i++) {
		uint64_t v = get_varint(c);
		int k = r->map[kind][i];

		if (k >= 0 && k < nr_local)
			out[k] = v;
	}
}

static void get_hists(struct rec_reader *r, struct cur *c, int kind, struct vmmem_hist *out, int nr_local)
{
	struct vmmem_hist h;

	for (int i = 0; i < r->nr_names[kind]; i++) {
		int k = r->map[kind][i];

		get_hist(c, &h);
		if (k >= 0 && k < nr_local)
			out[k] = h;
	}
}

static void get_mask(struct rec_reader *r, struct cur *c, int kind, bool *out, int nr_local)
{
	uint64_t m = get_varint(c);

	for (int i = 0; i < r->nr_names[kind] && i < 64; i++) {
		int k = r->map[kind][i];

		if (k >= 0 && k < nr_local)
			out[k] = m >> i & 1;
	}
}

/* The facts of table that are in the fixed layout (FF_REC), in table order (record_writer.c). */
static void get_facts(struct cur *c, const struct fact *table, int n, void *base)
{
	for (int k = 0; k < n; k++) {
		const struct fact *f = &table[k];

		if (!(f->flags & FF_REC))
			continue;
		if (f->type == FACT_U64)
			*fact_u64(f, base) = get_opt(c);
		else if (f->type == FACT_STR)
			get_str(c, fact_str(f, base), f->size);
		else
			*fact_flag(f, base) = get_u8(c) == 1;
	}
}

static void get_vm(struct rec_reader *r, struct cur *c, struct rec_vm *v)
{
	struct vmm_info *i = &v->info;
	uint64_t pid, nr_lost;
	uint8_t flags;

	memset(v, 0, sizeof(*v));
	pid = get_varint(c);
	if (pid == 0 || pid > INT32_MAX)
		bad(c, "a VM has an impossible pid");
	v->pid = i->pid = pid;
	v->seq = get_varint(c);
	flags = get_u8(c);
	v->exited = flags & REC_VM_EXITED;
	i->start_time = get_varint(c);
	get_str(c, i->comm, sizeof(i->comm));
	get_str(c, i->name, sizeof(i->name));
	get_facts(c, vm_facts, VM_NR_FACTS, i);
	get_counters(r, c, REC_NAMES_VM_COUNTERS, v->total.c, VMMEM_NR_VM_COUNTERS);
	get_counters(r, c, REC_NAMES_VM_COUNTERS, v->delta.c, VMMEM_NR_VM_COUNTERS);
	get_hists(r, c, REC_NAMES_VM_HISTS, v->hist_total.h, VMMEM_NR_VM_HISTS);
	get_hists(r, c, REC_NAMES_VM_HISTS, v->hist_delta.h, VMMEM_NR_VM_HISTS);
	nr_lost = get_varint(c);
	if (nr_lost > 256) {
		bad(c, "a VM's lost-event list is longer than 256 types");
		return;
	}
	for (uint64_t k = 0; k < nr_lost; k++) {
		uint64_t n = get_varint(c);

		if (k < VMMEM_EV_LOST_TYPES)
			v->lost.events[k] = n;
	}
	v->lost.balloon_inflate_bytes = get_varint(c);
	v->lost.balloon_deflate_bytes = get_varint(c);
	get_str(c, i->qmp.socket, sizeof(i->qmp.socket));
	flags = get_u8(c);
	i->qmp.abstract = flags & REC_QMP_ABSTRACT;
	i->qmp.up = flags & REC_QMP_UP;
	get_str(c, i->qmp.error, sizeof(i->qmp.error));
	for (int k = 0; k < r->nr_names[REC_NAMES_QMP]; k++) {
		struct opt_u64 o = get_opt(c);
		int l = r->map[REC_NAMES_QMP][k];

		if (l >= 0 && l < VMM_QMP_NR)
			i->qmp.v[l] = o;
	}
}

/* The fewest bytes one VM of a SAMPLE can take: bounds nr_vms before allocating. */
static size_t min_vm_bytes(const struct rec_reader *r)
{
	/* 22 one-byte fields and flags, a byte per counter, two per histogram, twice, a byte
	 * per QMP value */
	return 22 + 2 * r->nr_names[REC_NAMES_VM_COUNTERS] + 4 * r->nr_names[REC_NAMES_VM_HISTS] +
	       r->nr_names[REC_NAMES_QMP];
}

static int parse_sample(struct rec_reader *r, struct cur *c, struct rec_sample *s)
{
	uint64_t nr_vms;

	for (int k = 1; k <= REC_NAMES_HOST_HISTS; k++)
		if (!r->have_names[k])
			return malformed(r, REC_SAMPLE, "it comes before the name tables");
	memset(s, 0, sizeof(*s));
	s->ts_ns = get_varint(c);
	s->start_ts_ns = get_varint(c);
	s->wall_time = rec_unzigzag(get_varint(c));
	get_counters(r, c, REC_NAMES_HOST_COUNTERS, s->host_total.c, VMMEM_NR_HOST_COUNTERS);
	get_counters(r, c, REC_NAMES_HOST_COUNTERS, s->host_delta.c, VMMEM_NR_HOST_COUNTERS);
	get_hists(r, c, REC_NAMES_HOST_HISTS, s->host_hist_total.h, VMMEM_NR_HOST_HISTS);
	get_hists(r, c, REC_NAMES_HOST_HISTS, s->host_hist_delta.h, VMMEM_NR_HOST_HISTS);
	get_mask(r, c, REC_NAMES_VM_COUNTERS, s->available.vm, VMMEM_NR_VM_COUNTERS);
	get_mask(r, c, REC_NAMES_HOST_COUNTERS, s->available.host, VMMEM_NR_HOST_COUNTERS);
	get_mask(r, c, REC_NAMES_VM_HISTS, s->available.vm_hist, VMMEM_NR_VM_HISTS);
	get_mask(r, c, REC_NAMES_HOST_HISTS, s->available.host_hist, VMMEM_NR_HOST_HISTS);
	get_facts(c, host_facts, HOST_NR_FACTS, &s->host);
	nr_vms = get_varint(c);
	if (c->why)
		return malformed(r, REC_SAMPLE, c->why);
	if (nr_vms > VMMEM_MAX_VMS)
		return malformed(r, REC_SAMPLE, "more than 1024 VMs");
	if (nr_vms > (uint64_t)(c->end - c->p) / min_vm_bytes(r))
		return malformed(r, REC_SAMPLE, "more VMs than its bytes can hold");
	if ((int)nr_vms > r->vms_cap) {
		struct rec_vm *v = realloc(r->vms, nr_vms * sizeof(*v));

		if (!v)
			return fail(r, -ENOMEM, "out of memory for %llu VMs", (unsigned long long)nr_vms);
		r->vms = v;
		r->vms_cap = nr_vms;
	}
	for (uint64_t i = 0; i < nr_vms && !c->why; i++)
		get_vm(r, c, &r->vms[i]);
	/* the facts recorded by name, after every VM (record_writer.c) */
	for (uint64_t i = 0; i < nr_vms && !c->why; i++)
		for (int k = 0; k < r->nr_names[REC_NAMES_VM_FACTS]; k++) {
			struct opt_u64 o = get_opt(c);
			int l = r->map[REC_NAMES_VM_FACTS][k];

			if (l >= 0 && l < VM_NR_FACTS && o.v <= vm_facts[l].max)
				*fact_u64(&vm_facts[l], &r->vms[i].info) = o;
		}
	if (c->why)
		return malformed(r, REC_SAMPLE, c->why);
	if (s->start_ts_ns > s->ts_ns)
		return malformed(r, REC_SAMPLE, "its interval ends before it starts");
	s->nr_vms = nr_vms;
	s->vms = r->vms;
	return 1;
}

static int parse_events_head(struct rec_reader *r, struct cur *c)
{
	uint64_t n = get_varint(c), first = get_varint(c);

	if (c->why)
		return malformed(r, REC_EVENTS, c->why);
	/* an event takes at least 9 bytes (one per field) */
	if (n > REC_MAX_EVENTS_PER_REC || n > (uint64_t)(c->end - c->p) / 9)
		return malformed(r, REC_EVENTS, "more events than its bytes can hold");
	r->ev_p = c->p;
	r->ev_end = c->end;
	r->ev_left = n;
	r->ev_ts = first;
	return 0;
}

static int next_event(struct rec_reader *r, struct vmmem_event *ev)
{
	struct cur c = { r->ev_p, r->ev_end, NULL };
	uint64_t tgid, tid, cpu;

	memset(ev, 0, sizeof(*ev));
	r->ev_ts += rec_unzigzag(get_varint(&c));
	ev->ts_ns = r->ev_ts;
	ev->type = get_u8(&c);
	tgid = get_varint(&c);
	tid = get_varint(&c);
	cpu = get_varint(&c);
	ev->a = get_varint(&c);
	ev->b = get_varint(&c);
	ev->dur_ns = get_varint(&c);
	ev->flags = get_varint(&c);
	if (!c.why && (tgid > UINT32_MAX || tid > UINT32_MAX || cpu > UINT32_MAX))
		bad(&c, "an event's pid, tid or cpu does not fit in 32 bits");
	if (c.why)
		return malformed(r, REC_EVENTS, c.why);
	ev->tgid = tgid;
	ev->tid = tid;
	ev->cpu = cpu;
	r->ev_p = c.p;
	r->ev_left--;
	return 1;
}

int rec_reader_next(struct rec_reader *r, struct rec_item *it)
{
	for (;;) {
		struct cur c;
		int type, ret;

		if (r->err)
			return r->err;
		if (r->ev_left) {
			it->kind = REC_ITEM_EVENT;
			return next_event(r, &it->event);
		}
		ret = next_record(r, &type, &c);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			ret = read_chunk(r);
			if (ret < 0)
				return ret;
			if (ret == 0 && r->ended)
				return 0;
			if (ret == 0)
				return fail(r, -ENODATA, "the recording stops after chunk %u (byte %llu) without its end "
					    "marker (vmmemtop record was killed or the disk filled); everything before "
					    "was read", r->chunks ? r->chunks - 1 : 0, (unsigned long long)r->offset);
			if (r->ended)
				return fail(r, -EPROTO, "data after the end marker at byte %llu",
					    (unsigned long long)r->chunk_off);
			continue;
		}
		if (r->ended)
			return fail(r, -EPROTO, "data after the end marker in chunk %u", r->chunks - 1);
		switch (type) {
		case REC_META:
			ret = parse_meta(r, &c);
			break;
		case REC_NAMES:
			ret = parse_names(r, &c);
			break;
		case REC_SAMPLE:
			it->kind = REC_ITEM_SAMPLE;
			return parse_sample(r, &c, &it->sample);
		case REC_EVENTS:
			ret = parse_events_head(r, &c);
			break;
		case REC_THREAD: {
			uint64_t pid = get_varint(&c), tid = get_varint(&c);

			it->kind = REC_ITEM_THREAD;
			get_str(&c, it->thread.comm, sizeof(it->thread.comm));
			if (!c.why && (pid == 0 || pid > INT32_MAX || tid == 0 || tid > INT32_MAX))
				bad(&c, "an impossible pid or tid");
			if (c.why)
				return malformed(r, type, c.why);
			it->thread.pid = pid;
			it->thread.tid = tid;
			return 1;
		}
		case REC_END:
			it->kind = REC_ITEM_END;
			it->end.ts_ns = get_varint(&c);
			it->end.events = get_varint(&c);
			it->end.samples = get_varint(&c);
			if (c.why)
				return malformed(r, type, c.why);
			r->ended = true;
			return 1;
		default:
			ret = 0;	/* a record type of a later version: skipped */
			break;
		}
		if (ret < 0)
			return ret;
	}
}

static int open_common(struct rec_reader *r, char *err, size_t errsz)
{
	uint8_t h[REC_HEADER_SIZE];
	ssize_t n;
	int ret;

	memset(r->map, 0xff, sizeof(r->map));
	if (inflateInit(&r->zs) != Z_OK) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r->zs_ready = true;
	n = input_read(r, h, sizeof(h));
	if (n < 0) {
		snprintf(err, errsz, "cannot read: %s", strerror(EIO));
		return -EIO;
	}
	if (n < 8 || memcmp(h, REC_MAGIC, 8)) {
		snprintf(err, errsz, n == 0 ? "empty file: not a vmmemtop recording" :
			 "not a vmmemtop recording (it does not start with VMMEMREC)");
		return -EPROTO;
	}
	if (n < (ssize_t)sizeof(h)) {
		snprintf(err, errsz, "truncated at byte %zd, inside the file header", n);
		return -ENODATA;
	}
	if (rec_get_le16(h + 8) != REC_VERSION) {
		snprintf(err, errsz, "recording format version %u; this vmmemtop reads version %d (use the vmmemtop "
			 "that wrote it)", rec_get_le16(h + 8), REC_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (rec_get_le16(h + 10) != REC_HEADER_SIZE) {
		snprintf(err, errsz, "malformed file header (header size %u, expected %d)", rec_get_le16(h + 10),
			 REC_HEADER_SIZE);
		return -EPROTO;
	}
	if (rec_get_le32(h + 12)) {
		snprintf(err, errsz, "malformed file header (flags 0x%x: version %d defines none)",
			 rec_get_le32(h + 12), REC_VERSION);
		return -EPROTO;
	}
	ret = read_chunk(r);
	if (ret == 0) {
		snprintf(err, errsz, "truncated at byte %llu: the recording has no chunk after its header",
			 (unsigned long long)r->offset);
		return -ENODATA;
	}
	/* chunk 0 describes the file: read its META and NAMES records now */
	while (ret > 0 && r->raw_pos < r->raw_len) {
		size_t pos = r->raw_pos;
		struct cur c;
		int type;

		ret = next_record(r, &type, &c);
		if (ret <= 0)
			break;
		if (type == REC_META)
			ret = parse_meta(r, &c);
		else if (type == REC_NAMES)
			ret = parse_names(r, &c);
		else {
			r->raw_pos = pos;	/* for rec_reader_next */
			break;
		}
		if (ret == 0)
			ret = 1;
	}
	if (ret < 0) {
		snprintf(err, errsz, "%s", r->errmsg);
		return ret;
	}
	for (int k = 1; k < REC_NAMES_NR_KINDS; k++) {
		if (!r->have_names[k]) {
			snprintf(err, errsz, "malformed: chunk 0 lacks the name tables that describe the file");
			return -EPROTO;
		}
	}
	return 0;
}

static struct rec_reader *reader_new(void)
{
	return calloc(1, sizeof(struct rec_reader));
}

int rec_reader_open_file(struct rec_reader **out, const char *path, char *err, size_t errsz)
{
	struct rec_reader *r = reader_new();
	struct stat st;
	int ret;

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	if (!strcmp(path, "-")) {
		r->f = stdin;
	} else {
		r->f = fopen(path, "rb");
		if (!r->f) {
			ret = -errno;
			snprintf(err, errsz, "cannot open %s: %s", path, strerror(-ret));
			free(r);
			return ret;
		}
		r->own_f = true;
	}
	if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode)) {
		r->size_known = true;
		r->file_size = st.st_size;
	}
	ret = open_common(r, err, errsz);
	if (ret) {
		char msg[320];

		snprintf(msg, sizeof(msg), "%s", err);
		snprintf(err, errsz, "%s: %s", path, msg);
		rec_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int rec_reader_open_mem(struct rec_reader **out, const void *data, size_t len, char *err, size_t errsz)
{
	struct rec_reader *r = reader_new();
	static const uint8_t empty[1];
	int ret;

	if (!r) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r->mem = data ? data : empty;
	r->mem_len = data ? len : 0;
	ret = open_common(r, err, errsz);
	if (ret) {
		rec_reader_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

const char *rec_reader_error(const struct rec_reader *r)
{
	return r->errmsg;
}

const struct rec_meta *rec_reader_meta(const struct rec_reader *r)
{
	return &r->meta;
}

const char *rec_meta_get(const struct rec_meta *m, const char *key)
{
	for (int i = 0; i < m->nr; i++)
		if (!strcmp(m->key[i], key))
			return m->value[i];
	return "";
}

const char *rec_reader_event_name(const struct rec_reader *r, unsigned type, char *buf, size_t sz)
{
	if (type < 256 && r->ev_names[type][0])
		return r->ev_names[type];
	snprintf(buf, sz, "type%u", type);
	return buf;
}

uint32_t rec_reader_chunks(const struct rec_reader *r)
{
	return r->chunks;
}

uint64_t rec_reader_offset(const struct rec_reader *r)
{
	return r->offset;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	if (r->zs_ready)
		inflateEnd(&r->zs);
	if (r->own_f)
		fclose(r->f);
	free(r->comp);
	free(r->raw);
	free(r->vms);
	free(r);
}
