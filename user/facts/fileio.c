// SPDX-License-Identifier: MIT
/* Small file helpers shared by the writers (recorder, textfile exporter). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include "fileio.h"

int fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int read_file_alloc(const char *path, char **out, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t n = 0, cap = 4096;
	char *buf;
	int ret = 0;

	if (fd < 0)
		return -errno;
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *nb = cap >= max ? NULL : realloc(buf, (cap = cap * 2 > max ? max : cap * 2) + 1);

			if (!nb) {
				ret = n >= max ? -EFBIG : -ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0) {
			buf[n] = 0;
			close(fd);
			*out = buf;
			*len = n;
			return 0;
		}
		n += r;
		if (n == max) {	/* one more byte would be too many: check there is none */
			char c;

			r = read(fd, &c, 1);
			if (r > 0) {
				ret = -EFBIG;
				break;
			}
		}
	}
	if (!buf)
		ret = -ENOMEM;
	free(buf);
	close(fd);
	return ret;
}
