// SPDX-License-Identifier: MIT
/* A small QMP client: see qmp.h. QEMU answers one client per monitor at a time (a second
 * connection waits in the listen backlog), so conversations are kept short: connect, a few
 * commands, close. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "qmp.h"
#include "guest_ram.h"

const char *const vmm_qmp_names[VMM_QMP_NR] = {
#define X(name, key, unit, kind, help) #name,
	VMM_QMP_FIELDS(X)
#undef X
};
const char *const vmm_qmp_keys[VMM_QMP_NR] = {
#define X(name, key, unit, kind, help) key,
	VMM_QMP_FIELDS(X)
#undef X
};
const char *const vmm_qmp_help[VMM_QMP_NR] = {
#define X(name, key, unit, kind, help) help,
	VMM_QMP_FIELDS(X)
#undef X
};
const int vmm_qmp_kinds[VMM_QMP_NR] = {
#define X(name, key, unit, kind, help) kind,
	VMM_QMP_FIELDS(X)
#undef X
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Milliseconds left before the deadline (0 when past it). */
static int left_ms(const struct qmp_conn *q)
{
	double l = q->deadline - mono_s();

	return l > 0 ? (int)(l * 1000) + 1 : 0;
}

/* ---- parsers ---- */

int qmp_parse_message(const char *line, size_t len, json_t **msg)
{
	json_t *o = json_loadb(line, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, NULL);

	if (!o || !json_is_object(o)) {
		json_decref(o);
		return -EPROTO;
	}
	*msg = o;
	return 0;
}

/* A byte count or counter: a whole number in [0, 2^53] (beyond that a double is not exact,
 * and QEMU's "not reported" 2^64-1 is far beyond). */
static bool count_value(const json_t *j, uint64_t *v)
{
	double d;

	if (!json_is_number(j))
		return false;
	d = json_number_value(j);
	if (!(d >= 0 && d <= 9007199254740992.0) || d != floor(d))
		return false;
	*v = (uint64_t)d;
	return true;
}

int qmp_parse_balloon(const json_t *ret, struct vmm_qmp *out)
{
	uint64_t v;

	if (!json_is_object(ret) || !count_value(json_object_get(ret, "actual"), &v))
		return -EPROTO;
	out->v[VMM_QMP_balloon_actual_bytes] = (struct opt_u64){ v, true };
	return 0;
}

int qmp_parse_guest_stats(const json_t *ret, int64_t now, uint64_t poll_s, struct vmm_qmp *out)
{
	const json_t *stats = json_object_get(ret, "stats");
	uint64_t t, v;

	if (!json_is_object(ret) || !json_is_object(stats) || !count_value(json_object_get(ret, "last-update"), &t))
		return -EPROTO;
	if (t == 0 || poll_s == 0)
		return -ENODATA;
	/* last-update is QEMU's time(NULL) on this same host (virtio-balloon.c
	 * balloon_stats_poll_cb) */
	if (poll_s > 86400 || (int64_t)t < now - (int64_t)(3 * poll_s + 5))
		return -ESTALE;
	for (int k = 0; k < VMM_QMP_NR; k++) {
		if (strncmp(vmm_qmp_keys[k], "stat-", 5))
			continue;
		out->v[k] = (struct opt_u64){ 0 };
		if (count_value(json_object_get(stats, vmm_qmp_keys[k]), &v))
			out->v[k] = (struct opt_u64){ v, true };
	}
	out->v[VMM_QMP_guest_stats_last_update_timestamp_seconds] = (struct opt_u64){ t, true };
	return 0;
}

