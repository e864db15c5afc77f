/* Creates a KVM VM (KVM_CREATE_VM on /dev/kvm), then discards BYTES of a plain anonymous
 * mapping with madvise(MADV_DONTNEED) and exits shortly after: a VMM that lives too briefly
 * for a /proc scan, so only the kernel-side creation hook can have counted it.
 * Prints "pid BYTES". usage: kvm_create BYTES */
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
	long bytes = argc == 2 ? atol(argv[1]) : 0;
	int kvm, vm;
	char *mem;

	if (bytes <= 0 || bytes % 4096) {
		fprintf(stderr, "usage: kvm_create BYTES (a multiple of 4096)\n");
		return 2;
	}
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("open /dev/kvm");
		return 1;
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0) {
		perror("KVM_CREATE_VM");
		return 1;
	}
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(mem, 1, bytes);
	if (madvise(mem, bytes, MADV_DONTNEED)) {
		perror("madvise");
		return 1;
	}
	printf("%d %ld\n", getpid(), bytes);
	fflush(stdout);
	usleep(300 * 1000);
	return 0;
}
