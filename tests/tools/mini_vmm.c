// SPDX-License-Identifier: MIT
/* A minimal VMM for the balloon split: a real KVM VM (KVM_CREATE_VM) with GUEST_MB of guest
 * RAM registered with KVM_SET_USER_MEMORY_REGION, private anonymous, or shared memfd with
 * "memfd". On SIGUSR1 it does what QEMU does around a balloon, and what glibc does behind
 * its back:
 *   - discards 8 MiB of guest RAM (private: MADV_DONTNEED; memfd: fallocate(PUNCH_HOLE)
 *     then MADV_DONTNEED, as QEMU 7.2's ram_block_discard_range() does),
 *   - refaults 4 MiB of it (MADV_WILLNEED, what QEMU's balloon deflate issues),
 *   - starts and joins a thread (glibc madvises the dead thread's stack away),
 *   - frees heap blocks and calls malloc_trim(0) (glibc madvises free heap pages away).
 * It writes "inflate=BYTES deflate=BYTES calls=BYTES" to OUT (what it gave back of guest RAM,
 * asked back, and the bytes its own discard calls on guest RAM named: the memfd case names
 * them twice, punch and madvise), then sleeps.
 * usage: mini_vmm GUEST_MB [memfd] OUT */
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/kvm.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB		(1024 * 1024ul)
#define DISCARD		(8 * MIB)
#define REFAULT		(4 * MIB)
#define HEAP_BLOCKS	64
#define HEAP_BLOCK	(64 * 1024)	/* below M_MMAP_THRESHOLD: from the heap */

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

static void *thread_fn(void *arg)
{
	volatile char buf[64 * 1024];	/* touch some stack, as a worker would */

	memset((char *)buf, 1, sizeof(buf));
	return arg;
}

int main(int argc, char **argv)
{
	bool memfd = argc == 4 && !strcmp(argv[2], "memfd");
	const char *out = argv[argc - 1];
	struct kvm_userspace_memory_region r;
	unsigned long guest_len;
	int kvm, vm, fd = -1;
	void *heap[HEAP_BLOCKS];
	pthread_t th;
	char *mem;
	FILE *f;

	if ((argc != 3 && !memfd) || atol(argv[1]) < 16) {
		fprintf(stderr, "usage: mini_vmm GUEST_MB(>=16) [memfd] OUT\n");
		return 2;
	}
	guest_len = atol(argv[1]) * MIB;
	signal(SIGUSR1, on_usr1);
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	if (memfd) {
		fd = memfd_create("guest-ram", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, guest_len))
			die("memfd");
		mem = mmap(NULL, guest_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	} else {
		mem = mmap(NULL, guest_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	}
	if (mem == MAP_FAILED)
		die("mmap");
	memset(&r, 0, sizeof(r));
	r.slot = 0;
	r.guest_phys_addr = 0;
	r.memory_size = guest_len;
	r.userspace_addr = (unsigned long)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		die("KVM_SET_USER_MEMORY_REGION");
	memset(mem, 0x5a, guest_len);		/* the guest ran and touched its memory */
	printf("READY %d\n", getpid());
	fflush(stdout);
	while (!go)
		pause();

	/* balloon inflate: 8 MiB of guest RAM given back */
	if (memfd && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, DISCARD))
		die("fallocate");
	if (madvise(mem, DISCARD, MADV_DONTNEED))
		die("madvise DONTNEED");
	/* balloon deflate: 4 MiB asked back, then touched */
	if (madvise(mem, REFAULT, MADV_WILLNEED))
		die("madvise WILLNEED");
	memset(mem, 0x6b, REFAULT);
	/* the VMM's own memory: a worker thread retires, the heap is trimmed */
	if (pthread_create(&th, NULL, thread_fn, NULL) || pthread_join(th, NULL))
		die("pthread");
	for (int i = 0; i < HEAP_BLOCKS; i++) {
		heap[i] = malloc(HEAP_BLOCK);
		if (!heap[i])
			die("malloc");
		memset(heap[i], 1, HEAP_BLOCK);
	}
	for (int i = 0; i < HEAP_BLOCKS; i += 2)	/* holes that only madvise can return */
		free(heap[i]);
	malloc_trim(0);

	f = fopen(out, "w");
	if (!f || fprintf(f, "inflate=%lu deflate=%lu calls=%lu\n", DISCARD, REFAULT, memfd ? 2 * DISCARD : DISCARD) < 0 ||
	    fclose(f))
		die(out);
	printf("DONE\n");
	fflush(stdout);
	for (;;)
		pause();
}
