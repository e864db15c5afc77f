// SPDX-License-Identifier: MIT
/* libFuzzer target: what /dev/vmmem hands to user space (kmod/uapi/vmmem.h). The input is
 * one read() of the device, decoded by source_kmod_parse() (user/source/source_kmod.c) exactly as
 * the kmod backend does; the same bytes, taken as the struct vmmem_event records that
 * VMMEM_IOC_GET_EVENTS copies out, then go through the recorder (user/record/record_writer.c) into a
 * memory file that must read back with every event, values unchanged. A module of another
 * build, a bug in it, or a device node that is not ours must never crash vmmemtop. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "record_reader.h"
#include "record_writer.h"
#include "source_kmod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_snapshot(const uint8_t *data, size_t size)
{
	static struct source_read out;
	struct counter_mask avail;
	void *copy = malloc(size ? size : 1);	/* exactly size bytes: ASan sees any over-read */

	if (!copy)
		return;
	memcpy(copy, data, size);
	if (source_kmod_parse(copy, size, &out, &avail) == 0) {
		if (out.nr_vms < 0 || out.nr_vms > VMMEM_MAX_VMS)
			__builtin_trap();
		for (int i = 0; i < out.nr_vms; i++)
			if (out.vms[i].state != VMMEM_SLOT_LIVE && out.vms[i].state != VMMEM_SLOT_EXITED)
				__builtin_trap();
	}
	free(copy);
}

static void check_events(const uint8_t *data, size_t size)
{
	static const struct rec_kv meta[] = { { "backend", "kmod" } };
	size_t n = size / sizeof(struct vmmem_event), got = 0;
	struct vmmem_event *ev = malloc(n ? n * sizeof(*ev) : 1);
	struct rec_writer *w = NULL;
	struct rec_reader *r = NULL;
	struct rec_item it;
	char err[256];
	void *file;
	off_t len;
	int fd = memfd_create("fuzz_kmod", MFD_CLOEXEC), ret;

	if (!ev || fd < 0 || rec_writer_open(&w, fd, meta, 1, 1))
		goto out;
	memcpy(ev, data, n * sizeof(*ev));
	for (size_t i = 0; i < n; i++)
		rec_writer_event(w, &ev[i]);
	if (rec_writer_finish(w, 1))
		__builtin_trap();
	len = lseek(fd, 0, SEEK_END);
	file = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	if (file == MAP_FAILED)
		goto out;
	if (rec_reader_open_mem(&r, file, len, err, sizeof(err)))
		__builtin_trap();	/* the writer's own file must open */
	while ((ret = rec_reader_next(r, &it)) > 0) {
		const struct vmmem_event *e;

		if (it.kind != REC_ITEM_EVENT)
			continue;
		if (got >= n)
			__builtin_trap();
		e = &ev[got++];
		/* the format keeps a type in one byte (255: "another type") */
		if (it.event.ts_ns != e->ts_ns || it.event.tgid != e->tgid || it.event.tid != e->tid ||
		    it.event.cpu != e->cpu || it.event.a != e->a || it.event.b != e->b ||
		    it.event.dur_ns != e->dur_ns || it.event.flags != e->flags ||
		    it.event.type != (e->type < 256 ? e->type : 255))
			__builtin_trap();
	}
	if (ret != 0 || got != n)
		__builtin_trap();	/* every event back, and a clean end */
	rec_reader_close(r);
	munmap(file, len);
out:
	rec_writer_free(w);
	if (fd >= 0)
		close(fd);
	free(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_snapshot(data, size);
	check_events(data, size);
	return 0;
}
