/* A /dev/vmmem reader that sits in poll() and drains the event ring: the unload test's
 * "reader blocked in poll while rmmod runs". Prints a line per batch of events.
 * usage: vmmem_poll SECONDS */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "vmmem.h"

int main(int argc, char **argv)
{
	int secs = argc == 2 ? atoi(argv[1]) : 0;
	struct vmmem_event evs[64];
	time_t end;
	int fd;

	if (secs <= 0) {
		fprintf(stderr, "usage: vmmem_poll SECONDS\n");
		return 2;
	}
	fd = open("/dev/vmmem", O_RDONLY);
	if (fd < 0) {
		perror("open /dev/vmmem");
		return 1;
	}
	printf("polling\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (time(NULL) < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct vmmem_events_req req = { .buf = (unsigned long)evs, .max = 64 };

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (ioctl(fd, VMMEM_IOC_GET_EVENTS, &req)) {
			perror("VMMEM_IOC_GET_EVENTS");
			return 1;
		}
		printf("events %u\n", req.count);
		fflush(stdout);
	}
	close(fd);
	return 0;
}
