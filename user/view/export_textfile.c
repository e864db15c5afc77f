// SPDX-License-Identifier: MIT
/* node_exporter textfile collector output: the text exposition written to a temporary file
 * in the same directory, fsync'd, then renamed over PATH, so a reader sees the old file or
 * the new one, never a torn one, even across a crash. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "export.h"
#include "fileio.h"

/* Make the rename itself durable. */
static void fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];
	int fd;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int export_textfile_write(const char *path, const struct export_feed *feed, const char *version,
			  char *err, size_t errsz)
{
	char tmp[PATH_MAX];
	struct strbuf sb;
	const char *what;
	char *body;
	size_t len;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errsz, "textfile path too long: %s", path);
		return -ENAMETOOLONG;
	}
	strbuf_init(&sb);
	export_scrape(&sb, feed, EXPORT_FMT_TEXT, version, NULL, NULL);	/* the collector reads text 0.0.4 only */
	body = strbuf_detach(&sb, &len);
	if (!body) {
		snprintf(err, errsz, "out of memory rendering metrics");
		return -ENOMEM;
	}
	what = "create";
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	what = "write";
	ret = fd_write_all(fd, body, len);
	if (!ret) {
		what = "fsync";
		ret = fsync(fd) ? -errno : 0;
	}
	if (close(fd) && !ret) {
		what = "close";
		ret = -errno;
	}
	if (!ret) {
		what = "rename over";
		ret = rename(tmp, path) ? -errno : 0;
	}
	if (ret)
		unlink(tmp);
	else
		fsync_dir_of(path);
out:
	if (ret)
		snprintf(err, errsz, "cannot %s %s: %s (is the directory writable by this user?)", what,
			 ret && !strcmp(what, "rename over") ? path : tmp, strerror(-ret));
	free(body);
	return ret;
}
