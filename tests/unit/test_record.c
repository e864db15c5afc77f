// SPDX-License-Identifier: MIT
/* Unit tests: the recording format. Writer -> reader round trip of every field; the report's
 * reconciliation; replay through the core; and hostile files: cut at every byte, every bit
 * flipped, another version, huge counts and lengths, each giving one clear error line and
 * every item before the damage. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "unit.h"
#include "core.h"
#include "events.h"
#include "record_reader.h"
#include "record_writer.h"
#include "report.h"

#define NR_SAMPLES	4
#define EV_PER_SAMPLE	50

static struct vm_snapshot vms[2];

/* Sample k (0-based): VM alpha throughout; VM "beta" (odd name) exits in sample 2. */
static void make_sample(struct snapshot *s, int k)
{
	memset(s, 0, sizeof(*s));
	memset(vms, 0, sizeof(vms));
	s->start_ts_ns = 1000000000ull * (k + 1);
	s->ts_ns = s->start_ts_ns + 1000000000ull;
	s->interval_s = 1;
	s->wall_time = 1700000000 + k;
	for (int i = 0; i < VMMEM_NR_VM_COUNTERS; i++)
		s->available.vm[i] = i != VMMEM_C_kvm_remote_tlb_flushes;
	for (int i = 0; i < VMMEM_NR_HOST_COUNTERS; i++)
		s->available.host[i] = true;
	for (int i = 0; i < VMMEM_NR_VM_HISTS; i++)
		s->available.vm_hist[i] = true;
	s->available.host_hist[0] = true;
	s->host.mem.mem_total_kb = (struct opt_u64){ 24576000, true };
	s->host.ksm.present = true;
	s->host.ksm.run = (struct opt_u64){ 1, true };
	snprintf(s->host.thp.enabled, sizeof(s->host.thp.enabled), "madvise");
	snprintf(s->host.cpu_vendor, sizeof(s->host.cpu_vendor), "amd");
	s->host_delta.c[VMMEM_H_dropped_events] = 1;
	s->host_total.c[VMMEM_H_dropped_events] = k + 1;
	s->host_hist_delta.h[0].slot[20] = 1;
	s->host_hist_total.h[0].slot[20] = k + 1;

	vms[0].info.pid = 100;
	vms[0].seq = 1;
	snprintf(vms[0].info.name, sizeof(vms[0].info.name), "alpha");
	snprintf(vms[0].info.comm, sizeof(vms[0].info.comm), "qemu-system-x86");
	vms[0].info.vcpus = (struct opt_u64){ 2, true };
	snprintf(vms[0].info.qmp.socket, sizeof(vms[0].info.qmp.socket), "/run/alpha.qmp");
	vms[0].info.qmp.up = true;
	vms[0].info.qmp.v[VMM_QMP_balloon_actual_bytes] = (struct opt_u64){ 268435456, true };
	vms[0].info.mem_configured_kb = (struct opt_u64){ 524288, true };
	/* a fact recorded by name (FF_RECN): present in alpha, absent in beta */
	vms[0].info.working_set_bytes = (struct opt_u64){ 268435456ull + 4096 * k, true };
	vms[0].delta.c[VMMEM_C_tdp_faults] = EV_PER_SAMPLE / 2;
	vms[0].total.c[VMMEM_C_tdp_faults] = (uint64_t)(k + 1) * (EV_PER_SAMPLE / 2);
	vms[0].delta.c[VMMEM_C_balloon_inflate_bytes] = 4096 * 10;
	vms[0].total.c[VMMEM_C_balloon_inflate_bytes] = 4096 * 10 * (k + 1);
	vms[0].delta.c[VMMEM_C_exits] = ~0ull >> 1;	/* big numbers survive the varints */
	vms[0].hist_delta.h[VMMEM_HIST_tdp_fault_ns].slot[10] = 3;
	vms[0].hist_delta.h[VMMEM_HIST_tdp_fault_ns].slot[39] = 1;
	vms[0].hist_delta.h[VMMEM_HIST_tdp_fault_ns].sum_ns = 12345;
	vms[0].hist_total = vms[0].hist_delta;
	vms[0].ev_lost.events[VMMEM_EV_balloon] = 0;
	vms[0].ev_lost.balloon_inflate_bytes = 0;
	s->nr_vms = 1;
	if (k <= 2) {
		vms[1].info.pid = 200;
		vms[1].seq = 2;
		/* a control character and UTF-8: the reader keeps the UTF-8, masks the control */
		snprintf(vms[1].info.name, sizeof(vms[1].info.name), "b\x1b[2Jeta \xc3\xbc");
		vms[1].exited = k == 2;
		vms[1].delta.c[VMMEM_C_tlb_shootdown_ipis] = 3;
		vms[1].total.c[VMMEM_C_tlb_shootdown_ipis] = 3 * (k + 1);
		vms[1].ev_lost.events[VMMEM_EV_tlb_shootdown] = k + 1;	/* one of 3 each time lost */
		s->nr_vms = 2;
	}
	s->vms = vms;
}

