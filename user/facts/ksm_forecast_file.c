// SPDX-License-Identifier: MIT
/* The KSM forecast's result file. It holds totals only (bytes, seconds, counts, names): no
 * page contents and no hashes ever reach it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
#include "ksm_forecast_file.h"

#define MAX_FILE	(4 << 20)
#define MAX_BYTES	(1ULL << 53)	/* exact in a JSON double */

int ksm_forecast_file_write(const char *path, json_t *o)
{
	char tmp[4096], dir[4096];
	char *text;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(dir, sizeof(dir), "%s", path);
	mkdir(dirname(dir), 0755);	/* /run/vmmem may not exist yet; EEXIST is fine */
	text = json_dumps(o, JSON_INDENT(2));
	if (!text)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = -errno;
		free(text);
		return ret;
	}
	ret = fd_write_all(fd, text, strlen(text));
	if (!ret)
		ret = fd_write_all(fd, "\n", 1);
	free(text);
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

static int num(json_t *o, const char *key, double max, double *out, char *err, size_t errsz)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > max) {
		snprintf(err, errsz, "ksm forecast: field host.%s: %s", key,
			 !v ? "missing" : !json_is_number(v) ? "not a number" : "out of range");
		return -EINVAL;
	}
	*out = json_number_value(v);
	return 0;
}

int ksm_forecast_parse_json(json_t *root, struct host_ksm_forecast *out, char *err, size_t errsz)
{
	json_t *schema = json_object_get(root, "schema"), *host = json_object_get(root, "host");
	json_t *t = json_object_get(root, "time"), *r = json_object_get(root, "rate_mib_per_s");
	double scanned, saved, uzp, vms, secs, cpu;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(root) || !json_is_string(schema) || strcmp(json_string_value(schema), KF_SCHEMA)) {
		snprintf(err, errsz, "ksm forecast: not a %s document", KF_SCHEMA);
		return -EINVAL;
	}
	if (!json_is_object(host) || !json_is_integer(t) || json_integer_value(t) <= 0 ||
	    !json_is_number(r) || json_number_value(r) < 0) {
		snprintf(err, errsz, "ksm forecast: needs host, time and rate_mib_per_s");
		return -EINVAL;
	}
	if (num(host, "scanned_bytes", MAX_BYTES, &scanned, err, errsz) ||
	    num(host, "saved_bytes", MAX_BYTES, &saved, err, errsz) ||
	    num(host, "saved_bytes_use_zero_pages", MAX_BYTES, &uzp, err, errsz) ||
	    num(host, "vms", 1 << 20, &vms, err, errsz) ||
	    num(host, "seconds", 1e9, &secs, err, errsz) ||
	    num(host, "cpu_seconds", 1e9, &cpu, err, errsz))
		return -EINVAL;
	if (saved > scanned || uzp > scanned) {
		snprintf(err, errsz, "ksm forecast: saves more than it scanned");
		return -EINVAL;
	}
	*out = (struct host_ksm_forecast){ .present = true, .time = json_integer_value(t),
		.scanned_bytes = scanned, .saved_bytes = saved, .saved_bytes_uzp = uzp,
		.vms = vms, .seconds = secs, .cpu_seconds = cpu, .rate_mib = json_number_value(r) };
	return 0;
}

int ksm_forecast_parse(const char *text, size_t len, struct host_ksm_forecast *out,
		       char *err, size_t errsz)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	int ret;

	memset(out, 0, sizeof(*out));
	if (!root) {
		snprintf(err, errsz, "ksm forecast: line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	ret = ksm_forecast_parse_json(root, out, err, errsz);
	json_decref(root);
	return ret;
}

int ksm_forecast_file_read(const char *path, struct host_ksm_forecast *out, char *err, size_t errsz)
{
	static char buf[MAX_FILE + 1];
	FILE *f = fopen(path, "re");
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!f) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	n = fread(buf, 1, MAX_FILE + 1, f);
	fclose(f);
	if (n > MAX_FILE) {
		snprintf(err, errsz, "%s: too large for a forecast", path);
		return -EINVAL;
	}
	return ksm_forecast_parse(buf, n, out, err, errsz);
}

json_t *ksm_forecast_summary_json(const struct host_ksm_forecast *f)
{
	if (!f->present)
		return json_null();
	return json_pack("{s:s,s:I,s:f,s:{s:I,s:I,s:I,s:I,s:f,s:f}}", "schema", KF_SCHEMA,
			 "time", (json_int_t)f->time, "rate_mib_per_s", f->rate_mib, "host",
			 "scanned_bytes", (json_int_t)f->scanned_bytes, "saved_bytes", (json_int_t)f->saved_bytes,
			 "saved_bytes_use_zero_pages", (json_int_t)f->saved_bytes_uzp, "vms", (json_int_t)f->vms,
			 "seconds", f->seconds, "cpu_seconds", f->cpu_seconds);
}

void ksm_forecast_file_poll(const char *path, struct host_ksm_forecast *out)
{
	static struct host_ksm_forecast cached;
	static struct timespec mtime;
	static off_t size = -1;
	char err[256];
	struct stat st;

	if (stat(path, &st)) {
		size = -1;
		memset(out, 0, sizeof(*out));
		return;
	}
	if (st.st_size != size || st.st_mtim.tv_sec != mtime.tv_sec || st.st_mtim.tv_nsec != mtime.tv_nsec) {
		if (ksm_forecast_file_read(path, &cached, err, sizeof(err)))
			memset(&cached, 0, sizeof(cached));
		size = st.st_size;
		mtime = st.st_mtim;
	}
	*out = cached;
}
