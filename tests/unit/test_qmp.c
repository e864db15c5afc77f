// SPDX-License-Identifier: MIT
/* Unit tests: QMP sockets on qemu command lines (malformed ones too), the QMP reply parsers
 * with malformed replies, whole conversations against a scripted fake QEMU (hung, garbage,
 * oversized, closing), and the poller: answers arrive without a lookup ever waiting. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit.h"
#include "qmp.h"
#include "qmp_poll.h"
#include "vmm_info.h"

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmdline(const char *s, size_t len, struct vmm_info *v)
{
	memset(v, 0, sizeof(*v));
	return vmm_cmdline_parse(s, len, v);
}

#define CMDLINE(lit, v) cmdline(lit, sizeof(lit) - 1, v)

static void test_cmdline_qmp(void **state)
{
	struct vmm_info v;
	char longpath[300], buf[400];

	(void)state;
	assert_int_equal(CMDLINE("qemu-system-x86_64\0-qmp\0unix:/run/q.sock,server=on,wait=off\0", &v), 0);
	assert_string_equal(v.qmp.socket, "/run/q.sock");
	assert_false(v.qmp.abstract);
	/* the old spellings, --qmp, -qmp-pretty, ",," in a path */
	assert_int_equal(CMDLINE("qemu-kvm\0--qmp\0unix:/a,,b,server,nowait\0", &v), 0);
	assert_string_equal(v.qmp.socket, "/a,b");
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp-pretty\0unix:rel.sock,server=yes\0", &v), 0);
	assert_string_equal(v.qmp.socket, "rel.sock");
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:@x,server=on,abstract=on\0", &v), 0);
	assert_string_equal(v.qmp.socket, "@x");
	assert_true(v.qmp.abstract);
	/* not reachable: client mode, tcp, stdio, server=off; the first usable one wins */
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:/client\0-qmp\0tcp:127.0.0.1:4444,server=on\0"
				 "-qmp\0stdio\0-qmp\0unix:/off,server=off\0-qmp\0unix:/second,server=on\0"
				 "-qmp\0unix:/third,server=on\0", &v), 0);
	assert_string_equal(v.qmp.socket, "/second");
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:/client\0", &v), 0);
	assert_string_equal(v.qmp.socket, "");
	/* -chardev + -mon mode=control, in either order; readline monitors are not QMP */
	assert_int_equal(CMDLINE("qemu-kvm\0-mon\0chardev=hmp,mode=readline\0-mon\0qmp0,mode=control\0"
				 "-chardev\0socket,id=hmp,path=/hmp.sock,server=on\0"
				 "-chardev\0socket,id=qmp0,path=/qmp.sock,server=on,wait=off\0", &v), 0);
	assert_string_equal(v.qmp.socket, "/qmp.sock");
	assert_int_equal(CMDLINE("qemu-kvm\0-chardev\0socket,id=m,fd=3,server=on\0-mon\0chardev=m,mode=control\0", &v), 0);
	assert_string_equal(v.qmp.socket, "");		/* libvirt passes an fd: no path */
	assert_int_equal(CMDLINE("qemu-kvm\0-mon\0chardev=nowhere,mode=control\0", &v), 0);
	assert_string_equal(v.qmp.socket, "");
	/* malformed: -EINVAL, nothing made up, the rest still parsed */
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:,server=on\0-name\0ok\0", &v), -EINVAL);
	assert_string_equal(v.qmp.socket, "");
	assert_string_equal(v.name, "ok");
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:/x,server=maybe\0", &v), -EINVAL);
	assert_string_equal(v.qmp.socket, "");
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:/x,server=on,abstract=sure\0", &v), -EINVAL);
	assert_int_equal(CMDLINE("qemu-kvm\0-chardev\0socket,id=c,path=,server=on\0", &v), -EINVAL);
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp", &v), 0);		/* dangling */
	assert_int_equal(CMDLINE("qemu-kvm\0-qmp\0unix:", &v), -EINVAL);	/* no NUL, no path */
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = 0;
	for (size_t n = 108; n <= 299; n += 191) {	/* sun_path is 108 bytes with the NUL */
		int len = snprintf(buf, sizeof(buf), "qemu-kvm%c-qmp%cunix:%.*s,server=on", 0, 0, (int)n, longpath);

		assert_int_equal(cmdline(buf, len, &v), -EINVAL);
		assert_string_equal(v.qmp.socket, "");
	}
	{
		int len = snprintf(buf, sizeof(buf), "qemu-kvm%c-qmp%cunix:%.*s,server=on", 0, 0, 107, longpath);

		assert_int_equal(cmdline(buf, len, &v), 0);
		assert_int_equal(strlen(v.qmp.socket), 107);
	}
	/* firecracker's --api-sock is not QMP */
	assert_int_equal(CMDLINE("firecracker\0--api-sock\0/a.sock\0-qmp\0unix:/x,server=on\0", &v), 0);
	assert_string_equal(v.qmp.socket, "");
}

