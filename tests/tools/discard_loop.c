// SPDX-License-Identifier: MIT
/* A stand-in for a VMM's balloon: waits for SIGUSR1, then discards guest-like memory with
 * madvise(MADV_DONTNEED) ROUNDS times CHUNK_KB each, and writes the exact number of bytes it
 * discarded to OUT (the oracle for balloon_inflate_bytes). Then sleeps until killed.
 * With "kvm" it is a VMM: the memory is guest RAM of a KVM VM (KVM_SET_USER_MEMORY_REGION),
 * which is what makes its discards balloon bytes; without, a plain process.
 * usage: discard_loop ROUNDS CHUNK_KB OUT [kvm] */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

int main(int argc, char **argv)
{
	long rounds, chunk;
	unsigned long long total = 0;
	char *mem;
	FILE *f;

	if ((argc != 4 && (argc != 5 || strcmp(argv[4], "kvm"))) || (rounds = atol(argv[1])) <= 0 || (chunk = atol(argv[2]) * 1024) <= 0 ||
	    chunk % 4096) {
		fprintf(stderr, "usage: discard_loop ROUNDS CHUNK_KB(multiple of 4) OUT [kvm]\n");
		return 2;
	}
	signal(SIGUSR1, on_usr1);
	mem = mmap(NULL, chunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	if (argc == 5) {
		struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = chunk,
							 .userspace_addr = (unsigned long)mem };
		int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);

		if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)) {
			perror("discard_loop: KVM guest memory");
			return 1;
		}
	}
	while (!go)
		pause();
	for (long i = 0; i < rounds; i++) {
		memset(mem, 0x5a, chunk);		/* fault it in, as a guest would */
		if (madvise(mem, chunk, MADV_DONTNEED)) {
			perror("madvise");
			return 1;
		}
		total += (unsigned long long)chunk;
	}
	f = fopen(argv[3], "w");
	if (!f || fprintf(f, "%llu\n", total) < 0 || fclose(f)) {
		perror(argv[3]);
		return 1;
	}
	for (;;)
		pause();
}
