// SPDX-License-Identifier: MIT
/* KSM workload: N_IDENTICAL pages with a content every ksm_worker shares (never zero, so
 * use_zero_pages plays no part) and N_UNIQUE pages of random content, all MADV_MERGEABLE.
 * Prints its pid, then waits until killed. With "kvm" it also creates a KVM VM (and keeps
 * its fd), so that it is a VMM to vmmemtop's discovery and to the kernel side.
 * usage: ksm_worker N_IDENTICAL N_UNIQUE [kvm] */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long ident, uniq, page = sysconf(_SC_PAGESIZE);
	unsigned int seed;
	char *mem;

	if (argc < 3 || argc > 4 || (ident = atol(argv[1])) < 0 || (uniq = atol(argv[2])) < 0 ||
	    ident + uniq == 0 || (argc == 4 && strcmp(argv[3], "kvm"))) {
		fprintf(stderr, "usage: ksm_worker N_IDENTICAL N_UNIQUE [kvm]\n");
		return 2;
	}
	if (argc == 4) {
		int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);

		if (kvm < 0 || ioctl(kvm, KVM_CREATE_VM, 0) < 0) {
			perror("KVM_CREATE_VM");
			return 1;
		}
	}
	mem = mmap(NULL, (ident + uniq) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	/* identical pages differ from each other too (by index), so within one process they
	 * do not merge with each other: every merge is across processes, page for page */
	for (long i = 0; i < ident; i++) {
		memset(mem + i * page, 0x5a, page);
		memcpy(mem + i * page, &i, sizeof(i));
	}
	seed = getpid() ^ 0x9e3779b9u;
	for (long i = ident * page; i < (ident + uniq) * page; i += sizeof(int)) {
		int r = rand_r(&seed);

		memcpy(mem + i, &r, sizeof(r));
	}
	if (madvise(mem, (ident + uniq) * page, MADV_MERGEABLE)) {
		perror("madvise(MADV_MERGEABLE)");
		return 1;
	}
	printf("%d\n", getpid());
	fflush(stdout);
	for (;;)
		pause();
}
