/* Writes the fuzzer's seed corpus (tests/fuzz/corpus/): small recordings made by the real
 * writer, covering every record type, a cut one, and one without the end marker.
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

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: make_seeds DIR\n");
		return 2;
	}
	return write_seed(argv[1], "complete", 2, 1, 0) | write_seed(argv[1], "one-sample", 1, 1, 0) |
	       write_seed(argv[1], "no-end", 2, 0, 0) | write_seed(argv[1], "cut", 2, 1, 7) |
	       write_seed(argv[1], "header-only", 0, 0, 0);
}
