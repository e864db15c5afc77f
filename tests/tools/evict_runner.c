// SPDX-License-Identifier: MIT
/* A VMM whose guest memory the host evicts, for the eviction rig: one vCPU in 32-bit flat
 * protected mode writes one byte to each of K guest pages, then halts; every SIGUSR1 runs
 * that pass again ("pass N" on stdout after each). Pages the host swapped out between two
 * passes are faulted back by KVM (hva_to_pfn -> get_user_pages), not by this program: its
 * own memory is locked (mlockall before the guest RAM is mapped) and it never touches guest
 * RAM after the first pass, so every major fault it takes is KVM's. Built static.
 * usage: evict_runner K */
#include "kvm_guest.h"

#define DATA_GPA	0x100000

int main(int argc, char **argv)
{
	/* loop: mov [eax], bl; add eax, 4096; dec ecx; jnz loop; hlt */
	static const unsigned char code[] = {
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6, 0xf4,
	};
	struct kvm_guest guest;
	struct kvm_run *run;
	long k = argc == 2 ? atol(argv[1]) : 0;
	int fd;

	if (k <= 0 || k > 262144) {
		fprintf(stderr, "usage: evict_runner K(1..262144)\n");
		return 2;
	}
	signal(SIGUSR1, kg_on_usr1);
	kg_open(&guest);
	fd = kg_vcpu(&guest, 0, &run);
	printf("%d\n", getpid());
	fflush(stdout);
	/* everything of ours is resident for good; guest RAM, mapped after, is not locked */
	if (mlockall(MCL_CURRENT))
		kg_die("mlockall");
	/* 4 KiB pages: one swap entry each */
	kg_map(&guest, DATA_GPA + k * 4096, MADV_NOHUGEPAGE, code, sizeof(code));
	for (long pass = 1;; pass++) {
		kg_wait_go();
		kg_go = 0;
		kg_set_regs(fd, DATA_GPA, 0x5a, k);
		kg_run_to_hlt(fd, run, 0);
		printf("pass %ld\n", pass);
		fflush(stdout);
	}
}