/* The events of interval k: tdp faults of alpha, balloon discards of alpha, shootdowns of beta
 * (two of three; the ring "lost" one), a ksm scan of the host; times wobble backwards. */
static void make_event(struct vmmem_event *ev, int k, int i)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts_ns = 1000000000ull * (k + 1) + 1000 + i * 1000 - (i % 3 == 2 ? 1500 : 0);
	ev->cpu = i % 2;
	if (i < EV_PER_SAMPLE / 2) {
		ev->type = VMMEM_EV_tdp_fault;
		ev->tgid = 100;
		ev->tid = 101 + i % 2;
		ev->a = 0xfee00000ull + i * 4096;
		ev->b = 0x100000004ull;
	} else if (i < EV_PER_SAMPLE / 2 + 10) {
		ev->type = VMMEM_EV_balloon;
		ev->tgid = 100;
		ev->tid = 101;
		ev->a = 4096;
		ev->b = 4;
		ev->dur_ns = 1000 + i;
	} else if (i < EV_PER_SAMPLE / 2 + 12 && k <= 2) {
		ev->type = VMMEM_EV_tlb_shootdown;
		ev->tgid = 200;
		ev->tid = 201;
		ev->a = ~0ull;
	} else {
		ev->type = VMMEM_EV_ksm_scan;
		ev->a = 5000000;
		ev->b = 77;
		ev->dur_ns = 0;
		ev->flags = 0;
	}
}

struct file {
	uint8_t *p;
	size_t len;
};

/* Write the test recording into memory; complete = with the end marker. */
static void make_file(struct file *f, bool complete)
{
	const struct rec_kv meta[] = { { "host", "testhost" }, { "event_mask", "646" }, { "backend", "bpf" },
				       { "slow_event_ns", "1000000" } };
	int fd = memfd_create("rec", 0);
	struct rec_writer *w;
	struct snapshot s;
	struct vmmem_event ev;
	off_t len;

	assert_true(fd >= 0);
	assert_int_equal(rec_writer_open(&w, fd, meta, 4, 1), 0);
	for (int k = 0; k < NR_SAMPLES; k++) {
		for (int i = 0; i < EV_PER_SAMPLE; i++) {
			make_event(&ev, k, i);
			assert_int_equal(rec_writer_event(w, &ev), 0);
			if (k == 0 && i == 0)
				assert_int_equal(rec_writer_thread(w, 100, 101, "CPU 0/KVM"), 0);
		}
		make_sample(&s, k);
		assert_int_equal(rec_writer_sample(w, &s), 0);
		assert_int_equal(rec_writer_flush(w), 0);	/* a chunk per interval, as cmd_record does */
	}
	if (complete)
		assert_int_equal(rec_writer_finish(w, 99000000000ull), 0);
	else
		assert_int_equal(rec_writer_flush(w), 0);
	rec_writer_free(w);
	len = lseek(fd, 0, SEEK_END);
	f->p = malloc(len);
	f->len = len;
	assert_int_equal(pread(fd, f->p, len, 0), len);
	close(fd);
}

