// SPDX-License-Identifier: MIT
/* A VMM whose guest keeps touching exactly HOT MiB of its TOTAL MiB of guest RAM, for the
 * working-set rig: the host side first writes every page of guest RAM once (all of it
 * resident: a working set read as RSS would be TOTAL), then one vCPU in 32-bit flat protected
 * mode loops for ever over [1 MiB, 1 MiB + HOT), writing one byte per 4 KiB page. Those writes
 * go through the (nested) NPT/EPT only, never through this process's page tables: DAMON can
 * see them only through KVM's MMU notifier (kvm_mmu_notifier_test_young/clear_young).
 * Prints its pid, then "running" when the vCPU starts. Runs until killed. Built static.
 * usage: ws_kvm_guest TOTAL_MIB HOT_MIB */
#include <stdint.h>
#include "kvm_guest.h"

#define DATA_GPA	0x100000

int main(int argc, char **argv)
{
	/* mov edx, eax; mov esi, ecx;
	 * outer: mov eax, edx; mov ecx, esi;
	 * inner: mov [eax], bl; add eax, 4096; dec ecx; jnz inner; jmp outer */
	static const unsigned char code[] = {
		0x89, 0xc2, 0x89, 0xce,
		0x89, 0xd0, 0x89, 0xf1,
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6,
		0xeb, 0xf0,
	};
	long total = argc == 3 ? atol(argv[1]) : 0, hot = argc == 3 ? atol(argv[2]) : 0;
	struct kvm_guest g;
	struct kvm_run *run;
	int fd;

	if (total < 2 || total > 4096 || hot < 1 || hot > total - 1) {
		fprintf(stderr, "usage: ws_kvm_guest TOTAL_MIB(2..4096) HOT_MIB(1..TOTAL-1)\n");
		return 2;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	kg_open(&g);
	/* 4 KiB pages: a young bit per page, so the figure is the touched range, not 2 MiB units */
	kg_map(&g, (size_t)total << 20, MADV_NOHUGEPAGE, code, sizeof(code));
	for (size_t off = 0; off < g.size; off += 4096)
		if (off != CODE_GPA)
			g.mem[off] = 1;
	fd = kg_vcpu(&g, 0, &run);
	kg_set_regs(fd, DATA_GPA, 0x5a, (unsigned long)hot << 8);	/* hot MiB = hot * 256 pages */
	printf("running\n");
	fflush(stdout);
	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0)
			kg_die("KVM_RUN");
		if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
			return 1;
		}
	}
}
