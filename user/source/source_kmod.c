// SPDX-License-Identifier: MIT
/* Kernel-module backend: reads the versioned binary snapshot from /dev/vmmem
 * (kmod/uapi/vmmem.h), asks the module to track VMMs found in /proc, and drains its event
 * stream. Every size and count from the device is checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "source.h"
#include "source_kmod.h"

#define VMMEM_DEV	"/dev/vmmem"
#define EVENTS_BATCH	512

struct kmod_priv {
	int fd;
	bool streaming;
	char *buf;
	size_t bufsz;
	/* exited VMMs already reported: the module keeps them readable for every reader
	 * for VMMEM_EXIT_LINGER_S, this reader skips them until the slot is gone */
	struct source_reaped reaped[VMMEM_MAX_VMS];
	int nr_reaped;
	struct vmmem_event *events;
};

static void mask_from_bits(bool *out, int n, uint64_t bits)
{
	for (int i = 0; i < n; i++)
		out[i] = i < 64 && (bits >> i & 1);
}

int source_kmod_parse(const void *data, size_t len, struct source_read *out, struct counter_mask *avail)
{
	const struct vmmem_snapshot_header *h = data;
	const char *p = data;

	if (len < sizeof(*h))
		return -EPROTO;
	if (h->abi_version != VMMEM_ABI_VERSION || h->header_size < sizeof(*h) || h->header_size > len ||
	    h->record_size < sizeof(struct vmmem_vm_record) ||
	    h->nr_vm_counters != VMMEM_NR_VM_COUNTERS || h->nr_host_counters != VMMEM_NR_HOST_COUNTERS ||
	    h->nr_vm_hists != VMMEM_NR_VM_HISTS || h->nr_host_hists != VMMEM_NR_HOST_HISTS)
		return -EPROTO;
	if (h->nr_vms > VMMEM_MAX_VMS || h->record_size > 1u << 20 ||
	    (size_t)h->header_size + (size_t)h->nr_vms * h->record_size > len)
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->ts_ns = h->ts_ns;
	out->host = h->host;
	out->host_hists = h->host_hists;
	for (uint32_t i = 0; i < h->nr_vms; i++) {
		const struct vmmem_vm_record *r =
			(const void *)(p + h->header_size + (size_t)i * h->record_size);
		struct source_vm *vm = &out->vms[out->nr_vms];

		if (r->state != VMMEM_SLOT_LIVE && r->state != VMMEM_SLOT_EXITED)
			continue;
		vm->tgid = r->tgid;
		vm->state = r->state;
		vm->seq = r->seq;
		vm->counters = r->counters;
		vm->hists = r->hists;
		vm->lost = r->lost;
		vm->unavailable = r->unavailable;
		out->nr_vms++;
	}
	if (avail) {
		mask_from_bits(avail->vm, VMMEM_NR_VM_COUNTERS, h->available_vm);
		mask_from_bits(avail->host, VMMEM_NR_HOST_COUNTERS, h->available_host);
		mask_from_bits(avail->vm_hist, VMMEM_NR_VM_HISTS, h->available_vm_hist);
		mask_from_bits(avail->host_hist, VMMEM_NR_HOST_HISTS, h->available_host_hist);
	}
	return 0;
}

/* Drop reported exits from out; forget those the module has freed. */
static void filter_reaped(struct kmod_priv *p, struct source_read *out)
{
	int n = 0, kept = 0;

	for (int i = 0; i < p->nr_reaped; i++) {
		bool present = false;

		for (int j = 0; j < out->nr_vms && !present; j++)
			present = out->vms[j].tgid == p->reaped[i].tgid && out->vms[j].seq == p->reaped[i].seq;
		if (present)
			p->reaped[kept++] = p->reaped[i];
	}
	p->nr_reaped = kept;
	for (int i = 0; i < out->nr_vms; i++) {
		if (source_reaped_has(p->reaped, p->nr_reaped, out->vms[i].tgid, out->vms[i].seq))
			continue;
		if (n != i)
			out->vms[n] = out->vms[i];
		n++;
	}
	out->nr_vms = n;
}

static int kmod_read(struct source *src, struct source_read *out)
{
	struct kmod_priv *p = src->priv;
	ssize_t n = pread(p->fd, p->buf, p->bufsz, 0);
	int ret;

	if (n < 0)
		return -errno;
	ret = source_kmod_parse(p->buf, n, out, &src->available);
	if (ret)
		return ret;
	filter_reaped(p, out);
	return 0;
}

static int kmod_track(struct source *src, pid_t tgid)
{
	struct kmod_priv *p = src->priv;
	struct vmmem_track_req req = { .tgid = tgid };

	if (tgid <= 0)
		return -EINVAL;
	/* without CAP_SYS_ADMIN the module still claims each VMM at its first KVM event */
	return ioctl(p->fd, VMMEM_IOC_TRACK, &req) ? -errno : 0;
}

