// SPDX-License-Identifier: MIT
/* Start a command under a chosen pid (clone3 with set_tid, Linux 5.5+, needs
 * CAP_SYS_ADMIN): the way tests force pid reuse without racing the rest of the host.
 * usage: spawn_at_pid PID CMD [ARGS...]; prints nothing, exits 0 once the child runs
 * (the child is left to init), 1 if the pid is taken or clone3 fails. */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct clone_args ca;
	pid_t want, got;

	if (argc < 3 || (want = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: spawn_at_pid PID CMD [ARGS...]\n");
		return 2;
	}
	memset(&ca, 0, sizeof(ca));
	ca.exit_signal = SIGCHLD;
	ca.set_tid = (uintptr_t)&want;
	ca.set_tid_size = 1;
	got = syscall(SYS_clone3, &ca, sizeof(ca));
	if (got < 0) {
		fprintf(stderr, "spawn_at_pid: clone3 with pid %d: %s\n", want, strerror(errno));
		return 1;
	}
	if (got == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "spawn_at_pid: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	return 0;
}