static json_t *parse(const char *s)
{
	json_t *m = NULL;

	assert_int_equal(qmp_parse_message(s, strlen(s), &m), 0);
	return m;
}

static void test_parsers(void **state)
{
	struct vmm_qmp q;
	json_t *m = NULL;
	char path[QMP_QOM_PATH_MAX];

	(void)state;
	memset(&q, 0, sizeof(q));
	assert_int_equal(qmp_parse_message("{\"return\": {}}\r\n", 16, &m), 0);
	json_decref(m);
	assert_int_equal(qmp_parse_message("[1,2]", 5, &m), -EPROTO);
	assert_int_equal(qmp_parse_message("{\"return\":", 10, &m), -EPROTO);
	assert_int_equal(qmp_parse_message("", 0, &m), -EPROTO);
	assert_int_equal(qmp_parse_message("{\"a\":1,\"a\":2}", 13, &m), -EPROTO);
	assert_int_equal(qmp_parse_message("{\"a\":1}\0{}", 10, &m), -EPROTO);	/* embedded NUL */

	m = parse("{\"actual\": 268435456}");
	assert_int_equal(qmp_parse_balloon(m, &q), 0);
	assert_true(q.v[VMM_QMP_balloon_actual_bytes].present);
	assert_int_equal(q.v[VMM_QMP_balloon_actual_bytes].v, 268435456);
	json_decref(m);
	for (const char *const *bad = (const char *const[]){ "{\"actual\": -1}", "{\"actual\": 1.5}",
			"{\"actual\": \"5\"}", "{}", "{\"actual\": 1e300}", "{\"actual\": null}", NULL }; *bad; bad++) {
		m = parse(*bad);
		assert_int_equal(qmp_parse_balloon(m, &q), -EPROTO);
		json_decref(m);
	}
	assert_int_equal(qmp_parse_balloon(NULL, &q), -EPROTO);

	/* QEMU sends 2^64-1 for a stat the guest does not report: absent, never a number */
	m = parse("{\"stats\": {\"stat-swap-out\": 0, \"stat-available-memory\": 2083450880,"
		  "\"stat-free-memory\": 999878656, \"stat-minor-faults\": 482351294,"
		  "\"stat-major-faults\": 18446744073709551615, \"stat-total-memory\": 3241218048,"
		  "\"stat-swap-in\": \"x\", \"stat-disk-caches\": -5, \"stat-htlb-pgalloc\": 1},"
		  "\"last-update\": 1676350443}");
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443 + 8, 1, &q), 0);
	assert_int_equal(q.v[VMM_QMP_guest_mem_total_bytes].v, 3241218048ull);
	assert_int_equal(q.v[VMM_QMP_guest_mem_available_bytes].v, 2083450880ull);
	assert_int_equal(q.v[VMM_QMP_guest_mem_free_bytes].v, 999878656ull);
	assert_int_equal(q.v[VMM_QMP_guest_minor_faults].v, 482351294ull);
	assert_true(q.v[VMM_QMP_guest_swap_out_bytes].present);
	assert_int_equal(q.v[VMM_QMP_guest_swap_out_bytes].v, 0);
	assert_false(q.v[VMM_QMP_guest_major_faults].present);
	assert_false(q.v[VMM_QMP_guest_swap_in_bytes].present);
	assert_false(q.v[VMM_QMP_guest_mem_cached_bytes].present);
	assert_int_equal(q.v[VMM_QMP_guest_stats_last_update_timestamp_seconds].v, 1676350443);
	assert_int_equal(q.v[VMM_QMP_balloon_actual_bytes].v, 268435456);	/* untouched */
	memset(&q, 0, sizeof(q));
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443 + 9, 1, &q), -ESTALE);	/* 3 polls + 5 s */
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443 + 95, 30, &q), 0);
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443, 0, &q), -ENODATA);	/* polling off */
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443, 1ull << 40, &q), -ESTALE);
	json_decref(m);
	m = parse("{\"stats\": {\"stat-total-memory\": 100}, \"last-update\": 0}");
	assert_int_equal(qmp_parse_guest_stats(m, 1676350443, 1, &q), -ENODATA);
	json_decref(m);
	for (const char *const *bad = (const char *const[]){ "{\"stats\": {}}", "{\"last-update\": 5}",
			"{\"stats\": [], \"last-update\": 5}", "{\"stats\": {}, \"last-update\": -5}", NULL }; *bad; bad++) {
		m = parse(*bad);
		assert_int_equal(qmp_parse_guest_stats(m, 10, 1, &q), -EPROTO);
		json_decref(m);
	}

	m = parse("{\"return\": [{\"name\": \"type\", \"type\": \"string\"},"
		  "{\"name\": \"net0\", \"type\": \"child<virtio-net-pci>\"},"
		  "{\"name\": \"a/b\", \"type\": \"child<virtio-balloon-pci>\"},"
		  "{\"name\": 5, \"type\": \"child<virtio-balloon-pci>\"},"
		  "{\"name\": \"bal0\", \"type\": \"child<virtio-balloon-pci>\"}]}");
	assert_int_equal(qmp_find_balloon(json_object_get(m, "return"), "/machine/peripheral", path, sizeof(path)), 0);
	assert_string_equal(path, "/machine/peripheral/bal0");
	assert_int_equal(qmp_find_balloon(json_object_get(m, "return"), "/machine/peripheral", path, 10), -ENOENT);
	assert_int_equal(qmp_find_balloon(m, "/machine", path, sizeof(path)), -EPROTO);
	json_decref(m);
	m = parse("{\"return\": []}");
	assert_int_equal(qmp_find_balloon(json_object_get(m, "return"), "/m", path, sizeof(path)), -ENOENT);
	json_decref(m);
}

