// SPDX-License-Identifier: MIT
/* Calls every /dev/vmmem ioctl (and read) with what a confused or hostile caller passes:
 * sizes and directions the command numbers do not encode, unknown numbers and magics,
 * unknown flag bits, reserved fields set, out-of-range counts, bad pointers. Each call must
 * fail with the errno the uapi's kernel-doc (kmod/uapi/vmmem.h) lists for it, or succeed
 * where it documents success. Prints "IOCTL name: got X, want Y ok|BAD" per case and
 * "IOCTL_SUMMARY cases=N bad=M". Run as root (TRACK and RESET need CAP_SYS_ADMIN).
 * usage: vmmem_ioctl_check [DEVICE] */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "vmmem.h"

static int cases, bad;

/* ret: the call's return value (-1 with errno set, else its value); want: -errno or a value */
static void check(const char *name, long ret, int err, long want)
{
	long got = ret < 0 ? -err : ret;
	int ok = got == want;

	cases++;
	bad += !ok;
	printf("IOCTL %s: got %ld (%s), want %ld (%s) %s\n", name, got, got < 0 ? strerror(-got) : "-", want,
	       want < 0 ? strerror(-want) : "-", ok ? "ok" : "BAD");
}

#define CALL(name, fd, cmd, arg, want) do {			\
	long r_ = ioctl(fd, cmd, arg);				\
	check(name, r_, errno, want);				\
} while (0)

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/vmmem";
	struct vmmem_events_req ev;
	struct vmmem_stream_req st;
	struct vmmem_track_req tr;
	static struct vmmem_event evbuf[8];
	static char snap[1 << 22];
	void *ro, *unmapped;
	long r;
	int fd = open(dev, O_RDONLY), fd2;

	if (fd < 0) {
		printf("IOCTL_SUMMARY cannot open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	/* a read-only page (copy_to_user must fault) and an unmapped one */
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(unmapped, 4096);

	/* ABI_VERSION: any argument is ignored */
	CALL("abi_version", fd, VMMEM_IOC_ABI_VERSION, 0, VMMEM_ABI_VERSION);
	CALL("abi_version with an argument", fd, VMMEM_IOC_ABI_VERSION, 12345, VMMEM_ABI_VERSION);

	/* unknown numbers, another magic, a terminal ioctl: -ENOTTY */
	CALL("nr 0x00", fd, _IO(VMMEM_IOC_MAGIC, 0x00), 0, -ENOTTY);
	CALL("nr 0x06 (next free)", fd, _IO(VMMEM_IOC_MAGIC, 0x06), 0, -ENOTTY);
	CALL("nr 0xff", fd, _IOWR(VMMEM_IOC_MAGIC, 0xff, struct vmmem_events_req), &ev, -ENOTTY);
	CALL("other magic", fd, _IO(VMMEM_IOC_MAGIC + 1, 0x01), 0, -ENOTTY);
	CALL("TCGETS", fd, 0x5401, snap, -ENOTTY);

	/* sizes and directions the commands do not encode: other command numbers, -ENOTTY */
	CALL("abi_version as _IOR(int)", fd, _IOR(VMMEM_IOC_MAGIC, 0x01, int), snap, -ENOTTY);
	CALL("reset as _IOW(u64)", fd, _IOW(VMMEM_IOC_MAGIC, 0x02, __u64), snap, -ENOTTY);
	CALL("get_events size 8", fd, _IOC(_IOC_READ | _IOC_WRITE, VMMEM_IOC_MAGIC, 0x03, 8), snap, -ENOTTY);
	CALL("get_events size 24", fd, _IOC(_IOC_READ | _IOC_WRITE, VMMEM_IOC_MAGIC, 0x03, 24), snap, -ENOTTY);
	CALL("get_events as _IOW", fd, _IOW(VMMEM_IOC_MAGIC, 0x03, struct vmmem_events_req), snap, -ENOTTY);
	CALL("set_stream size 8", fd, _IOC(_IOC_WRITE, VMMEM_IOC_MAGIC, 0x04, 8), snap, -ENOTTY);
	CALL("set_stream size 24", fd, _IOC(_IOC_WRITE, VMMEM_IOC_MAGIC, 0x04, 24), snap, -ENOTTY);
	CALL("set_stream as _IOWR", fd, _IOWR(VMMEM_IOC_MAGIC, 0x04, struct vmmem_stream_req), snap, -ENOTTY);
	CALL("track size 4", fd, _IOC(_IOC_WRITE, VMMEM_IOC_MAGIC, 0x05, 4), snap, -ENOTTY);
	CALL("track size 16", fd, _IOC(_IOC_WRITE, VMMEM_IOC_MAGIC, 0x05, 16), snap, -ENOTTY);
	CALL("track as _IOR", fd, _IOR(VMMEM_IOC_MAGIC, 0x05, struct vmmem_track_req), snap, -ENOTTY);
	CALL("track as _IO", fd, _IO(VMMEM_IOC_MAGIC, 0x05), 0, -ENOTTY);

	/* SET_STREAM: unknown bits, bad pointers */
	st = (struct vmmem_stream_req){ .mask = 1ull << 63 };
	CALL("set_stream mask bit 63", fd, VMMEM_IOC_SET_STREAM, &st, -EINVAL);
	st = (struct vmmem_stream_req){ .mask = VMMEM_EV_BIT(VMMEM_NR_EV_TYPES) };
	CALL("set_stream first unknown type", fd, VMMEM_IOC_SET_STREAM, &st, -EINVAL);
	st = (struct vmmem_stream_req){ .mask = 1 };
	CALL("set_stream type 0 (none)", fd, VMMEM_IOC_SET_STREAM, &st, -EINVAL);
	CALL("set_stream NULL", fd, VMMEM_IOC_SET_STREAM, NULL, -EFAULT);
	CALL("set_stream unmapped", fd, VMMEM_IOC_SET_STREAM, unmapped, -EFAULT);
	CALL("set_stream kernel address", fd, VMMEM_IOC_SET_STREAM, (void *)0xffffffff81000000ul, -EFAULT);

	/* GET_EVENTS without the stream, then with it */
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = 8 };
	CALL("get_events without the stream", fd, VMMEM_IOC_GET_EVENTS, &ev, -EPERM);
	st = (struct vmmem_stream_req){ .mask = VMMEM_EV_BIT(VMMEM_EV_vm_start) | VMMEM_EV_BIT(VMMEM_EV_vm_exit) };
	CALL("set_stream vm_start,vm_exit", fd, VMMEM_IOC_SET_STREAM, &st, 0);
	fd2 = open(dev, O_RDONLY);
	CALL("set_stream from a second file", fd2, VMMEM_IOC_SET_STREAM, &st, -EBUSY);
	CALL("get_events from a second file", fd2, VMMEM_IOC_GET_EVENTS, &ev, -EPERM);
	close(fd2);
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = 0 };
	CALL("get_events max 0", fd, VMMEM_IOC_GET_EVENTS, &ev, -EINVAL);
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = VMMEM_EVENTS_REQ_MAX + 1 };
	CALL("get_events max above the limit", fd, VMMEM_IOC_GET_EVENTS, &ev, -EINVAL);
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = 8, .count = 1 };
	CALL("get_events count not 0", fd, VMMEM_IOC_GET_EVENTS, &ev, -EINVAL);
	CALL("get_events NULL", fd, VMMEM_IOC_GET_EVENTS, NULL, -EFAULT);
	CALL("get_events unmapped", fd, VMMEM_IOC_GET_EVENTS, unmapped, -EFAULT);
	/* the request itself on a read-only page: the count cannot be written back */
	memcpy(snap, &(struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = 8 }, sizeof(ev));
	if (mprotect(ro, 4096, PROT_READ | PROT_WRITE) == 0) {
		memcpy(ro, snap, sizeof(ev));
		mprotect(ro, 4096, PROT_READ);
		CALL("get_events request read-only", fd, VMMEM_IOC_GET_EVENTS, ro, -EFAULT);
	}
	/* a vm_start record pending (tracking this process emits one), into a bad buffer */
	tr = (struct vmmem_track_req){ .tgid = getpid() };
	CALL("track self", fd, VMMEM_IOC_TRACK, &tr, 0);
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)unmapped, .max = 8 };
	CALL("get_events into an unmapped buffer", fd, VMMEM_IOC_GET_EVENTS, &ev, -EFAULT);
	ev = (struct vmmem_events_req){ .buf = (uintptr_t)evbuf, .max = 8 };
	CALL("get_events good", fd, VMMEM_IOC_GET_EVENTS, &ev, 0);
	st = (struct vmmem_stream_req){ .mask = 0 };
	CALL("set_stream release", fd, VMMEM_IOC_SET_STREAM, &st, 0);

	/* TRACK: reserved, out-of-range tgids, bad pointers, twice, no such process */
	tr = (struct vmmem_track_req){ .tgid = getpid(), .reserved = 1 };
	CALL("track reserved 1", fd, VMMEM_IOC_TRACK, &tr, -EINVAL);
	tr = (struct vmmem_track_req){ .tgid = getpid(), .reserved = 0x80000000u };
	CALL("track reserved top bit", fd, VMMEM_IOC_TRACK, &tr, -EINVAL);
	tr = (struct vmmem_track_req){ .tgid = 0 };
	CALL("track tgid 0", fd, VMMEM_IOC_TRACK, &tr, -EINVAL);
	tr = (struct vmmem_track_req){ .tgid = 0xffffffffu };
	CALL("track tgid 2^32-1", fd, VMMEM_IOC_TRACK, &tr, -EINVAL);
	tr = (struct vmmem_track_req){ .tgid = getpid() };
	CALL("track self again", fd, VMMEM_IOC_TRACK, &tr, -EEXIST);
	tr = (struct vmmem_track_req){ .tgid = 4000000 };	/* above any pid this guest made */
	CALL("track no such process", fd, VMMEM_IOC_TRACK, &tr, -ESRCH);
	CALL("track NULL", fd, VMMEM_IOC_TRACK, NULL, -EFAULT);
	CALL("track unmapped", fd, VMMEM_IOC_TRACK, unmapped, -EFAULT);

	/* RESET: any argument is ignored */
	CALL("reset", fd, VMMEM_IOC_RESET, 0, 0);
	CALL("reset with an argument", fd, VMMEM_IOC_RESET, unmapped, 0);

	/* read(): too small, bad buffer, not at offset 0 */
	r = pread(fd, snap, 8, 0);
	check("read 8 bytes", r, errno, -EMSGSIZE);
	r = pread(fd, unmapped, sizeof(snap), 0);
	check("read into an unmapped buffer", r, errno, -EFAULT);
	r = pread(fd, snap, sizeof(snap), 0);
	check("read whole (positive size)", r > 0 ? 1 : r, errno, 1);
	r = pread(fd, snap, sizeof(snap), 16);
	check("read at offset 16", r, errno, 0);

	printf("IOCTL_SUMMARY cases=%d bad=%d\n", cases, bad);
	close(fd);
	return bad ? 1 : 0;
}
