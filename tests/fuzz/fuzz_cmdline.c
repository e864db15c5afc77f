// SPDX-License-Identifier: MIT
/* libFuzzer target: a VMM's command line (/proc/PID/cmdline, NUL-separated, chosen by whoever
 * starts the process) parsed into name, vCPUs, memory and QMP socket (user/facts/vmm_cmdline.c).
 * Also checks what the parser promises: the strings it fills stay NUL-terminated in their
 * arrays, and the values it sets are in the ranges it documents. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmm_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_info info;
	char *copy = malloc(size ? size : 1);	/* exactly size bytes: ASan sees any over-read */

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memset(&info, 0, sizeof(info));
	vmm_cmdline_parse(copy, size, &info);
	if (memchr(info.name, 0, sizeof(info.name)) == NULL ||
	    memchr(info.qmp.socket, 0, sizeof(info.qmp.socket)) == NULL ||
	    (info.vcpus.present && (info.vcpus.v == 0 || info.vcpus.v > 1u << 20)) ||
	    (info.mem_configured_kb.present && info.mem_configured_kb.v > (uint64_t)1e15))
		__builtin_trap();
	free(copy);
	return 0;
}
