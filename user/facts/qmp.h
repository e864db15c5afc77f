/* SPDX-License-Identifier: MIT */
/* A small QMP client (QEMU Machine Protocol, QEMU docs/interop/qmp-spec.rst): short
 * conversations over a unix socket, every read and write bounded by one deadline, every
 * message bounded in size and parsed with jansson. The pure parsers are separate so the
 * unit tests can feed them malformed replies. */
#ifndef VMMEM_QMP_H
#define VMMEM_QMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "vmm_qmp.h"

#define QMP_MSG_MAX	(256 * 1024)	/* longer replies are refused, not truncated */
#define QMP_QOM_PATH_MAX 128

struct qmp_conn {
	int fd;
	double deadline;		/* CLOCK_MONOTONIC seconds: nothing waits past it */
	size_t len;			/* bytes received and not yet parsed */
	char buf[QMP_MSG_MAX + 1];
};

/* Connect to the socket path (abstract: in the abstract namespace), read QEMU's greeting
 * and enter command mode, all within timeout_ms from now (which also bounds every later
 * call on q). *peer gets the pid of the process that listens on it (SO_PEERCRED).
 * Returns 0, or negative errno with one line in err (the connection is then closed). */
int qmp_open(struct qmp_conn *q, const char *path, bool abstract, int timeout_ms, pid_t *peer,
	     char *err, size_t errsz);

/* Send cmd ({"execute":...}) and wait for its reply, skipping asynchronous events.
 * Returns 0 and *ret (a new reference to the "return" value), -EREMOTEIO with QEMU's
 * error description in err, or another negative errno (timeout, closed, malformed). */
int qmp_execute(struct qmp_conn *q, json_t *cmd, json_t **ret, char *err, size_t errsz);

void qmp_close(struct qmp_conn *q);

/* On a connected q: read QEMU's greeting and enter command mode (what names the peer in
 * err). qmp_open does this; the fuzzer calls it on a socketpair. Returns 0 or negative errno. */
int qmp_handshake(struct qmp_conn *q, const char *what, char *err, size_t errsz);

/* One whole conversation for one VM: query-balloon, then, if it has a balloon, its
 * guest-stats. balloon_path caches the device's QOM path between calls ("" at first; it is
 * looked up under /machine/peripheral and /machine/peripheral-anon). Fills out->v and sets
 * out->up. Returns 0, or negative errno with one line in err. */
int qmp_read_vm(struct qmp_conn *q, const char *path, bool abstract, int timeout_ms, pid_t *peer,
		char balloon_path[QMP_QOM_PATH_MAX], struct vmm_qmp *out, char *err, size_t errsz);

/* qmp_read_vm's conversation on a connection already in command mode (q stays open). */
int qmp_converse_vm(struct qmp_conn *q, char balloon_path[QMP_QOM_PATH_MAX], struct vmm_qmp *out,
		    char *err, size_t errsz);

/* ---- parsers (no I/O) ---- */

/* One QMP message (a JSON object) from a line. Numbers are read as doubles, so that
 * QEMU's "not reported" guest stat (uint64 -1) parses. Returns 0 and *msg, or -EPROTO. */
int qmp_parse_message(const char *line, size_t len, json_t **msg);

/* query-balloon's return: {"actual": bytes}. Returns 0 or -EPROTO. */
int qmp_parse_balloon(const json_t *ret, struct vmm_qmp *out);

/* qom-get guest-stats' return: {"stats": {"stat-...": n, ...}, "last-update": t}, read at
 * wall-clock time now with the device polling every poll_s seconds. A stat the guest does
 * not report (QEMU sends 2^64-1) stays absent. Returns 0, -ENODATA if polling is off
 * (poll_s 0: QEMU then holds only what the driver sent once when it loaded) or nothing came
 * yet, -ESTALE if the guest stopped sending (older than 3 polls + 5 s), or -EPROTO. */
int qmp_parse_guest_stats(const json_t *ret, int64_t now, uint64_t poll_s, struct vmm_qmp *out);

/* qom-list's return (an array of {"name","type"}) under dir: the first child whose type
 * is a virtio-balloon device, as dir/name in path. Returns 0, -ENOENT, or -EPROTO. */
int qmp_find_balloon(const json_t *ret, const char *dir, char *path, size_t pathsz);

#endif