/* ---- a scripted fake QEMU on a unix socket ---- */

enum fake_mode { FAKE_QEMU, FAKE_SILENT, FAKE_GARBAGE, FAKE_HUGE, FAKE_CLOSE, FAKE_NO_BALLOON, FAKE_NO_STATS,
		 FAKE_POLL_OFF, FAKE_STALE };

struct fake {
	char path[108];
	int lfd;
	enum fake_mode mode;
	volatile int stop;
	int conversations;
	pthread_t th;
};

static void put(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));

	(void)n;
}

/* Read one line from fd; false at EOF. */
static bool get_line(int fd, char *buf, size_t sz)
{
	size_t o = 0;

	while (o + 1 < sz) {
		ssize_t n = read(fd, buf + o, 1);

		if (n <= 0)
			return false;
		if (buf[o++] == '\n')
			break;
	}
	buf[o] = 0;
	return true;
}

static void serve(struct fake *f, int fd)
{
	char line[1024];

	if (f->mode == FAKE_SILENT) {		/* a hung QEMU: accept, never speak */
		while (!f->stop && get_line(fd, line, sizeof(line)))
			;
		return;
	}
	if (f->mode == FAKE_GARBAGE) {
		put(fd, "this is not json\r\n");
		return;
	}
	if (f->mode == FAKE_HUGE) {
		char *big = malloc(QMP_MSG_MAX + 10);

		memset(big, ' ', QMP_MSG_MAX + 9);
		big[QMP_MSG_MAX + 9] = 0;
		big[0] = '{';
		put(fd, big);
		free(big);
		return;
	}
	put(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}}, \"capabilities\": []}}\r\n");
	if (f->mode == FAKE_CLOSE)
		return;
	while (get_line(fd, line, sizeof(line))) {
		/* an event before every reply: it must be skipped */
		put(fd, "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"BALLOON_CHANGE\", \"data\": {\"actual\": 1}}\r\n");
		if (strstr(line, "qmp_capabilities"))
			put(fd, "{\"return\": {}}\r\n");
		else if (strstr(line, "query-balloon") && f->mode == FAKE_NO_BALLOON)
			put(fd, "{\"error\": {\"class\": \"DeviceNotActive\", \"desc\": \"No balloon device has been activated\"}}\r\n");
		else if (strstr(line, "query-balloon"))
			put(fd, "{\"return\": {\"actual\": 268435456}}\r\n");
		else if (strstr(line, "human-monitor-command") && strstr(line, "info ramblock"))	/* QEMU 7.2 */
			put(fd, "{\"return\": \"              Block Name    PSize              Offset               Used"
			     "              Total\\r\\n                  pc.ram    4 KiB  0x0000000000000000 "
			     "0x0000000004000000 0x0000000004000000\\r\\n    /rom@etc/acpi/tables    4 KiB  "
			     "0x0000000004080000 0x0000000000020000 0x0000000000200000\\r\\n\"}\r\n");
		else if (strstr(line, "qom-list") && strstr(line, "\"/machine/peripheral\""))
			put(fd, "{\"return\": [{\"name\": \"type\", \"type\": \"string\"}]}\r\n");
		else if (strstr(line, "qom-list"))
			put(fd, "{\"return\": [{\"name\": \"device[0]\", \"type\": \"child<virtio-balloon-pci>\"}]}\r\n");
		else if (strstr(line, "qom-get") && strstr(line, "/machine/peripheral-anon/device[0]") &&
			 strstr(line, "guest-stats-polling-interval"))
			put(fd, f->mode == FAKE_POLL_OFF ? "{\"return\": 0}\r\n" : "{\"return\": 2}\r\n");
		else if (strstr(line, "qom-get") && strstr(line, "/machine/peripheral-anon/device[0]") &&
			 f->mode == FAKE_NO_STATS)
			put(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"guest hasn't updated any stats yet\"}}\r\n");
		else if (strstr(line, "qom-get") && strstr(line, "/machine/peripheral-anon/device[0]")) {
			char reply[256];

			/* polling every 2 s: 11 s old is one second past 3 polls + 5 s */
			snprintf(reply, sizeof(reply), "{\"return\": {\"stats\": {\"stat-total-memory\": 500000000,"
				 " \"stat-free-memory\": 18446744073709551615}, \"last-update\": %lld}}\r\n",
				 (long long)time(NULL) - (f->mode == FAKE_STALE ? 12 : 1));
			put(fd, reply);
		}
		else
			put(fd, "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"no\"}}\r\n");
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	while (!f->stop) {
		int fd = accept(f->lfd, NULL, NULL);

		if (fd < 0)
			continue;
		f->conversations++;
		serve(f, fd);
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 0, 100000 };

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	snprintf(f->path, sizeof(f->path), "/tmp/vmmem-qmp-test.%d.%d", (int)getpid(), (int)mode);
	unlink(f->path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 4), 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));	/* accept wakes to see stop */
	assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	f->stop = 1;
	shutdown(f->lfd, SHUT_RDWR);
	pthread_join(f->th, NULL);
	close(f->lfd);
	unlink(f->path);
}

