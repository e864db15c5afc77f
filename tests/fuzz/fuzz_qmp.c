// SPDX-License-Identifier: MIT
/* libFuzzer target: QMP replies. The input is everything a QEMU monitor says on one
 * connection (greeting, replies, events, garbage), written to the far end of a socketpair and
 * closed; vmmemtop's side runs the whole conversation qmp_poll has with each VM (user/facts/qmp.c:
 * framing, qmp_capabilities, query-balloon, qom-list, qom-get of the balloon's stats), so the
 * parsers see replies in the order and shapes a real or hostile monitor sends them. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qmp_conn q;
	struct timespec ts;
	char balloon[QMP_QOM_PATH_MAX] = "", err[256] = "";
	struct vmm_qmp out;
	int sv[2], r;

	/* the client writes ~200 bytes per command: far below a socket's buffer */
	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return 0;
	if (size && write(sv[1], data, size) != (ssize_t)size)
		__builtin_trap();
	shutdown(sv[1], SHUT_WR);	/* end of the monitor's side: a read then sees EOF, never waits */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	q.fd = sv[0];
	q.len = 0;
	q.deadline = ts.tv_sec + ts.tv_nsec / 1e9 + 5;
	memset(&out, 0, sizeof(out));
	r = qmp_handshake(&q, "fuzz", err, sizeof(err));
	if (!r) {
		r = qmp_converse_vm(&q, balloon, &out, err, sizeof(err));
		/* a second round reuses the balloon path the first one found, as qmp_poll does */
		if (!r && balloon[0])
			qmp_converse_vm(&q, balloon, &out, err, sizeof(err));
	}
	if ((r && (!err[0] || strchr(err, '\n'))) || !memchr(balloon, 0, sizeof(balloon)))
		__builtin_trap();
	close(sv[0]);
	close(sv[1]);
	return 0;
}
