// SPDX-License-Identifier: MIT
/* A VMM whose NPT-mapped guest RAM the rig changes by one cause at a time, for the flushes-
 * received-by-cause phases of tests/vm/guest/ksmevict-init.sh. Guest RAM: N 2 MiB-aligned
 * ranges (host and guest addresses both aligned, so khugepaged can collapse each), first
 * MADV_NOHUGEPAGE (4 KiB pages). Commands, one per line on stdin, each acknowledged by one
 * line on stdout:
 *   touch S    the vCPU writes one byte every S bytes of the data ranges (NPT maps them)
 *   discard S  this thread madvise(MADV_DONTNEED)s the 4 KiB page at every S bytes: KVM's
 *              notifier zaps each mapped one and flushes (cause vmm)
 *   huge       madvise(MADV_HUGEPAGE) on the data ranges, for khugepaged
 *   spin       start a thread spinning in user space (NUMA balancing's scan runs from it)
 * The vCPU runs on the main thread. usage: flush_runner N(1..256) */
#include <pthread.h>
#include "kvm_guest.h"

#define HUGE_SZ		(2ul << 20)
#define DATA_GPA	HUGE_SZ

int main(int argc, char **argv)
{
	/* loop: mov [eax], bl; add eax, imm32 (the stride, patched per command); dec ecx; jnz loop; hlt */
	static const unsigned char code[] = {
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6, 0xf4,
	};
	struct kvm_guest guest;
	struct kvm_run *run;
	long n = argc == 2 ? atol(argv[1]) : 0;
	unsigned long size, s;
	char line[64], cmd[16];
	pthread_t t;
	int fd;

	if (n <= 0 || n > 256) {
		fprintf(stderr, "usage: flush_runner N(1..256 ranges of 2 MiB)\n");
		return 2;
	}
	size = n * HUGE_SZ;
	kg_open(&guest);
	fd = kg_vcpu(&guest, 0, &run);
	kg_map(&guest, DATA_GPA + size, MADV_NOHUGEPAGE, code, sizeof(code));
	printf("%d\n", getpid());
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		s = 0;
		if (sscanf(line, "%15s %lu", cmd, &s) < 1)
			continue;
		if (!strcmp(cmd, "touch") && s >= 4096 && s <= size) {
			unsigned int stride = s;

			memcpy(guest.mem + CODE_GPA + 3, &stride, sizeof(stride));
			kg_set_regs(fd, DATA_GPA, 0x5a, size / s);
			kg_run_to_hlt(fd, run, 0);
			printf("touched %lu\n", size / s);
		} else if (!strcmp(cmd, "discard") && s >= 4096 && s <= size) {
			for (unsigned long off = 0; off < size; off += s)
				if (madvise(guest.mem + DATA_GPA + off, 4096, MADV_DONTNEED))
					kg_die("madvise MADV_DONTNEED");
			printf("discarded %lu\n", size / s);
		} else if (!strcmp(cmd, "huge")) {
			if (madvise(guest.mem + DATA_GPA, size, MADV_HUGEPAGE))
				kg_die("madvise MADV_HUGEPAGE");
			printf("huge\n");
		} else if (!strcmp(cmd, "spin")) {
			if (pthread_create(&t, NULL, kg_spin, NULL))
				kg_die("pthread_create");
			printf("spinning\n");
		} else {
			printf("bad command: %s", line);
		}
		fflush(stdout);
	}
	return 0;
}