static struct qmp_conn conn;		/* 256 KiB: not on the stack */

static void test_conversations(void **state)
{
	struct fake f;
	struct vmm_qmp q;
	char bp[QMP_QOM_PATH_MAX] = "", err[160];
	pid_t peer = 0;
	double t0;

	(void)state;
	fake_start(&f, FAKE_QEMU);
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 2000, &peer, bp, &q, err, sizeof(err)), 0);
	assert_int_equal(peer, getpid());		/* SO_PEERCRED: who listens */
	assert_true(q.up);
	assert_int_equal(q.v[VMM_QMP_balloon_actual_bytes].v, 268435456);
	assert_string_equal(bp, "/machine/peripheral-anon/device[0]");
	assert_int_equal(q.v[VMM_QMP_guest_mem_total_bytes].v, 500000000);
	assert_false(q.v[VMM_QMP_guest_mem_free_bytes].present);
	assert_int_equal(q.nr_ramblocks, 2);		/* info ramblock: each block's Total */
	assert_int_equal(q.ramblock_size[0], 0x4000000);
	assert_int_equal(q.ramblock_size[1], 0x200000);
	assert_int_equal(conn.fd, -1);			/* closed after each conversation */
	fake_stop(&f);

	/* no stats yet, polling off, stats the guest stopped sending: the size alone */
	for (enum fake_mode m = FAKE_NO_STATS; m <= FAKE_STALE; m++) {
		fake_start(&f, m);
		bp[0] = 0;
		assert_int_equal(qmp_read_vm(&conn, f.path, false, 2000, &peer, bp, &q, err, sizeof(err)), 0);
		assert_true(q.up);
		assert_true(q.v[VMM_QMP_balloon_actual_bytes].present);
		assert_false(q.v[VMM_QMP_guest_mem_total_bytes].present);
		assert_false(q.v[VMM_QMP_guest_stats_last_update_timestamp_seconds].present);
		fake_stop(&f);
	}

	fake_start(&f, FAKE_NO_BALLOON);
	bp[0] = 0;
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 2000, &peer, bp, &q, err, sizeof(err)), 0);
	assert_true(q.up);
	assert_false(q.v[VMM_QMP_balloon_actual_bytes].present);
	fake_stop(&f);

	/* a hung QEMU costs the deadline, not more */
	fake_start(&f, FAKE_SILENT);
	t0 = mono_s();
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 300, &peer, bp, &q, err, sizeof(err)), -ETIMEDOUT);
	assert_true(mono_s() - t0 < 0.6);
	assert_non_null(strstr(err, "no answer in time"));
	assert_false(q.up);
	fake_stop(&f);

	fake_start(&f, FAKE_GARBAGE);
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 1000, &peer, bp, &q, err, sizeof(err)), -EPROTO);
	fake_stop(&f);
	fake_start(&f, FAKE_HUGE);
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 2000, &peer, bp, &q, err, sizeof(err)), -EMSGSIZE);
	fake_stop(&f);
	fake_start(&f, FAKE_CLOSE);
	assert_int_equal(qmp_read_vm(&conn, f.path, false, 1000, &peer, bp, &q, err, sizeof(err)), -ECONNRESET);
	fake_stop(&f);

	assert_int_equal(qmp_open(&conn, "/nonexistent/qmp.sock", false, 100, &peer, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/qmp.sock"));
	assert_int_equal(qmp_open(&conn, "", false, 100, &peer, err, sizeof(err)), -EINVAL);
	{
		char longp[200];

		memset(longp, 'x', sizeof(longp) - 1);
		longp[sizeof(longp) - 1] = 0;
		assert_int_equal(qmp_open(&conn, longp, false, 100, &peer, err, sizeof(err)), -EINVAL);
	}
}

/* The poller: the VM's own socket from its command line, a --qmp socket mapped to its
 * listener, and a hung one: lookups return at once, answers appear within a second or two. */
static void test_poller(void **state)
{
	struct fake good, hung;
	struct qmp_poll *p;
	struct vmm_info v, w;
	const char *paths[1];
	double t0, worst = 0;
	bool got = false;

	(void)state;
	fake_start(&good, FAKE_QEMU);
	fake_start(&hung, FAKE_SILENT);
	memset(&v, 0, sizeof(v));
	v.pid = getpid();
	assert_int_equal(vmm_identity_read("/proc", v.pid, &v.start_time), 0);
	w = v;
	snprintf(w.qmp.socket, sizeof(w.qmp.socket), "%s", hung.path);
	paths[0] = good.path;
	assert_int_equal(qmp_poll_new(&p, paths, 1, "/proc"), 0);
	for (int i = 0; i < 100 && !got; i++) {
		struct vmm_info a = v, b = w;

		t0 = mono_s();
		qmp_poll_lookup(p, &a);
		qmp_poll_lookup(p, &b);
		if (mono_s() - t0 > worst)
			worst = mono_s() - t0;
		got = a.qmp.up;
		if (got) {
			assert_string_equal(a.qmp.socket, good.path);
			assert_int_equal(a.qmp.v[VMM_QMP_balloon_actual_bytes].v, 268435456);
			assert_int_equal(a.qmp.v[VMM_QMP_guest_mem_total_bytes].v, 500000000);
		}
		usleep(50000);
	}
	assert_true(got);
	assert_true(worst < 0.05);			/* the hung socket never held a lookup */
	/* a socket named on the VM's own command line, not the --qmp one, for another VM
	 * whose pid does not listen there: refused, not attributed */
	for (int i = 0; i < 60; i++) {
		struct vmm_info c = v;

		c.pid = 1;
		c.start_time = 1;
		snprintf(c.qmp.socket, sizeof(c.qmp.socket), "%s", good.path);
		qmp_poll_lookup(p, &c);
		assert_false(c.qmp.up);
		assert_false(c.qmp.v[VMM_QMP_balloon_actual_bytes].present);
		if (strstr(c.qmp.error, "belongs to pid"))
			break;
		usleep(50000);
		if (i == 59)
			fail_msg("no 'belongs to pid' error: %s", c.qmp.error);
	}
	t0 = mono_s();
	qmp_poll_free(p);
	assert_true(mono_s() - t0 < 1.5);		/* at most one conversation's timeout */
	fake_stop(&good);
	fake_stop(&hung);
}

/* One VM's conversation with a monitor whose whole side is script (as the fuzzer runs it):
 * returns qmp_converse_vm's result (or the handshake's), err gets the error line. */
#define GREETING "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n{\"return\": {}}\r\n"
static int converse(const char *script, struct vmm_qmp *out, char *err, size_t errsz)
{
	static struct qmp_conn q;
	char balloon[QMP_QOM_PATH_MAX] = "";
	int sv[2], r;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(write(sv[1], script, strlen(script)), (ssize_t)strlen(script));
	shutdown(sv[1], SHUT_WR);
	q.fd = sv[0];
	q.len = 0;
	q.deadline = mono_s() + 5;
	memset(out, 0, sizeof(*out));
	err[0] = 0;
	r = qmp_handshake(&q, "test", err, errsz);
	if (!r)
		r = qmp_converse_vm(&q, balloon, out, err, errsz);
	close(sv[0]);
	close(sv[1]);
	return r;
}

/* Replies a hostile or broken monitor sends: each refused with one non-empty line. */
static void test_hostile_replies(void **state)
{
	struct vmm_qmp q;
	char err[256];

	(void)state;
	/* qom-list answered with something other than a list (found by fuzz_qmp) */
	assert_int_equal(converse(GREETING "{\"return\": {\"actual\": 1}}\r\n{\"return\": []}\r\n"
				  "{\"return\": 0}\r\n", &q, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "qom-list"));
	assert_null(strchr(err, '\n'));
	/* an error description with a newline and an escape: still one line */
	assert_int_equal(converse(GREETING "{\"error\": {\"class\": \"X\", \"desc\": \"a\\nb\\u001b[2J\"}}\r\n",
				  &q, err, sizeof(err)), 0);	/* no balloon: not an error */
	assert_int_equal(converse("{\"QMP\": {}}\r\n{\"error\": {\"class\": \"X\", "
				  "\"desc\": \"line1\\nline2\\u001b[2J\"}}\r\n", &q, err, sizeof(err)), -EREMOTEIO);
	assert_string_equal(err, "qmp_capabilities: line1 line2 [2J");
}

UNIT_TESTS(
	cmocka_unit_test(test_cmdline_qmp),
	cmocka_unit_test(test_parsers),
	cmocka_unit_test(test_conversations),
	cmocka_unit_test(test_poller),
	cmocka_unit_test(test_hostile_replies))
