/* SPDX-License-Identifier: MIT */
/* Small file helpers shared by the writers (recorder, textfile exporter). */
#ifndef VMMEM_FILEIO_H
#define VMMEM_FILEIO_H

#include <stddef.h>

/* write(2) all n bytes, retrying short writes and EINTR. Returns 0 or negative errno
 * (-EIO if the file takes no more bytes). */
int fd_write_all(int fd, const void *buf, size_t n);

/* Read a whole regular file of at most max bytes into a NUL-terminated malloc'd *out.
 * Returns 0, or negative errno (-EFBIG when larger than max). */
int read_file_alloc(const char *path, char **out, size_t *len, size_t max);

#endif
