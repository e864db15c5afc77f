// SPDX-License-Identifier: MIT
/* Churn of short-lived VMMs for the soak test: starts N processes, at most CONC alive at a
 * time, each a real VMM to the kernel and to discovery (it holds a kvm-vm fd from
 * KVM_CREATE_VM and registers its "guest RAM" with KVM_SET_USER_MEMORY_REGION), and each
 * does a known amount of work, then exits:
 *   - discards exactly DISCARD_KB of its guest RAM with madvise(MADV_DONTNEED), in 16 KiB
 *     calls (a balloon inflating), after touching it;
 *   - TLB_ROUNDS mprotect round trips on 64 pages while a second thread, pinned to the other
 *     CPU, keeps touching them (remote TLB shootdowns: their number is the kernel's, so the
 *     test counts them with tracefs tlb:tlb_flush reason 4 by tgid);
 * Before it works it waits WAIT_MS: without the ioctl syscall tracepoints vmmemtop learns of
 * a VMM from its /proc scan (once a second) or its first KVM event, and counts from then on.
 * Writes one line per child to OUT: "pid discard_bytes status" (status 0: did all of it),
 * then "total N discard_bytes". Exits 1 if a child could not create its VM.
 * usage: churn_vmm N CONC DISCARD_KB TLB_ROUNDS WAIT_MS OUT */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tlb_shoot.h"

#define RAM_BYTES	(2u << 20)	/* the guest RAM each VMM registers */
#define DISCARD_STEP	(16u << 10)

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One VMM's life. Returns its exit status: 0 all done, 3 no VM, 4 no memory slot, 5 other. */
static int vmm(long discard, int tlb_rounds, long wait_ms)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct tlb_shoot tlb;
	pthread_attr_t attr;
	char *ram;
	void *stack;
	int kvm, vm;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return 3;
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return 3;
	ram = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ram == MAP_FAILED)
		return 5;
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = RAM_BYTES;
	region.userspace_addr = (uintptr_t)ram;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region))
		return 4;
	memset(ram, 1, RAM_BYTES);
	sleep_ms(wait_ms);
	for (long done = 0; done < discard; done += DISCARD_STEP)
		if (madvise(ram + done % RAM_BYTES, DISCARD_STEP, MADV_DONTNEED))
			return 5;
	if (tlb_rounds > 0) {
		if (tlb_shoot_setup(&tlb))
			return 5;
		/* a stack of our own: glibc discards the stacks it allocated when a thread
		 * exits (MADV_DONTNEED), which would add to what this VMM discards */
		stack = mmap(NULL, 256 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (stack == MAP_FAILED || pthread_attr_init(&attr) ||
		    pthread_attr_setstack(&attr, stack, 256 << 10) || tlb_shoot_start(&tlb, &attr))
			return 5;
		for (int i = 0; i < tlb_rounds; i++)
			tlb_shoot_round(&tlb);
		tlb_shoot_stop(&tlb);
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n, conc, discard, wait_ms, total = 0;
	int tlb_rounds, alive = 0, started = 0, failed = 0;
	pid_t *pids;
	FILE *out;

	if (argc != 7 || (n = atol(argv[1])) <= 0 || (conc = atol(argv[2])) <= 0 ||
	    (discard = atol(argv[3]) * 1024) < 0 || discard % DISCARD_STEP || discard > RAM_BYTES ||
	    (tlb_rounds = atoi(argv[4])) < 0 || (wait_ms = atol(argv[5])) < 0) {
		fprintf(stderr, "usage: churn_vmm N CONC DISCARD_KB(multiple of 16, <= 2048) TLB_ROUNDS WAIT_MS OUT\n");
		return 2;
	}
	out = fopen(argv[6], "w");
	pids = calloc(n, sizeof(*pids));
	if (!out || !pids) {
		perror(argv[6]);
		return 1;
	}
	while (started < n || alive > 0) {
		int status;
		pid_t p;

		if (started < n && alive < conc) {
			p = fork();
			if (p == 0)
				_exit(vmm(discard, tlb_rounds, wait_ms));
			if (p < 0) {
				perror("fork");
				sleep_ms(10);
				continue;
			}
			pids[started++] = p;
			alive++;
			continue;
		}
		p = wait(&status);
		if (p < 0)
			break;
		alive--;
		status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		fprintf(out, "%d %ld %d\n", (int)p, status ? 0 : discard, status);
		if (status)
			failed++;
		else
			total += discard;
	}
	fprintf(out, "total %d %ld\n", started - failed, total);
	fclose(out);
	if (failed)
		fprintf(stderr, "churn_vmm: %d of %d VMMs failed (status in %s)\n", failed, started, argv[6]);
	return failed ? 1 : 0;
}