static int kmod_reap(struct source *src, pid_t tgid, uint64_t seq)
{
	struct kmod_priv *p = src->priv;

	if (source_reaped_has(p->reaped, p->nr_reaped, tgid, seq))
		return 0;
	if (p->nr_reaped == VMMEM_MAX_VMS)
		return -ENOSPC;
	p->reaped[p->nr_reaped++] = (struct source_reaped){ tgid, seq };
	return 0;
}

static int kmod_poll_events(struct source *src, int timeout_ms,
			    void (*cb)(void *ctx, const struct vmmem_event *ev), void *ctx)
{
	struct kmod_priv *p = src->priv;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
	int total = 0;

	if (!p->streaming)
		return -EOPNOTSUPP;
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	for (;;) {
		struct vmmem_events_req req = { .buf = (uintptr_t)p->events, .max = EVENTS_BATCH };

		if (ioctl(p->fd, VMMEM_IOC_GET_EVENTS, &req))
			return -errno;
		for (uint32_t i = 0; i < req.count && i < EVENTS_BATCH; i++)
			cb(ctx, &p->events[i]);
		total += req.count;
		if (req.count < EVENTS_BATCH)
			return total;
	}
}

static void kmod_close(struct source *src)
{
	struct kmod_priv *p = src->priv;

	if (!p)
		return;
	close(p->fd);		/* releases the stream */
	free(p->buf);
	free(p->events);
	free(p);
	src->priv = NULL;
}

static const struct source_ops kmod_ops = {
	SOURCE_OPS_REQUIRED(kmod),
	.poll_events = kmod_poll_events,
};

static int open_device(char *err, size_t errsz)
{
	int fd = open(VMMEM_DEV, O_RDONLY | O_CLOEXEC), e, ver;

	if (fd < 0) {
		e = errno;
		if (e == ENOENT)
			snprintf(err, errsz, "no %s (the vmmem kernel module is not loaded: make kmod && insmod vmmem.ko)",
				 VMMEM_DEV);
		else
			snprintf(err, errsz, "cannot open %s: %s%s", VMMEM_DEV, strerror(e),
				 e == EACCES ? " (join the group the module's gid= parameter names)" : "");
		return -e;
	}
	ver = ioctl(fd, VMMEM_IOC_ABI_VERSION);
	if (ver != VMMEM_ABI_VERSION) {
		snprintf(err, errsz, "%s speaks ABI %d, this vmmemtop speaks %d: rebuild one of them",
			 VMMEM_DEV, ver, VMMEM_ABI_VERSION);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

static int start_stream(int fd, uint64_t mask, uint64_t slow_ns, char *err, size_t errsz)
{
	struct vmmem_stream_req req = { .mask = mask, .slow_ns = slow_ns };
	int e;

	if (!ioctl(fd, VMMEM_IOC_SET_STREAM, &req))
		return 0;
	e = errno;
	if (e == EBUSY)
		snprintf(err, errsz, "%s: another process holds the event stream (one recorder at a time)",
			 VMMEM_DEV);
	else if (e == EPERM)
		snprintf(err, errsz, "%s: streaming every TDP fault, exit, shootdown or merge needs CAP_PERFMON",
			 VMMEM_DEV);
	else
		snprintf(err, errsz, "%s: cannot start the event stream: %s", VMMEM_DEV, strerror(e));
	return -e;
}

/* "kmod" takes no ARG: source_factory_find() matched it whole */
static int source_kmod_open(struct source *src, const char *arg, const struct source_options *opt,
			    char *err, size_t errsz)
{
	struct kmod_priv *p;
	int fd, ret;

	(void)arg;
	memset(src, 0, sizeof(*src));
	fd = open_device(err, errsz);
	if (fd < 0)
		return fd;
	p = calloc(1, sizeof(*p));
	if (p) {
		p->bufsz = sizeof(struct vmmem_snapshot_header) + VMMEM_MAX_VMS * sizeof(struct vmmem_vm_record);
		p->buf = malloc(p->bufsz);
		p->events = calloc(EVENTS_BATCH, sizeof(*p->events));
	}
	if (!p || !p->buf || !p->events) {
		if (p) {
			free(p->buf);
			free(p->events);
		}
		free(p);
		close(fd);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->fd = fd;
	src->ops = &kmod_ops;
	src->name = "kmod";
	src->priv = p;
	if (opt && opt->stream_mask) {
		ret = start_stream(fd, opt->stream_mask, opt->slow_ns, err, errsz);
		if (ret) {
			kmod_close(src);
			return ret;
		}
		p->streaming = true;
	}
	return 0;
}

const struct source_factory source_kmod_factory = {
	.prefix = "kmod",
	.open = source_kmod_open,
};
