/* Kernel-module backend: reads the versioned binary snapshot from /dev/vmmem
 * (kmod/uapi/vmmem.h). Every size and count from the device is checked before use. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "source.h"

#define VMMEM_DEV "/dev/vmmem"

struct kmod_priv {
	int fd;
	char *buf;
	size_t bufsz;
};

static int kmod_track(struct source *src, pid_t tgid)
{
	/* the module claims VMMs itself, on their first KVM event */
	(void)src;
	(void)tgid;
	return -EOPNOTSUPP;
}

/* Parse one read() of the device into out. Exposed for unit tests. */
int source_kmod_parse(const void *data, size_t len, struct source_read *out)
{
	const struct vmmem_snapshot_header *h = data;
	const char *p = data;

	if (len < sizeof(*h))
		return -EPROTO;
	if (h->abi_version != VMMEM_ABI_VERSION || h->header_size < sizeof(*h) ||
	    h->record_size < sizeof(struct vmmem_vm_record) ||
	    h->nr_vm_counters != VMMEM_NR_VM_COUNTERS || h->nr_host_counters != VMMEM_NR_HOST_COUNTERS)
		return -EPROTO;
	if (h->nr_vms > VMMEM_MAX_VMS ||
	    (size_t)h->header_size + (size_t)h->nr_vms * h->record_size > len)
		return -EPROTO;
	memset(out, 0, sizeof(*out));
	out->ts_ns = h->ts_ns;
	out->host = h->host;
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
		out->nr_vms++;
	}
	return 0;
}

static int kmod_read(struct source *src, struct source_read *out)
{
	struct kmod_priv *p = src->priv;
	ssize_t n = pread(p->fd, p->buf, p->bufsz, 0);

	if (n < 0)
		return -errno;
	return source_kmod_parse(p->buf, n, out);
}

static int kmod_reap(struct source *src, pid_t tgid, uint64_t seq)
{
	/* the module frees an exited slot once a read() has returned it */
	(void)src;
	(void)tgid;
	(void)seq;
	return 0;
}

static void kmod_close(struct source *src)
{
	struct kmod_priv *p = src->priv;

	if (!p)
		return;
	close(p->fd);
	free(p->buf);
	free(p);
	src->priv = NULL;
}

static const struct source_ops kmod_ops = {
	.track = kmod_track,
	.read = kmod_read,
	.reap = kmod_reap,
	.close = kmod_close,
};

int source_kmod_open(struct source *src, const struct source_options *opt, char *err, size_t errsz)
{
	struct kmod_priv *p;
	int fd, ver;

	(void)opt;
	memset(src, 0, sizeof(*src));
	fd = open(VMMEM_DEV, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errsz, "no %s (the vmmem kernel module is not loaded: make kmod && insmod kmod/vmmem.ko)",
				 VMMEM_DEV);
		else
			snprintf(err, errsz, "cannot open %s: %s%s", VMMEM_DEV, strerror(e),
				 e == EACCES ? " (join the device's group, see the module's group= parameter)" : "");
		return -e;
	}
	ver = ioctl(fd, VMMEM_IOC_ABI_VERSION);
	if (ver != VMMEM_ABI_VERSION) {
		snprintf(err, errsz, "%s speaks ABI %d, this vmmemtop speaks %d: rebuild one of them",
			 VMMEM_DEV, ver, VMMEM_ABI_VERSION);
		close(fd);
		return -EPROTO;
	}
	p = calloc(1, sizeof(*p));
	if (p)
		p->bufsz = sizeof(struct vmmem_snapshot_header) + VMMEM_MAX_VMS * sizeof(struct vmmem_vm_record);
	if (!p || !(p->buf = malloc(p->bufsz))) {
		free(p);
		close(fd);
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->fd = fd;
	src->ops = &kmod_ops;
	src->name = "kmod";
	src->priv = p;
	for (int i = 0; i < VMMEM_NR_VM_COUNTERS; i++)
		src->available.vm[i] = true;
	for (int i = 0; i < VMMEM_NR_HOST_COUNTERS; i++)
		src->available.host[i] = true;
	return 0;
}
