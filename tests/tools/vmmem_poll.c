// SPDX-License-Identifier: MIT
/* A bare /dev/vmmem event consumer for the nested rig: takes the stream (rare event types),
 * sits in poll() and drains records until SECONDS pass or SIGTERM, then prints one line of
 * totals by type with the module's dropped_events. It is the "reader blocked in poll" of
 * the unload test, and an oracle-free check that the ring delivers what the counters count.
 * With PID, the line also gives that VMM's tdp_faults as the module counts them ("faults=N",
 * "faults=none" when it has no slot): the stress rig's cheap per-cycle count.
 * usage: vmmem_poll SECONDS [PID] */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "vmmem.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *const names[VMMEM_NR_EV_TYPES] = {
#define NAME(n, nr, help) [nr] = #n,
	VMMEM_EVENTS(NAME)
#undef NAME
};

int main(int argc, char **argv)
{
	static struct vmmem_event evs[256];
	static char snap[sizeof(struct vmmem_snapshot_header) + VMMEM_MAX_VMS * sizeof(struct vmmem_vm_record)];
	struct vmmem_stream_req sreq = { .mask = VMMEM_EV_RARE_MASK };
	unsigned long long by_type[VMMEM_NR_EV_TYPES] = { 0 }, balloon_bytes = 0, total = 0;
	const struct vmmem_snapshot_header *h = (const void *)snap;
	int secs = argc >= 2 && argc <= 3 ? atoi(argv[1]) : 0, fd;
	long pid = argc == 3 ? atol(argv[2]) : 0;
	time_t end;

	if (secs <= 0) {
		fprintf(stderr, "usage: vmmem_poll SECONDS [PID]\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	fd = open("/dev/vmmem", O_RDONLY);
	if (fd < 0 || ioctl(fd, VMMEM_IOC_SET_STREAM, &sreq)) {
		perror("/dev/vmmem");
		return 1;
	}
	printf("polling\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (!stop && time(NULL) < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct vmmem_events_req req = { .buf = (unsigned long)evs, .max = 256 };

		if (poll(&pfd, 1, 500) < 0 && errno != EINTR)
			break;
		do {
			req.count = 0;
			if (ioctl(fd, VMMEM_IOC_GET_EVENTS, &req)) {
				perror("VMMEM_IOC_GET_EVENTS");
				return 1;
			}
			for (unsigned int i = 0; i < req.count; i++) {
				if (evs[i].type < VMMEM_NR_EV_TYPES)
					by_type[evs[i].type]++;
				if (evs[i].type == VMMEM_EV_balloon)
					balloon_bytes += evs[i].a;
			}
			total += req.count;
		} while (req.count == 256);
	}
	/* the SIGTERM that ended the loop may still interrupt the read: retry it */
	ssize_t got;

	do
		got = pread(fd, snap, sizeof(snap), 0);
	while (got < 0 && errno == EINTR);
	if (got < (ssize_t)sizeof(*h)) {
		perror("read /dev/vmmem");
		return 1;
	}
	printf("EVENTS total=%llu", total);
	for (int t = 1; t < VMMEM_NR_EV_TYPES; t++)
		if (names[t])
			printf(" %s=%llu", names[t], by_type[t]);
	printf(" balloon_bytes=%llu dropped=%llu", balloon_bytes,
	       (unsigned long long)h->host.c[VMMEM_H_dropped_events]);
	if (pid > 0) {
		long long faults = -1;

		for (unsigned int i = 0; i < h->nr_vms && i < VMMEM_MAX_VMS; i++) {
			const struct vmmem_vm_record *r = (const void *)(snap + h->header_size + (size_t)i * h->record_size);

			if (h->header_size + (size_t)(i + 1) * h->record_size > sizeof(snap))
				break;
			if (r->tgid == (unsigned long)pid)
				faults = r->counters.c[VMMEM_C_tdp_faults];
		}
		if (faults < 0)
			printf(" faults=none");
		else
			printf(" faults=%lld", faults);
	}
	printf("\n");
	close(fd);
	return 0;
}