static void test_event_names(void **state)
{
	char err[256], buf[256];
	uint64_t m;

	(void)state;
	assert_int_equal(event_mask_parse("tdp_fault,exit,balloon", &m, err, sizeof(err)), 0);
	assert_true(m == (VMMEM_EV_BIT(VMMEM_EV_tdp_fault) | VMMEM_EV_BIT(VMMEM_EV_exit) | VMMEM_EV_BIT(VMMEM_EV_balloon)));
	event_mask_format(m, buf, sizeof(buf));
	assert_string_equal(buf, "balloon,tdp_fault,exit");
	assert_int_equal(event_mask_parse("default", &m, err, sizeof(err)), 0);
	assert_true(m == VMMEM_EV_RARE_MASK);
	assert_int_equal(event_mask_parse("all", &m, err, sizeof(err)), 0);
	assert_true(m == event_all_mask());
	assert_int_equal(event_mask_parse("tdp_faults", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown event type 'tdp_faults'"));
	assert_int_equal(event_mask_parse("exit,,balloon", &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(event_mask_parse("", &m, err, sizeof(err)), -EINVAL);
	assert_int_equal(event_index("ksm_merge"), VMMEM_EV_ksm_merge);
	assert_int_equal(event_index("nope"), -1);
}

static void test_round_trip(void **state)
{
	struct rec_reader *r;
	struct rec_item it;
	struct file f;
	char err[512];
	int k = 0, i = 0, threads = 0, ends = 0, ret;

	(void)state;
	make_file(&f, true);
	assert_int_equal(rec_reader_open_mem(&r, f.p, f.len, err, sizeof(err)), 0);
	assert_string_equal(rec_meta_get(rec_reader_meta(r), "host"), "testhost");
	assert_string_equal(rec_meta_get(rec_reader_meta(r), "absent"), "");
	while ((ret = rec_reader_next(r, &it)) > 0) {
		struct vmmem_event ev;
		struct snapshot s;

		switch (it.kind) {
		case REC_ITEM_EVENT:
			make_event(&ev, k, i++);
			assert_memory_equal(&ev, &it.event, sizeof(ev));
			break;
		case REC_ITEM_THREAD:
			threads++;
			assert_int_equal(it.thread.pid, 100);
			assert_int_equal(it.thread.tid, 101);
			assert_string_equal(it.thread.comm, "CPU 0/KVM");
			break;
		case REC_ITEM_SAMPLE:
			assert_int_equal(i, EV_PER_SAMPLE);
			make_sample(&s, k);
			assert_true(it.sample.ts_ns == s.ts_ns && it.sample.start_ts_ns == s.start_ts_ns);
			assert_int_equal(it.sample.wall_time, s.wall_time);
			assert_memory_equal(&it.sample.available, &s.available, sizeof(s.available));
			assert_memory_equal(&it.sample.host_total, &s.host_total, sizeof(s.host_total));
			assert_memory_equal(&it.sample.host_hist_delta, &s.host_hist_delta, sizeof(s.host_hist_delta));
			assert_true(it.sample.host.mem.mem_total_kb.present && it.sample.host.mem.mem_total_kb.v == 24576000);
			assert_false(it.sample.host.mem.swap_total_kb.present);
			assert_string_equal(it.sample.host.thp.enabled, "madvise");
			assert_string_equal(it.sample.host.cpu_vendor, "amd");
			assert_int_equal(it.sample.nr_vms, s.nr_vms);
			for (int v = 0; v < s.nr_vms; v++) {
				const struct rec_vm *rv = &it.sample.vms[v];

				assert_int_equal(rv->pid, s.vms[v].info.pid);
				assert_true(rv->seq == s.vms[v].seq);
				assert_int_equal(rv->exited, s.vms[v].exited);
				assert_memory_equal(&rv->total, &s.vms[v].total, sizeof(rv->total));
				assert_memory_equal(&rv->delta, &s.vms[v].delta, sizeof(rv->delta));
				assert_memory_equal(&rv->hist_delta, &s.vms[v].hist_delta, sizeof(rv->hist_delta));
				assert_memory_equal(&rv->lost, &s.vms[v].ev_lost, sizeof(rv->lost));
				assert_memory_equal(&rv->info.vcpus, &s.vms[v].info.vcpus, sizeof(rv->info.vcpus));
				assert_memory_equal(&rv->info.working_set_bytes, &s.vms[v].info.working_set_bytes,
						    sizeof(rv->info.working_set_bytes));
				assert_string_equal(rv->info.qmp.socket, s.vms[v].info.qmp.socket);
				assert_int_equal(rv->info.qmp.up, s.vms[v].info.qmp.up);
				assert_memory_equal(rv->info.qmp.v, s.vms[v].info.qmp.v, sizeof(rv->info.qmp.v));
			}
			assert_string_equal(it.sample.vms[0].info.name, "alpha");
			if (s.nr_vms > 1)
				assert_string_equal(it.sample.vms[1].info.name, "b?[2Jeta \xc3\xbc");
			k++;
			i = 0;
			break;
		case REC_ITEM_END:
			ends++;
			assert_true(it.end.events == NR_SAMPLES * EV_PER_SAMPLE && it.end.samples == NR_SAMPLES);
			break;
		}
	}
	assert_int_equal(ret, 0);
	assert_int_equal(k, NR_SAMPLES);
	assert_int_equal(threads, 1);
	assert_int_equal(ends, 1);
	assert_int_equal(rec_reader_next(r, &it), 0);	/* the end stays the end */
	rec_reader_close(r);
	free(f.p);
}

static void test_report_reconciles(void **state)
{
	static struct report rp;
	struct file f;
	char err[512];
	const struct report_vm *alpha = NULL, *beta = NULL;

	(void)state;
	make_file(&f, true);
	assert_int_equal(report_build_mem(&rp, f.p, f.len, 5, err, sizeof(err)), 0);
	assert_true(rp.have_end && !rp.err);
	assert_int_equal(rp.samples, NR_SAMPLES);
	for (int i = 0; i < rp.nr_vms; i++) {
		if (rp.vms[i].pid == 100)
			alpha = &rp.vms[i];
		if (rp.vms[i].pid == 200)
			beta = &rp.vms[i];
	}
	assert_non_null(alpha);
	assert_non_null(beta);
	assert_int_equal(rp.nr_vms, 2);
	/* alpha: every fault and discard recorded, equal to the counters' increase */
	assert_int_equal(alpha->events[VMMEM_EV_tdp_fault], alpha->increase.c[VMMEM_C_tdp_faults]);
	assert_int_equal(alpha->events[VMMEM_EV_tdp_fault], NR_SAMPLES * EV_PER_SAMPLE / 2);
	assert_int_equal(alpha->inflate_bytes, alpha->increase.c[VMMEM_C_balloon_inflate_bytes]);
	/* beta: 2 recorded + 1 lost per interval = the increase of 3 */
	assert_int_equal(beta->events[VMMEM_EV_tlb_shootdown], 6);
	assert_int_equal(beta->events[VMMEM_EV_tlb_shootdown] + beta->lost.events[VMMEM_EV_tlb_shootdown],
			 beta->increase.c[VMMEM_C_tlb_shootdown_ipis]);
	assert_true(beta->exited && beta->closed);
	/* ksm scans belong to no VM */
	assert_true(rp.host_events[VMMEM_EV_ksm_scan] > 0);
	assert_int_equal(rp.host_increase.c[VMMEM_H_dropped_events], NR_SAMPLES);
	/* the slowest events: balloon discards with their durations, slowest first */
	report_sort_top(&rp);
	assert_int_equal(rp.nr_top, 5);
	assert_true(rp.top[0].ev.dur_ns == 1000 + EV_PER_SAMPLE / 2 + 9 && rp.top[0].ev.dur_ns >= rp.top[4].ev.dur_ns);
	assert_string_equal(report_thread_name(&rp, 100, 101), "CPU 0/KVM");
	report_free(&rp);
	free(f.p);
}

/* slow_ipi records tallied by target vCPU thread for the report's IPI section: per target the
 * count and the slowest with its sender; targets past REPORT_IPI_TARGETS are counted apart. */
static void test_report_ipi_targets(void **state)
{
	static struct report rp;
	char mask[24], err[512];
	const struct rec_kv meta[] = { { "event_mask", mask }, { "backend", "kmod" }, { "slow_event_ns", "1048576" } };
	static const uint64_t durs[] = { 2000000, 5000000, 3000000 };
	int fd = memfd_create("rec", 0), extra = REPORT_IPI_TARGETS + 1;
	const struct report_vm *alpha = NULL;
	struct rec_writer *w;
	struct vmmem_event ev;
	struct snapshot s;
	struct file f;

	(void)state;
	snprintf(mask, sizeof(mask), "%llu", (unsigned long long)VMMEM_EV_BIT(VMMEM_EV_slow_ipi));
	assert_true(fd >= 0);
	assert_int_equal(rec_writer_open(&w, fd, meta, 3, 1), 0);
	make_sample(&s, 0);
	assert_int_equal(rec_writer_sample(w, &s), 0);
	/* three to thread 102 from 101 (the slowest, 5 ms, from 103), then one each to many threads */
	for (int i = 0; i < 3 + extra; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.ts_ns = 2500000000ull + i;
		ev.type = VMMEM_EV_slow_ipi;
		ev.tgid = 100;
		ev.tid = ev.a = i < 3 ? 102 : 1000 + i;
		ev.b = i == 1 ? 103 : 101;
		ev.dur_ns = i < 3 ? durs[i] : 1500000;
		assert_int_equal(rec_writer_event(w, &ev), 0);
	}
	make_sample(&s, 1);
	assert_int_equal(rec_writer_sample(w, &s), 0);
	assert_int_equal(rec_writer_finish(w, 99000000000ull), 0);
	rec_writer_free(w);
	f.len = lseek(fd, 0, SEEK_END);
	f.p = malloc(f.len);
	assert_int_equal(pread(fd, f.p, f.len, 0), (ssize_t)f.len);
	close(fd);

	assert_int_equal(report_build_mem(&rp, f.p, f.len, 5, err, sizeof(err)), 0);
	for (int i = 0; i < rp.nr_vms; i++)
		if (rp.vms[i].pid == 100)
			alpha = &rp.vms[i];
	assert_non_null(alpha);
	assert_int_equal(alpha->events[VMMEM_EV_slow_ipi], 3 + extra);
	assert_int_equal(alpha->nr_ipi_targets, REPORT_IPI_TARGETS);
	assert_int_equal(alpha->ipi_targets[0].tid, 102);
	assert_int_equal(alpha->ipi_targets[0].n, 3);
	assert_int_equal(alpha->ipi_targets[0].max_ns, 5000000);
	assert_int_equal(alpha->ipi_targets[0].slowest_from, 103);
	assert_int_equal(alpha->ipi_targets[1].n, 1);
	assert_int_equal(alpha->ipi_targets_other, extra - (REPORT_IPI_TARGETS - 1));
	report_free(&rp);
	free(f.p);
}

/* Items (events, samples, threads, end) each chunk ends with: items_upto[c] = items in chunks < c. */
static int count_items(const uint8_t *p, size_t len, int *err_out, char *msg, size_t msgsz)
{
	struct rec_reader *r;
	struct rec_item it;
	int n = 0, ret;

	ret = rec_reader_open_mem(&r, p, len, msg, msgsz);
	if (ret) {
		*err_out = ret;
		return -1;
	}
	while ((ret = rec_reader_next(r, &it)) > 0)
		n++;
	*err_out = ret;
	if (ret)
		snprintf(msg, msgsz, "%s", rec_reader_error(r));
	rec_reader_close(r);
	return n;
}

/* Chunk boundaries of a file (offsets where each chunk ends) and items read up to each. */
static int chunk_ends(const struct file *f, size_t *ends, int *items, int max)
{
	struct rec_reader *r;
	struct rec_item it;
	char err[512];
	size_t off = REC_HEADER_SIZE;
	int n = 0, count = 0;

	while (off + REC_CHUNK_HEADER_SIZE <= f->len && n < max) {
		off += REC_CHUNK_HEADER_SIZE + rec_get_le32(f->p + off + 12);
		ends[n++] = off;
	}
	assert_int_equal(off, f->len);
	for (int c = 0; c < n; c++)
		items[c] = 0;
	assert_int_equal(rec_reader_open_mem(&r, f->p, f->len, err, sizeof(err)), 0);
	while (rec_reader_next(r, &it) > 0) {
		count++;
		items[rec_reader_chunks(r) - 1] = count;
	}
	rec_reader_close(r);
	for (int c = 1; c < n; c++)
		if (!items[c])
			items[c] = items[c - 1];
	return n;
}

static void test_cut_everywhere(void **state)
{
	size_t ends[64];
	int items[64], nchunks, total, err;
	struct file f;
	char msg[512];

	(void)state;
	make_file(&f, true);
	nchunks = chunk_ends(&f, ends, items, 64);
	assert_true(nchunks >= NR_SAMPLES + 2);	/* chunk 0, a chunk per sample, the end */
	total = count_items(f.p, f.len, &err, msg, sizeof(msg));
	assert_int_equal(err, 0);
	assert_int_equal(total, items[nchunks - 1]);
	for (size_t cut = 0; cut < f.len; cut++) {
		int complete = 0, n;

		while (complete < nchunks && ends[complete] <= cut)
			complete++;
		n = count_items(f.p, cut, &err, msg, sizeof(msg));
		assert_null(strchr(msg, '\n'));		/* one line */
		if (complete == 0) {
			/* not even chunk 0 (meta, names): nothing to read, and it says why */
			assert_int_equal(n, -1);
			assert_true(err == -ENODATA || err == -EPROTO);
			assert_true(strstr(msg, "truncated") || strstr(msg, "empty") || strstr(msg, "not a vmmemtop"));
			continue;
		}
		/* every item of the complete chunks, then the cut named as such */
		assert_int_equal(n, items[complete - 1]);
		assert_int_equal(err, -ENODATA);
		assert_true(strstr(msg, "truncated at byte") || strstr(msg, "without its end marker"));
	}
	/* a file whose writer never wrote the end marker: everything, then "no end marker" */
	free(f.p);
	make_file(&f, false);
	total = count_items(f.p, f.len, &err, msg, sizeof(msg));
	assert_int_equal(total, NR_SAMPLES * (EV_PER_SAMPLE + 1) + 1);
	assert_int_equal(err, -ENODATA);
	assert_non_null(strstr(msg, "without its end marker"));
	free(f.p);
}

/* What a SIGKILL can leave: the writer's every write(2) is one whole chunk, and the first
 * is the file header with chunk 0 (so no file is ever just a header). A SOCK_SEQPACKET
 * socket keeps each write(2) as one message, so the test sees the writes themselves. */
static void test_writes_whole_chunks(void **state)
{
	static const struct rec_kv meta[] = { { "host", "t" } };
	static uint8_t msg[1 << 20];
	struct vmmem_event ev = { .ts_ns = 1, .type = 7, .tgid = 5 };
	struct rec_writer *w;
	int sv[2], nmsg = 0;
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(rec_writer_open(&w, sv[0], meta, 1, 1), 0);
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < 100; i++)
			assert_int_equal(rec_writer_event(w, &ev), 0);
		assert_int_equal(rec_writer_flush(w), 0);
	}
	assert_int_equal(rec_writer_finish(w, 2), 0);
	rec_writer_free(w);
	close(sv[0]);
	while ((n = recv(sv[1], msg, sizeof(msg), 0)) > 0) {
		size_t off = nmsg == 0 ? 16 : 0;

		if (nmsg == 0)
			assert_memory_equal(msg, "VMMEMREC", 8);
		assert_true((size_t)n >= off + 24);
		assert_int_equal(msg[off] | msg[off + 1] << 8 | msg[off + 2] << 16 | (uint32_t)msg[off + 3] << 24,
				 0x4b435256u);				/* "VRCK" */
		assert_int_equal(msg[off + 4], nmsg);			/* chunk index */
		assert_int_equal((size_t)n, off + 24 + (msg[off + 12] | msg[off + 13] << 8 | msg[off + 14] << 16));
		nmsg++;
	}
	assert_int_equal(nmsg, 5);	/* chunk 0, three flushes, the end */
	close(sv[1]);
}

static void test_bit_flips(void **state)
{
	size_t ends[64];
	int items[64], nchunks, err;
	struct file f;
	char msg[512];

	(void)state;
	make_file(&f, true);
	nchunks = chunk_ends(&f, ends, items, 64);
	for (size_t pos = 0; pos < f.len; pos++) {
		for (int bit = 0; bit < 8; bit += 3) {
			int chunk = 0, n;

			f.p[pos] ^= 1 << bit;
			n = count_items(f.p, f.len, &err, msg, sizeof(msg));
			f.p[pos] ^= 1 << bit;
			/* no flip goes unnoticed: the header is checked field by field, chunks by CRC */
			assert_true(err < 0);
			assert_null(strchr(msg, '\n'));
			while (chunk < nchunks && ends[chunk] <= pos)
				chunk++;
			if (pos < REC_HEADER_SIZE) {
				assert_int_equal(n, -1);
				continue;
			}
			if (chunk == 0) {
				assert_int_equal(n, -1);
				assert_true(err == -EBADMSG || err == -EPROTO || err == -ENODATA);
				continue;
			}
			/* everything before the damaged chunk was read */
			assert_int_equal(n, items[chunk - 1]);
			assert_true(err == -EBADMSG || err == -EPROTO || err == -ENODATA);
			assert_true(strstr(msg, "corrupt") || strstr(msg, "impossible") || strstr(msg, "truncated") ||
				    strstr(msg, "says it is chunk"));
		}
	}
	free(f.p);
}

/* The most VMs a sample may hold, each as small as a VM can be: the reader's lower bound on
 * a VM's size must not refuse them, and 1025 must be refused. */
static void test_many_minimal_vms(void **state)
{
	static struct vm_snapshot many[VMMEM_MAX_VMS];
	const struct rec_kv meta[] = { { "host", "h" } };
	struct snapshot s = { .vms = many, .nr_vms = VMMEM_MAX_VMS };
	int fd = memfd_create("rec", 0), ret, n = 0;
	struct rec_reader *r;
	struct rec_writer *w;
	struct rec_item it;
	char err[512];
	uint8_t *buf;
	off_t len;

	(void)state;
	for (int i = 0; i < VMMEM_MAX_VMS; i++)
		many[i].info.pid = 1 + i % 127;		/* one-byte varints: the smallest encoding */
	assert_int_equal(rec_writer_open(&w, fd, meta, 1, 1), 0);
	assert_int_equal(rec_writer_sample(w, &s), 0);
	assert_int_equal(rec_writer_finish(w, 1), 0);
	rec_writer_free(w);
	len = lseek(fd, 0, SEEK_END);
	buf = malloc(len);
	assert_int_equal(pread(fd, buf, len, 0), len);
	close(fd);
	assert_int_equal(rec_reader_open_mem(&r, buf, len, err, sizeof(err)), 0);
	while ((ret = rec_reader_next(r, &it)) > 0)
		if (it.kind == REC_ITEM_SAMPLE)
			n = it.sample.nr_vms;
	assert_int_equal(ret, 0);
	assert_int_equal(n, VMMEM_MAX_VMS);
	rec_reader_close(r);
	free(buf);
}

static void test_wrong_version(void **state)
{
	struct rec_reader *r;
	struct file f;
	char err[512];

	(void)state;
	make_file(&f, true);
	rec_put_le16(f.p + 8, 2);
	assert_int_equal(rec_reader_open_mem(&r, f.p, f.len, err, sizeof(err)), -EPROTONOSUPPORT);
	assert_non_null(strstr(err, "format version 2; this vmmemtop reads version 1"));
	memcpy(f.p, "VMMEMREX", 8);
	assert_int_equal(rec_reader_open_mem(&r, f.p, f.len, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "not a vmmemtop recording"));
	assert_int_equal(rec_reader_open_mem(&r, NULL, 0, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "empty"));
	free(f.p);
}

/* ---- hand-made files: a valid chunk 0 followed by one chunk of our own raw records ---- */

struct raw {
	uint8_t p[4096];
	size_t n;
};

static void raw_u8(struct raw *r, uint8_t v)
{
	r->p[r->n++] = v;
}

static void raw_varint(struct raw *r, uint64_t v)
{
	do {
		raw_u8(r, (v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

static void raw_fill(struct raw *r, uint8_t v, int count)
{
	for (int i = 0; i < count; i++)
		raw_u8(r, v);
}

/* r := the start of one record: its type and the length it claims */
static void raw_record(struct raw *r, uint8_t type, uint64_t len)
{
	memset(r, 0, sizeof(*r));
	raw_u8(r, type);
	raw_varint(r, len);
}

/* file = the test recording's header and chunk 0, then a chunk holding raw (index 1) */
static size_t craft(uint8_t *out, size_t outsz, const struct raw *raw, uint32_t raw_len_claim)
{
	struct file f;
	size_t ends[64];
	int items[64];
	uLongf clen = outsz;
	size_t off;

	make_file(&f, true);
	chunk_ends(&f, ends, items, 64);
	off = ends[0];
	memcpy(out, f.p, off);
	free(f.p);
	assert_int_equal(compress2(out + off + REC_CHUNK_HEADER_SIZE, &clen, raw->p, raw->n, 1), Z_OK);
	rec_put_le32(out + off, REC_CHUNK_MAGIC);
	rec_put_le32(out + off + 4, 1);
	rec_put_le32(out + off + 8, raw_len_claim ? raw_len_claim : raw->n);
	rec_put_le32(out + off + 12, clen);
	rec_put_le32(out + off + 16, crc32(0, out + off + REC_CHUNK_HEADER_SIZE, clen));
	rec_put_le32(out + off + 20, crc32(0, out + off, 20));
	return off + REC_CHUNK_HEADER_SIZE + clen;
}

static void expect_malformed(const struct raw *raw, uint32_t claim, int want_err, const char *want)
{
	static uint8_t buf[1 << 16];
	char msg[512];
	int err, n;
	size_t len = craft(buf, sizeof(buf), raw, claim);

	n = count_items(buf, len, &err, msg, sizeof(msg));
	assert_int_equal(n, 0);		/* chunk 0 holds no items */
	if (err != want_err || !strstr(msg, want))
		fail_msg("got %d '%s', want %d '%s'", err, msg, want_err, want);
	assert_null(strchr(msg, '\n'));
}

static void test_huge_counts(void **state)
{
	struct raw r;

	(void)state;
	/* EVENTS claiming 2^40 events in a few bytes */
	raw_record(&r, REC_EVENTS, 9);
	raw_varint(&r, 1ull << 40);
	raw_varint(&r, 0);
	raw_fill(&r, 0, 2);
	expect_malformed(&r, 0, -EPROTO, "more events than its bytes can hold");

	/* SAMPLE claiming a billion VMs: refused before anything is allocated */
	memset(&r, 0, sizeof(r));
	{
		struct raw body = { .n = 0 };

		for (int i = 0; i < 3; i++)
			raw_varint(&body, 1);		/* ts, start, wall */
		for (int i = 0; i < 2 * VMMEM_NR_HOST_COUNTERS; i++)
			raw_varint(&body, 0);
		for (int i = 0; i < 2 * VMMEM_NR_HOST_HISTS; i++)
			raw_u8(&body, 0), raw_varint(&body, 0);
		for (int i = 0; i < 4; i++)
			raw_varint(&body, 0);		/* masks */
		raw_fill(&body, 0, 8);		/* meminfo opts */
		raw_u8(&body, 0);
		raw_fill(&body, 0, 12);
		raw_varint(&body, 0);
		raw_u8(&body, 0);
		raw_u8(&body, 0);
		raw_varint(&body, 0);
		raw_varint(&body, 0);
		raw_u8(&body, 0);
		raw_u8(&body, 0);
		raw_varint(&body, 0);
		raw_varint(&body, 1000000000);	/* nr_vms */
		raw_u8(&r, REC_SAMPLE);
		raw_varint(&r, body.n);
		memcpy(r.p + r.n, body.p, body.n);
		r.n += body.n;
	}
	expect_malformed(&r, 0, -EPROTO, "more than 1024 VMs");

	/* a record longer than its chunk */
	raw_record(&r, REC_THREAD, 1ull << 50);
	expect_malformed(&r, 0, -EPROTO, "runs past the end of the chunk");

	/* a number of 11 bytes */
	raw_record(&r, REC_THREAD, 12);
	raw_fill(&r, 0xff, 11);
	raw_u8(&r, 0);
	expect_malformed(&r, 0, -EPROTO, "does not fit in 64 bits");

	/* a string longer than 255 bytes */
	raw_record(&r, REC_THREAD, 6);
	raw_varint(&r, 1);
	raw_varint(&r, 1);
	raw_varint(&r, 1000);
	raw_u8(&r, 'x');
	raw_u8(&r, 'x');
	expect_malformed(&r, 0, -EPROTO, "longer than 255 bytes");

	/* a chunk claiming 16 MiB + 1 of raw data */
	raw_record(&r, REC_END, 3);
	raw_fill(&r, 0, 3);
	expect_malformed(&r, REC_MAX_CHUNK_RAW + 1, -EPROTO, "impossible sizes");
	/* or more than it decompresses to */
	expect_malformed(&r, r.n + 1, -EBADMSG, "does not decompress");

	/* an unknown record type is skipped (a later minor version may add some) */
	raw_record(&r, 200, 2);
	raw_u8(&r, 1);
	raw_u8(&r, 2);
	expect_malformed(&r, 0, -ENODATA, "without its end marker");
}

/* Replay through the core: the deltas it gives add up to those recorded. */
static void test_replay_through_core(void **state)
{
	char path[] = "/tmp/vmmem-test-replay.XXXXXX", backend[64], err[512];
	struct core_options opt = { 0 };
	uint64_t faults = 0, tlb = 0, inflate = 0;
	bool beta_exited = false;
	struct core *c;
	struct file f;
	int fd, ret, snaps = 0;

	(void)state;
	make_file(&f, true);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f.p, f.len), (ssize_t)f.len);
	close(fd);
	free(f.p);
	snprintf(backend, sizeof(backend), "replay:%s", path);
	opt.backend = backend;
	assert_int_equal(core_open(&c, &opt, err, sizeof(err)), 0);
	assert_string_equal(core_backend(c), "replay(bpf)");
	assert_int_equal(core_set_speed(c, INFINITY), 0);
	for (;;) {
		struct snapshot s;

		ret = core_next(c, 1.0, NULL, &s, err, sizeof(err));
		if (ret == -ENODATA)
			break;
		assert_int_equal(ret, 0);
		snaps++;
		assert_true(s.ts_ns >= s.start_ts_ns);
		assert_false(s.available.vm[VMMEM_C_kvm_remote_tlb_flushes]);
		assert_string_equal(s.host.cpu_vendor, "amd");
		for (int i = 0; i < s.nr_vms; i++) {
			faults += s.vms[i].delta.c[VMMEM_C_tdp_faults];
			tlb += s.vms[i].delta.c[VMMEM_C_tlb_shootdown_ipis];
			inflate += s.vms[i].delta.c[VMMEM_C_balloon_inflate_bytes];
			if (s.vms[i].info.pid == 200 && s.vms[i].exited)
				beta_exited = true;
		}
		snapshot_free(&s);
		assert_true(snaps < 100);
	}
	core_close(c);
	unlink(path);
	assert_true(snaps >= 1);
	assert_int_equal(faults, NR_SAMPLES * EV_PER_SAMPLE / 2);
	assert_int_equal(tlb, 3 * 3);
	assert_int_equal(inflate, NR_SAMPLES * 4096 * 10);
	assert_true(beta_exited);
	/* a replay of a file that is not a recording fails at open with one line */
	opt.backend = "replay:/nonexistent/file";
	assert_int_not_equal(core_open(&c, &opt, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "/nonexistent/file"));
}

UNIT_TESTS(
	cmocka_unit_test(test_event_names),
	cmocka_unit_test(test_round_trip),
	cmocka_unit_test(test_report_reconciles),
	cmocka_unit_test(test_report_ipi_targets),
	cmocka_unit_test(test_cut_everywhere),
	cmocka_unit_test(test_writes_whole_chunks),
	cmocka_unit_test(test_bit_flips),
	cmocka_unit_test(test_many_minimal_vms),
	cmocka_unit_test(test_wrong_version),
	cmocka_unit_test(test_huge_counts),
	cmocka_unit_test(test_replay_through_core))
