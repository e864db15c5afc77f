/* Small file helpers shared by the writers (recorder, textfile exporter). */
#ifndef VMMEM_FILEIO_H
#define VMMEM_FILEIO_H

#include <stddef.h>

/* write(2) all n bytes, retrying short writes and EINTR. Returns 0 or negative errno
 * (-EIO if the file takes no more bytes). */
int fd_write_all(int fd, const void *buf, size_t n);

#endif
