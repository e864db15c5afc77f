// SPDX-License-Identifier: MIT
/* A real VMM process for scale tests and benchmarks: it holds an anon_inode:kvm-vm fd
 * (KVM_CREATE_VM on /dev/kvm, as QEMU does), touches some memory, says "ready" and sleeps
 * until killed. Its command line carries whatever identity the test wants (-name guest=X,
 * -smp N, -m SIZE: ignored here, read by vmmemtop from /proc/PID/cmdline).
 * usage: fake_vmm [--fake-mib=N] [--fake-thp] [--fake-nokvm] [--fake-comm=NAME] [args...]
 *   --fake-mib=N    touch N MiB of anonymous memory, 4 KiB pages (MADV_NOHUGEPAGE) unless
 *   --fake-thp      asks for huge pages (MADV_HUGEPAGE)
 *   --fake-nokvm    no VM: a VMM by its comm only (with --fake-comm=qemu-system-x86)
 *   --fake-comm=X   set the comm (prctl PR_SET_NAME) */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long mib = 0;
	int thp = 0, kvm = 1;
	const char *comm = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--fake-mib=", 11))
			mib = atol(argv[i] + 11);
		else if (!strcmp(argv[i], "--fake-thp"))
			thp = 1;
		else if (!strcmp(argv[i], "--fake-nokvm"))
			kvm = 0;
		else if (!strncmp(argv[i], "--fake-comm=", 12))
			comm = argv[i] + 12;
	}
	if (comm)
		prctl(PR_SET_NAME, comm, 0, 0, 0);
	if (kvm) {
		int dev = open("/dev/kvm", O_RDWR | O_CLOEXEC);

		if (dev < 0 || ioctl(dev, KVM_CREATE_VM, 0) < 0) {
			perror("fake_vmm: KVM_CREATE_VM");
			return 1;
		}
		/* the kvm-vm fd stays open; the /dev/kvm one need not */
		close(dev);
	}
	if (mib > 0) {
		size_t len = (size_t)mib << 20;
		char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			perror("fake_vmm: mmap");
			return 1;
		}
		madvise(m, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		for (size_t off = 0; off < len; off += 4096)
			m[off] = 1;
	}
	if (write(1, "ready\n", 6) != 6)
		return 1;
	for (;;)
		pause();
}
