// SPDX-License-Identifier: MIT
/* A VMM whose guest memory the host evicts, for the eviction rig: one vCPU in 32-bit flat
 * protected mode writes one byte to each of K guest pages, then halts; every SIGUSR1 runs
 * that pass again ("pass N" on stdout after each). Pages the host swapped out between two
 * passes are faulted back by KVM (hva_to_pfn -> get_user_pages), not by this program: its
 * own memory is locked (mlockall before the guest RAM is mapped) and it never touches guest
 * RAM after the first pass, so every major fault it takes is KVM's. Built static.
 * With "merge", guest RAM is also MADV_MERGEABLE: the K pages a pass wrote are identical (one
 * byte 0x5a, then zeros), so ksmd merges them while NPT maps them, and KVM flushes this VM's
 * TLBs for each (the flush rig of tests/vm/guest/ksmevict-init.sh). A thread of it then spins
 * in user space, so that its mm stays loaded on another CPU and ksmd's flushes of that mm
 * send shootdown IPIs (flush_tlb_mm_range skips CPUs that do not hold the mm).
 * With "discard", each pass is followed by one madvise(MADV_DONTNEED) per page, each of which
 * makes KVM zap a mapping NPT holds and flush this VM's TLBs (kvm_mmu_notifier_invalidate_
 * range_start -> kvm_flush_remote_tlbs, virt/kvm/kvm_main.c); the pass line then says what the
 * K discards took in all, "pass N discard_ns=T" (the flush cost bench,
 * tests/bench/ipi_flush_bench.sh).
 * usage: evict_runner K [merge|discard] */
#include <time.h>
#include <pthread.h>
#include "kvm_guest.h"

#define DATA_GPA	0x100000

/* One madvise(MADV_DONTNEED) per page of the K the pass wrote; returns their wall time in ns. */
static long long discard_pages(char *base, long k)
{
	struct timespec t0, t1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < k; i++)
		if (madvise(base + i * 4096, 4096, MADV_DONTNEED))
			kg_die("madvise MADV_DONTNEED");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
}

int main(int argc, char **argv)
{
	/* loop: mov [eax], bl; add eax, 4096; dec ecx; jnz loop; hlt */
	static const unsigned char code[] = {
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6, 0xf4,
	};
	struct kvm_guest guest;
	struct kvm_run *run;
	long k = argc >= 2 ? atol(argv[1]) : 0;
	int merge = argc == 3 && !strcmp(argv[2], "merge");
	int discard = argc == 3 && !strcmp(argv[2], "discard");
	int fd;

	if (k <= 0 || k > 262144 || (argc == 3 && !merge && !discard) || argc > 3) {
		fprintf(stderr, "usage: evict_runner K(1..262144) [merge|discard]\n");
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
	if (merge && madvise(guest.mem, guest.size, MADV_MERGEABLE))
		kg_die("madvise MADV_MERGEABLE");
	for (long pass = 1;; pass++) {
		kg_wait_go();
		kg_go = 0;
		kg_set_regs(fd, DATA_GPA, 0x5a, k);
		kg_run_to_hlt(fd, run, 0);
		if (merge && pass == 1) {
			pthread_t t;

			if (pthread_create(&t, NULL, kg_spin, NULL))
				kg_die("pthread_create");
		}
		if (discard) {
			printf("pass %ld discard_ns=%lld\n", pass, discard_pages(guest.mem + DATA_GPA, k));
			fflush(stdout);
			continue;
		}
		printf("pass %ld\n", pass);
		fflush(stdout);
	}
}