int qmp_find_balloon(const json_t *ret, const char *dir, char *path, size_t pathsz)
{
	static const char want[] = "child<virtio-balloon";
	size_t i;
	json_t *e;

	if (!json_is_array(ret))
		return -EPROTO;
	json_array_foreach(ret, i, e) {
		const char *name = json_string_value(json_object_get(e, "name"));
		const char *type = json_string_value(json_object_get(e, "type"));
		int n;

		if (!name || !type || strncmp(type, want, sizeof(want) - 1) || !name[0] || strchr(name, '/'))
			continue;
		n = snprintf(path, pathsz, "%s/%s", dir, name);
		if (n > 0 && (size_t)n < pathsz)
			return 0;
	}
	return -ENOENT;
}

/* ---- transport ---- */

static int send_all(struct qmp_conn *q, const char *s, size_t len)
{
	while (len) {
		struct pollfd pfd = { .fd = q->fd, .events = POLLOUT };
		ssize_t n = send(q->fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			s += n;
			len -= n;
			continue;
		}
		if (n < 0 && errno == EPIPE)
			return -ECONNRESET;	/* QEMU closed first: the same end as a read sees */
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (!left_ms(q))
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left_ms(q)) < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

/* Next message (one JSON object per line). */
static int recv_message(struct qmp_conn *q, json_t **msg)
{
	for (;;) {
		char *nl = memchr(q->buf, '\n', q->len);
		struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t used = nl - q->buf + 1;
			int ret = qmp_parse_message(q->buf, used, msg);

			memmove(q->buf, q->buf + used, q->len - used);
			q->len -= used;
			return ret;
		}
		if (q->len >= QMP_MSG_MAX)
			return -EMSGSIZE;
		n = recv(q->fd, q->buf + q->len, QMP_MSG_MAX - q->len, MSG_DONTWAIT);
		if (n > 0) {
			q->len += n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (!left_ms(q))
			return -ETIMEDOUT;
		if (poll(&pfd, 1, left_ms(q)) < 0 && errno != EINTR)
			return -errno;
	}
}

static const char *why(int ret)
{
	switch (ret) {
	case -ETIMEDOUT: return "no answer in time (QEMU busy, or another client holds the monitor)";
	case -ECONNRESET: return "QEMU closed the connection";
	case -EMSGSIZE: return "a message longer than 256 KiB";
	case -EPROTO: return "not a QMP message";
	default: return strerror(-ret);
	}
}

int qmp_execute(struct qmp_conn *q, json_t *cmd, json_t **ret, char *err, size_t errsz)
{
	char *text = cmd ? json_dumps(cmd, JSON_COMPACT) : NULL;
	const char *exec = json_string_value(json_object_get(cmd, "execute"));
	int r;

	*ret = NULL;
	if (!text) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	r = send_all(q, text, strlen(text));
	free(text);
	if (!r)
		r = send_all(q, "\n", 1);
	while (!r) {
		json_t *msg = NULL, *v;

		r = recv_message(q, &msg);
		if (r)
			break;
		if ((v = json_object_get(msg, "return"))) {
			*ret = json_incref(v);
		} else if ((v = json_object_get(msg, "error"))) {
			const char *desc = json_string_value(json_object_get(v, "desc"));

			snprintf(err, errsz, "%s: %s", exec ? exec : "qmp", desc ? desc : "error");
			/* the description is the monitor's text: one line, no terminal controls */
			for (char *c = err; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = ' ';
			r = -EREMOTEIO;
		} else if (json_object_get(msg, "event")) {
			json_decref(msg);
			continue;	/* asynchronous: not ours */
		} else {
			r = -EPROTO;
		}
		json_decref(msg);
		if (*ret || r)
			break;
	}
	if (r && r != -EREMOTEIO)
		snprintf(err, errsz, "%s: %s", exec ? exec : "qmp", why(r));
	return r;
}

void qmp_close(struct qmp_conn *q)
{
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

int qmp_handshake(struct qmp_conn *q, const char *what, char *err, size_t errsz)
{
	json_t *msg = NULL, *ret = NULL, *cmd;
	int r = recv_message(q, &msg);

	if (r || !json_object_get(msg, "QMP")) {
		r = r ? r : -EPROTO;
		snprintf(err, errsz, "greeting on %s: %s", what, why(r));
		json_decref(msg);
		return r;
	}
	json_decref(msg);
	cmd = json_pack("{s:s}", "execute", "qmp_capabilities");
	r = qmp_execute(q, cmd, &ret, err, errsz);
	json_decref(cmd);
	json_decref(ret);
	return r;
}

int qmp_open(struct qmp_conn *q, const char *path, bool abstract, int timeout_ms, pid_t *peer,
	     char *err, size_t errsz)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	socklen_t salen = offsetof(struct sockaddr_un, sun_path) + n + (abstract ? 1 : 0);
	struct ucred cred;
	socklen_t credlen = sizeof(cred);
	int r;

	q->fd = -1;
	q->len = 0;
	q->deadline = mono_s() + timeout_ms / 1000.0;
	if (!n || n + (abstract ? 1 : 0) > sizeof(sa.sun_path)) {
		snprintf(err, errsz, "QMP socket path '%.40s%s' is %s", path, n > 40 ? "..." : "",
			 n ? "too long for a unix socket" : "empty");
		return -EINVAL;
	}
	memcpy(sa.sun_path + (abstract ? 1 : 0), path, n);	/* abstract: a leading NUL */
	q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (q->fd < 0) {
		r = -errno;
		snprintf(err, errsz, "socket: %s", strerror(-r));
		return r;
	}
	/* a unix connect does not block; with the listen backlog full it says EAGAIN */
	while (connect(q->fd, (struct sockaddr *)&sa, salen)) {
		r = -errno;
		if ((r != -EAGAIN && r != -EINTR) || !left_ms(q)) {
			snprintf(err, errsz, "connect %s: %s", path, r == -EAGAIN ? "backlog full" : strerror(-r));
			goto fail;
		}
		usleep(5000);
	}
	if (getsockopt(q->fd, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) || credlen != sizeof(cred)) {
		r = -errno;
		snprintf(err, errsz, "SO_PEERCRED on %s: %s", path, strerror(-r));
		goto fail;
	}
	*peer = cred.pid;
	r = qmp_handshake(q, path, err, errsz);
	if (r)
		goto fail;
	return 0;
fail:
	qmp_close(q);
	return r;
}

/* ---- one VM ---- */

static int find_balloon(struct qmp_conn *q, char *path, size_t pathsz, char *err, size_t errsz)
{
	static const char *const dirs[] = { "/machine/peripheral", "/machine/peripheral-anon" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		json_t *cmd = json_pack("{s:s,s:{s:s}}", "execute", "qom-list", "arguments", "path", dirs[i]);
		json_t *ret = NULL;
		int r = qmp_execute(q, cmd, &ret, err, errsz);

		json_decref(cmd);
		if (!r)
			r = qmp_find_balloon(ret, dirs[i], path, pathsz);
		if (r == -EPROTO)	/* a reply that is no list: say so (qmp_execute did not) */
			snprintf(err, errsz, "qom-list %s: not a list of properties", dirs[i]);
		json_decref(ret);
		if (r == 0 || (r != -ENOENT && r != -EREMOTEIO))
			return r;
	}
	return -ENOENT;
}

/* The RAM blocks, for the balloon split of a QEMU without KVM memslots. QEMU 7.2's text has
 * no host addresses (softmmu/physmem.c ram_block_format), only sizes. Asked last and never
 * fatal: a QEMU that does not answer it only leaves them unknown (and its balloon bytes
 * unavailable), its balloon values stand. */
static void read_ramblocks(struct qmp_conn *q, struct vmm_qmp *out)
{
	json_t *cmd, *ret = NULL;
	char qerr[160];
	int r;

	cmd = json_pack("{s:s,s:{s:s}}", "execute", "human-monitor-command", "arguments",
			"command-line", "info ramblock");
	r = qmp_execute(q, cmd, &ret, qerr, sizeof(qerr));
	json_decref(cmd);
	if (!r && json_is_string(ret)) {
		int n = gr_parse_ramblock_text(json_string_value(ret), out->ramblock_size, VMM_QMP_RAMBLOCKS);

		out->nr_ramblocks = n > 0 ? n : 0;
	}
	json_decref(ret);
}

int qmp_read_vm(struct qmp_conn *q, const char *path, bool abstract, int timeout_ms, pid_t *peer,
		char balloon_path[QMP_QOM_PATH_MAX], struct vmm_qmp *out, char *err, size_t errsz)
{
	int r;

	for (int k = 0; k < VMM_QMP_NR; k++)
		out->v[k] = (struct opt_u64){ 0 };
	out->up = false;
	out->nr_ramblocks = 0;
	r = qmp_open(q, path, abstract, timeout_ms, peer, err, errsz);
	if (r)
		return r;
	r = qmp_converse_vm(q, balloon_path, out, err, errsz);
	qmp_close(q);
	return r;
}

int qmp_converse_vm(struct qmp_conn *q, char balloon_path[QMP_QOM_PATH_MAX], struct vmm_qmp *out,
		    char *err, size_t errsz)
{
	json_t *cmd, *ret = NULL;
	char qerr[160] = "";
	uint64_t poll_s = 0;
	int r;

	cmd = json_pack("{s:s}", "execute", "query-balloon");
	r = qmp_execute(q, cmd, &ret, qerr, sizeof(qerr));
	json_decref(cmd);
	if (r == -EREMOTEIO) {		/* no balloon device: nothing more to ask */
		r = 0;
		goto done;
	}
	if (!r && qmp_parse_balloon(ret, out))
		r = -EPROTO, snprintf(qerr, sizeof(qerr), "query-balloon: no byte count in 'actual'");
	json_decref(ret);
	ret = NULL;
	if (r)
		goto failed;
	if (!balloon_path[0]) {
		r = find_balloon(q, balloon_path, QMP_QOM_PATH_MAX, qerr, sizeof(qerr));
		if (r == -ENOENT)
			r = 0;		/* a balloon QOM cannot find: the size is all there is */
		if (r)
			goto failed;
		if (!balloon_path[0])
			goto done;
	}
	/* polling off: QEMU keeps what the driver sent once at load; not current, not exported */
	cmd = json_pack("{s:s,s:{s:s,s:s}}", "execute", "qom-get", "arguments", "path", balloon_path,
			"property", "guest-stats-polling-interval");
	r = qmp_execute(q, cmd, &ret, qerr, sizeof(qerr));
	json_decref(cmd);
	if (!r && !count_value(ret, &poll_s))
		r = -EPROTO, snprintf(qerr, sizeof(qerr), "qom-get guest-stats-polling-interval: not a number");
	json_decref(ret);
	ret = NULL;
	if (!r && poll_s) {
		cmd = json_pack("{s:s,s:{s:s,s:s}}", "execute", "qom-get", "arguments", "path", balloon_path,
				"property", "guest-stats");
		r = qmp_execute(q, cmd, &ret, qerr, sizeof(qerr));
		json_decref(cmd);
		if (!r && qmp_parse_guest_stats(ret, time(NULL), poll_s, out) == -EPROTO)
			r = -EPROTO, snprintf(qerr, sizeof(qerr), "qom-get guest-stats: not the expected object");
		json_decref(ret);
	}
	/* an error here is "guest hasn't updated any stats yet" (virtio-balloon.c
	 * balloon_stats_get_all) or a device that went away: the stats are unavailable this
	 * time, the balloon size still stands, and the device is looked up again next time */
	if (r == -EREMOTEIO) {
		balloon_path[0] = 0;
		r = 0;
	}
	if (r)
		goto failed;
done:
	read_ramblocks(q, out);
	out->up = true;
	return 0;
failed:
	snprintf(err, errsz, "%s", qerr);
	return r;
}
