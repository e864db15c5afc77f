// SPDX-License-Identifier: MIT
/* libFuzzer target: the /proc and sysfs text parsers (user/facts/vmm_info.c, user/facts/host_state.c).
 * The first byte picks the file the rest pretends to be; the text is handed over exactly as
 * read_small_file() would (NUL-terminated, in a buffer no larger than the text, so ASan sees
 * a read past the terminator). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "host_state.h"
#include "vmm_info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vmm_info info;
	struct host_meminfo mem;
	struct ksm_stat ks;
	struct opt_u64 v = { 0 };
	char comm[16], word[16], vendor[16];
	uint64_t st;
	char *text;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = 0;
	memset(&info, 0, sizeof(info));
	switch (data[0] % 9) {
	case 0:		/* /proc/PID/stat */
		if (proc_stat_parse(text, comm, &st) == 0 && !memchr(comm, 0, sizeof(comm)))
			__builtin_trap();
		break;
	case 1:		/* /proc/PID/smaps_rollup */
		smaps_rollup_parse(text, &info);
		break;
	case 2:		/* /proc/PID/ksm_stat */
		ksm_stat_parse(text, &ks);
		break;
	case 3:		/* /proc/meminfo */
		meminfo_parse(text, &mem);
		break;
	case 4:		/* a sysfs choice file: THP enabled/defrag, KSM advisor_mode */
		if (sysfs_choice_parse(text, word, sizeof(word)) == 0 && !memchr(word, 0, sizeof(word)))
			__builtin_trap();
		break;
	case 5:		/* a sysfs number: /sys/kernel/mm/ksm/... */
		sysfs_num_parse(text, &v);
		break;
	case 6:		/* /proc/cpuinfo */
		cpuinfo_vendor_parse(text, vendor, sizeof(vendor));
		if (!memchr(vendor, 0, sizeof(vendor)))
			__builtin_trap();
		break;
	case 7:		/* /proc/PID/stat of the ksmd kthread: its CPU time */
		ksmd_stat_parse(text, &v);
		break;
	case 8:		/* /proc/PID/stat: is the process exiting? */
		if (proc_stat_exiting(text) > 1)
			__builtin_trap();
		break;
	}
	free(text);
	return 0;
}
