// SPDX-License-Identifier: MIT
/* A VMM whose guest memory the host evicts, for the eviction rig: one vCPU in 32-bit flat
 * protected mode writes one byte to each of K guest pages, then halts; every SIGUSR1 runs
 * that pass again ("pass N" on stdout after each). Pages the host swapped out between two
 * passes are faulted back by KVM (hva_to_pfn -> get_user_pages), not by this program: its
 * own memory is locked (mlockall before the guest RAM is mapped) and it never touches guest
 * RAM after the first pass, so every major fault it takes is KVM's. Built static.
 * usage: evict_runner K */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define CODE_GPA	0x1000
#define DATA_GPA	0x100000

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void run_pass(int fd, struct kvm_run *run, long k)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	regs.rax = DATA_GPA;
	regs.rcx = k;
	regs.rbx = 0x5a;
	if (ioctl(fd, KVM_SET_REGS, &regs))
		die("KVM_SET_REGS");
	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			return;
		if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "unexpected exit %u\n", run->exit_reason);
			exit(1);
		}
	}
}

int main(int argc, char **argv)
{
	/* loop: mov [eax], bl; add eax, 4096; dec ecx; jnz loop; hlt */
	static const unsigned char code[] = {
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6, 0xf4,
	};
	struct kvm_userspace_memory_region region;
	struct kvm_sregs sregs;
	struct kvm_run *run;
	long k = argc == 2 ? atol(argv[1]) : 0;
	int kvm, vm, fd, run_size;
	size_t size;
	char *mem;

	if (k <= 0 || k > 262144) {
		fprintf(stderr, "usage: evict_runner K(1..262144)\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open /dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (fd < 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		die("KVM_GET_SREGS");
	struct kvm_segment seg = { .base = 0, .limit = 0xffffffff, .present = 1, .dpl = 0,
				   .db = 1, .s = 1, .l = 0, .g = 1 };
	seg.type = 11; seg.selector = 8;
	sregs.cs = seg;
	seg.type = 3; seg.selector = 16;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr0 |= 1;
	if (ioctl(fd, KVM_SET_SREGS, &sregs))
		die("KVM_SET_SREGS");
	printf("%d\n", getpid());
	fflush(stdout);
	/* everything of ours is resident for good; guest RAM, mapped after, is not locked */
	if (mlockall(MCL_CURRENT))
		die("mlockall");
	size = DATA_GPA + k * 4096;
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap guest memory");
	madvise(mem, size, MADV_NOHUGEPAGE);	/* 4 KiB pages: one swap entry each */
	memcpy(mem + CODE_GPA, code, sizeof(code));
	region = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0,
		.memory_size = size, .userspace_addr = (unsigned long)mem };
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		die("KVM_SET_USER_MEMORY_REGION");
	for (long pass = 1;; pass++) {
		while (!go)
			pause();
		go = 0;
		run_pass(fd, run, k);
		printf("pass %ld\n", pass);
		fflush(stdout);
	}
}
