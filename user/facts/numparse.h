/* SPDX-License-Identifier: MIT */
/* Strict number parsing (numparse.c), for the command line and the config files. */
#ifndef VMMEM_NUMPARSE_H
#define VMMEM_NUMPARSE_H

#include <sys/types.h>

/* Parse a whole string as a number in [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int cli_parse_double(const char *s, double min, double max, double *out);
int cli_parse_long(const char *s, long min, long max, long *out);
int cli_parse_pid(const char *s, pid_t *out);

#endif
