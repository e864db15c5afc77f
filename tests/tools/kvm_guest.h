/* SPDX-License-Identifier: MIT */
/* The guest setup every tiny VMM of the rigs shares (kvm_guest_runner, evict_runner,
 * ipi_runner): open /dev/kvm, create a VM, give it anonymous RAM at guest address 0, and
 * create vCPUs in 32-bit flat protected mode without paging (guest-linear == guest-physical),
 * so a few bytes of code at CODE_GPA are a whole guest; and the rigs' SIGUSR1 handshake.
 * Header-only: each tool is one static binary built from one .c file. */
#ifndef KVM_GUEST_H
#define KVM_GUEST_H

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

struct kvm_guest {
	int kvm, vm, run_size;
	char *mem;
	size_t size;
};

/* set by SIGUSR1: the rig is ready (tracing on, vmmemtop started) */
static volatile sig_atomic_t kg_go;

static inline void kg_die(const char *what)
{
	perror(what);
	exit(1);
}

static inline void kg_on_usr1(int sig)
{
	(void)sig;
	kg_go = 1;
}

static inline void kg_wait_go(void)
{
	while (!kg_go)
		pause();
}

/* a pthread that spins in user space: a runnable thread of the VMM besides the vCPU (NUMA
 * balancing's scan runs from a thread returning to user space) */
static inline void *kg_spin(void *arg)
{
	volatile unsigned long n = 0;

	(void)arg;
	for (;;)
		n++;
	return NULL;
}

static inline void kg_open(struct kvm_guest *g)
{
	g->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (g->kvm < 0)
		kg_die("open /dev/kvm");
	g->vm = ioctl(g->kvm, KVM_CREATE_VM, 0);
	if (g->vm < 0)
		kg_die("KVM_CREATE_VM");
	g->run_size = ioctl(g->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (g->run_size <= 0)
		kg_die("KVM_GET_VCPU_MMAP_SIZE");
}

/* SIZE bytes of private anonymous memory as memslot 0 at guest address 0, CODE at CODE_GPA;
 * ADVICE (e.g. MADV_NOHUGEPAGE) is applied first unless it is -1. The host address is 2 MiB
 * aligned, so that a 2 MiB-aligned guest range is one a huge page can back (flush_runner). */
static inline void kg_map(struct kvm_guest *g, size_t size, int advice, const void *code, size_t len)
{
	const size_t huge = 2ul << 20;
	struct kvm_userspace_memory_region region;
	char *p;

	g->size = size;
	p = mmap(NULL, size + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		kg_die("mmap guest memory");
	g->mem = (char *)(((unsigned long)p + huge - 1) & ~(huge - 1));
	if (advice >= 0)
		madvise(g->mem, size, advice);
	memcpy(g->mem + CODE_GPA, code, len);
	region = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0,
		.memory_size = size, .userspace_addr = (unsigned long)g->mem };
	if (ioctl(g->vm, KVM_SET_USER_MEMORY_REGION, &region))
		kg_die("KVM_SET_USER_MEMORY_REGION");
}

/* vCPU ID in flat 32-bit protected mode (CS selector 8, data 16, 4 GiB limits); *RUN gets
 * its kvm_run page. Returns the vCPU fd. */
static inline int kg_vcpu(struct kvm_guest *g, int id, struct kvm_run **run)
{
	struct kvm_segment seg = { .base = 0, .limit = 0xffffffff, .present = 1, .dpl = 0,
				   .db = 1, .s = 1, .l = 0, .g = 1 };
	struct kvm_sregs sregs;
	int fd = ioctl(g->vm, KVM_CREATE_VCPU, id);

	if (fd < 0)
		kg_die("KVM_CREATE_VCPU");
	*run = mmap(NULL, g->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*run == MAP_FAILED)
		kg_die("mmap kvm_run");
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		kg_die("KVM_GET_SREGS");
	seg.type = 11; seg.selector = 8;
	sregs.cs = seg;
	seg.type = 3; seg.selector = 16;
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = seg;
	sregs.cr0 |= 1;
	if (ioctl(fd, KVM_SET_SREGS, &sregs))
		kg_die("KVM_SET_SREGS");
	return fd;
}

/* Start the vCPU at CODE_GPA with eax, ebx, ecx (the code's arguments). */
static inline void kg_set_regs(int fd, unsigned long eax, unsigned long ebx, unsigned long ecx)
{
	struct kvm_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA;
	regs.rflags = 2;
	regs.rax = eax;
	regs.rbx = ebx;
	regs.rcx = ecx;
	if (ioctl(fd, KVM_SET_REGS, &regs))
		kg_die("KVM_SET_REGS");
}

/* Run the vCPU until it halts; exits the process on any other exit but an interrupt. */
static inline void kg_run_to_hlt(int fd, struct kvm_run *run, long id)
{
	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0)
			kg_die("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_HLT)
			return;
		if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "vcpu %ld: unexpected exit %u\n", id, run->exit_reason);
			exit(1);
		}
	}
}

/* The rigs' start handshake: print our pid, wait for SIGUSR1, then create the VM (with the
 * in-kernel local APICs when IRQCHIP, before any vCPU). RUNNER_CREATE_EARLY=1 in the
 * environment creates it before the signal instead, so that /proc discovery finds the VMM
 * before its first KVM event (kernels where vmmem counts a VMM only from its discovery). */
static inline void kg_start(struct kvm_guest *g, int irqchip)
{
	signal(SIGUSR1, kg_on_usr1);
	printf("%d\n", getpid());
	fflush(stdout);
	if (!getenv("RUNNER_CREATE_EARLY"))
		kg_wait_go();
	kg_open(g);
	if (irqchip && ioctl(g->vm, KVM_CREATE_IRQCHIP, 0))
		kg_die("KVM_CREATE_IRQCHIP");
	kg_wait_go();
}

#endif
