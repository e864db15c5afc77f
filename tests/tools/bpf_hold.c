// SPDX-License-Identifier: MIT
/* Holds loaded BPF programs (by id) after their loader exits, and attaches or detaches them on
 * request: the syscall bench's way to switch exactly vmmemtop's hooks on and off many times a
 * second, which restarting vmmemtop (2 s of verifier) cannot.
 * usage: bpf_hold HOOK...   HOOK: raw:PROG_ID (tp_btf/raw_tp: the program names its tracepoint)
 *                                 tp:PROG_ID:CATEGORY/NAME (a classic tracepoint, via perf)
 * stdin: "attach", "attach I J..." or "detach", one per line; each answered "ok N" (N hooks
 * attached) or "error: ..." on stdout. "attach I J..." attaches only the hooks given as the
 * I-th, J-th... argument (from 1) and detaches the others: the switch bench's way to tell
 * which program costs what. Exits at EOF, when every attachment goes with its fds. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_HOOKS 64

struct hook {
	int prog_fd, tp_id, link_fd;	/* tp_id 0: a raw tracepoint (tp_btf) program */
};

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int tracepoint_id(const char *name)
{
	static const char *const roots[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[512], buf[32];

	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		int fd, n;

		snprintf(path, sizeof(path), "%s/events/%s/id", roots[i], name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			return atoi(buf);
		}
	}
	return -1;
}

static int hook_attach(struct hook *h)
{
	union bpf_attr attr;

	if (!h->tp_id) {
		/* tracing programs of attach type BPF_TRACE_RAW_TP carry their tracepoint:
		 * the name must be NULL (kernel/bpf/syscall.c bpf_raw_tp_link_attach()) */
		memset(&attr, 0, sizeof(attr));
		attr.raw_tracepoint.prog_fd = h->prog_fd;
		h->link_fd = sys_bpf(BPF_RAW_TRACEPOINT_OPEN, &attr);
		return h->link_fd < 0 ? -errno : 0;
	}
	/* as libbpf attaches a tracepoint program: one perf event on CPU 0 for every task;
	 * the program runs on every CPU (kernel/trace/trace_event_perf.c, the event's prog_array) */
	struct perf_event_attr pa = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(pa),
				      .config = h->tp_id, .sample_period = 1, .wakeup_events = 1 };

	h->link_fd = syscall(__NR_perf_event_open, &pa, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (h->link_fd < 0)
		return -errno;
	if (ioctl(h->link_fd, PERF_EVENT_IOC_SET_BPF, h->prog_fd) ||
	    ioctl(h->link_fd, PERF_EVENT_IOC_ENABLE, 0)) {
		int err = -errno;

		close(h->link_fd);
		h->link_fd = -1;
		return err;
	}
	return 0;
}

static void hooks_detach(struct hook *hooks, int n)
{
	for (int i = 0; i < n; i++) {
		if (hooks[i].link_fd >= 0)
			close(hooks[i].link_fd);
		hooks[i].link_fd = -1;
	}
}

/* " I J...\n" -> want[I-1], want[J-1]... (all of them for an empty list); -1 if malformed */
static int parse_subset(const char *s, int n, bool *want)
{
	bool any = false;

	memset(want, 0, n * sizeof(*want));
	for (;;) {
		char *end;
		long i;

		while (*s == ' ')
			s++;
		if (*s == '\n' || !*s)
			break;
		i = strtol(s, &end, 10);
		if (end == s || i < 1 || i > n)
			return -1;
		want[i - 1] = any = true;
		s = end;
	}
	if (!any)
		memset(want, 1, n * sizeof(*want));
	return 0;
}

int main(int argc, char **argv)
{
	struct hook hooks[MAX_HOOKS];
	int n = 0;
	char line[512];

	if (argc < 2 || argc - 1 > MAX_HOOKS) {
		fprintf(stderr, "usage: bpf_hold raw:PROG_ID|tp:PROG_ID:CATEGORY/NAME... (at most %d)\n", MAX_HOOKS);
		return 2;
	}
	for (int i = 1; i < argc; i++, n++) {
		union bpf_attr attr;
		char *end, *arg = argv[i];
		int raw = !strncmp(arg, "raw:", 4);
		unsigned long id;

		if (!raw && strncmp(arg, "tp:", 3)) {
			fprintf(stderr, "bpf_hold: %s: not raw:ID or tp:ID:CATEGORY/NAME\n", arg);
			return 2;
		}
		errno = 0;
		id = strtoul(arg + (raw ? 4 : 3), &end, 10);
		if (errno || !id || id > 0xffffffffUL || (raw ? *end != 0 : *end != ':')) {
			fprintf(stderr, "bpf_hold: %s: bad program id\n", arg);
			return 2;
		}
		hooks[n].link_fd = -1;
		hooks[n].tp_id = raw ? 0 : tracepoint_id(end + 1);
		if (hooks[n].tp_id < 0) {
			fprintf(stderr, "bpf_hold: %s: no such tracepoint in tracefs\n", end + 1);
			return 1;
		}
		memset(&attr, 0, sizeof(attr));
		attr.prog_id = id;
		hooks[n].prog_fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
		if (hooks[n].prog_fd < 0) {
			fprintf(stderr, "bpf_hold: program %lu: %s\n", id, strerror(errno));
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin)) {
		int err = 0, i, attached = 0;

		if (!strncmp(line, "attach", 6) && (line[6] == '\n' || line[6] == ' ')) {
			bool want[MAX_HOOKS];

			if (parse_subset(line + 6, n, want)) {
				printf("error: bad hook numbers in %s", line);
				continue;
			}
			for (i = 0; i < n && !err; i++) {
				if (!want[i] && hooks[i].link_fd >= 0) {
					close(hooks[i].link_fd);
					hooks[i].link_fd = -1;
				}
				err = want[i] && hooks[i].link_fd < 0 ? hook_attach(&hooks[i]) : 0;
			}
			if (err) {
				printf("error: %s: %s\n", argv[i], strerror(-err));
				continue;
			}
		} else if (!strcmp(line, "detach\n")) {
			hooks_detach(hooks, n);
		} else {
			printf("error: unknown command %s", line);
			continue;
		}
		for (i = 0; i < n; i++)
			attached += hooks[i].link_fd >= 0;
		printf("ok %d\n", attached);
	}
	hooks_detach(hooks, n);
	return 0;
}
