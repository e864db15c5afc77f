// SPDX-License-Identifier: MIT
/* Writes the binary seed corpora (tests/fuzz/corpus/): for the recording reader (record/),
 * small recordings made by the real writer, covering every record type, a cut one, and one
 * without the end marker; for the /dev/vmmem decoder (kmod/), device reads as the module
 * lays them out (kmod/uapi/vmmem.h), followed by event records.
 * usage: make_seeds DIR */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "record_writer.h"

static struct vm_snapshot vms[2];

static void sample(struct snapshot *s, int k)
{
	memset(s, 0, sizeof(*s));
	memset(vms, 0, sizeof(vms));
	s->start_ts_ns = 1000000000ull * k;
	s->ts_ns = s->start_ts_ns + 1000000000ull;
	s->wall_time = 1700000000 + k;
	for (int i = 0; i < VMMEM_NR_VM_COUNTERS; i++)
		s->available.vm[i] = true;
	s->available.host[0] = s->available.vm_hist[0] = s->available.host_hist[0] = true;
	s->host.mem.mem_total_kb = (struct opt_u64){ 1048576, true };
	snprintf(s->host.thp.enabled, sizeof(s->host.thp.enabled), "madvise");
	s->host_hist_delta.h[0].slot[3] = 1;
	for (int v = 0; v < 2; v++) {
		vms[v].info.pid = 100 + v;
		vms[v].seq = v + 1;
		vms[v].exited = v == 1 && k == 1;
		snprintf(vms[v].info.name, sizeof(vms[v].info.name), v ? "b\xc3\xbc" : "a");
		vms[v].info.vcpus = (struct opt_u64){ 1, true };
		snprintf(vms[v].info.qmp.socket, sizeof(vms[v].info.qmp.socket), "/run/q%d", v);
		vms[v].info.qmp.up = v == 0;
		vms[v].info.qmp.v[0] = (struct opt_u64){ 1u << 28, v == 0 };
		vms[v].delta.c[0] = 2;
		vms[v].total.c[0] = 2 * (k + 1);
		vms[v].hist_delta.h[0].slot[12] = 1;
		vms[v].hist_total.h[0].slot[12] = k + 1;
		vms[v].ev_lost.events[7] = k;
	}
	s->nr_vms = 2;
	s->vms = vms;
}

static int write_seed(const char *dir, const char *name, int samples, int end, off_t cut)
{
	const struct rec_kv meta[] = { { "host", "seed" }, { "event_mask", "390" }, { "backend", "bpf" } };
	char path[512];
	struct rec_writer *w;
	struct snapshot s;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || rec_writer_open(&w, fd, meta, 3, 1))
		return 1;
	for (int k = 0; k < samples; k++) {
		for (int i = 0; i < 4; i++) {
			struct vmmem_event ev = { .ts_ns = 1000000000ull * k + 10 + i * 7 - (i == 2) * 9,
						  .type = i == 3 ? 2 : 7, .tgid = 100 + i % 2, .tid = 200 + i,
						  .cpu = i & 1, .a = 0x1000ull * i, .b = 4, .dur_ns = i * 1000 };

			rec_writer_event(w, &ev);
		}
		if (k == 0)
			rec_writer_thread(w, 100, 200, "CPU 0/KVM");
		sample(&s, k);
		rec_writer_sample(w, &s);
		rec_writer_flush(w);
	}
	if (end)
		rec_writer_finish(w, 1000000000ull * samples);
	rec_writer_free(w);
	if (cut && ftruncate(fd, lseek(fd, 0, SEEK_END) - cut))
		return 1;
	return close(fd) != 0;
}

/* A device read with nr_vms records (one live, one exited, one free slot...), then
 * nr_events event records as VMMEM_IOC_GET_EVENTS copies them out. */
static int write_kmod_seed(const char *dir, const char *name, int nr_vms, int nr_events)
{
	static struct {
		struct vmmem_snapshot_header h;
		struct vmmem_vm_record r[3];
		struct vmmem_event ev[4];
	} d;
	char path[512];
	FILE *f;
	size_t len;

	memset(&d, 0, sizeof(d));
	d.h = (struct vmmem_snapshot_header){
		.abi_version = VMMEM_ABI_VERSION, .header_size = sizeof(d.h),
		.record_size = sizeof(d.r[0]), .nr_vms = nr_vms,
		.nr_vm_counters = VMMEM_NR_VM_COUNTERS, .nr_host_counters = VMMEM_NR_HOST_COUNTERS,
		.nr_vm_hists = VMMEM_NR_VM_HISTS, .nr_host_hists = VMMEM_NR_HOST_HISTS,
		.ts_ns = 123456789, .available_vm = 0x7f, .available_host = 3,
		.available_vm_hist = 1, .available_host_hist = 1,
	};
	for (int i = 0; i < 3; i++) {
		d.r[i].tgid = 1000 + i;
		d.r[i].state = i == 0 ? VMMEM_SLOT_LIVE : i == 1 ? VMMEM_SLOT_EXITED : 0;
		d.r[i].seq = i + 1;
		d.r[i].counters.c[0] = 10 * i + 1;
		d.r[i].hists.h[0].slot[5] = i;
	}
	for (int i = 0; i < 4; i++)
		d.ev[i] = (struct vmmem_event){ .ts_ns = 1000 + i * 3, .type = i == 3 ? 300 : i, .tgid = 1000,
						.tid = 1001 + i, .cpu = i & 1, .a = 0x1000ull << i, .b = 1,
						.dur_ns = 100 * i };
	len = sizeof(d.h) + nr_vms * sizeof(d.r[0]);
	memmove((char *)&d + len, d.ev, nr_events * sizeof(d.ev[0]));
	len += nr_events * sizeof(d.ev[0]);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(&d, 1, len, f) != len)
		return 1;
	return fclose(f) != 0;
}

int main(int argc, char **argv)
{
	char rec[512], kmod[512];

	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	snprintf(rec, sizeof(rec), "%s/record", argv[1]);
	snprintf(kmod, sizeof(kmod), "%s/kmod", argv[1]);
	return write_seed(rec, "complete", 2, 1, 0) | write_seed(rec, "one-sample", 1, 1, 0) |
	       write_seed(rec, "no-end", 2, 0, 0) | write_seed(rec, "cut", 2, 1, 7) |
	       write_seed(rec, "header-only", 0, 0, 0) |
	       write_kmod_seed(kmod, "three-slots", 3, 0) | write_kmod_seed(kmod, "one-vm-events", 1, 4) |
	       write_kmod_seed(kmod, "no-vm", 0, 2);
}
