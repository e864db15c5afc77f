// SPDX-License-Identifier: MIT
/* A minimal VMM for the nested rig: after SIGUSR1 it creates a KVM VM with NVCPUS vCPUs in
 * 32-bit flat protected mode; each vCPU writes one byte to each of K distinct 4 KiB guest
 * pages (its own range), then halts. Every first touch is an EPT/NPT violation, so
 * kvm:kvm_page_fault fires at least K times per vCPU. Prints its pid at start and
 * "done" at the end. Built static: it runs inside a busybox guest.
 * It waits 1.2 s between registering its guest RAM and starting its vCPUs (RUNNER_SETTLE_MS
 * in the environment sets another wait: rigs that count no discards need none), and prints
 * "running" as it starts them.
 * With CHUNKS, it then plays a balloon: madvise(MADV_DONTNEED) CHUNKS times 64 KiB of guest
 * RAM (inflate), then MADV_WILLNEED the same (deflate), as QEMU's virtio-balloon does.
 * With RUNNER_HOLD=1 in the environment it stays alive after "done" until killed (so a
 * scrape can still see it), else it exits 200 ms after.
 * With RUNNER_CREATE_EARLY=1 it creates the VM before SIGUSR1, so that /proc discovery finds
 * it before its first KVM event (kernels where vmmem counts a VMM only from its discovery).
 * usage: kvm_guest_runner K [NVCPUS [CHUNKS]] */
#include <pthread.h>
#include "kvm_guest.h"

#define DATA_GPA	0x100000	/* vCPU i writes pages DATA_GPA + i * K * 4096 ... */
#define BALLOON_CHUNK	(64 * 1024)

static struct kvm_guest guest;
static long k_pages;

static void *vcpu_thread(void *arg)
{
	long id = (long)arg;
	struct kvm_run *run;
	int fd = kg_vcpu(&guest, id, &run);

	kg_set_regs(fd, DATA_GPA + id * k_pages * 4096, 0, k_pages);
	kg_run_to_hlt(fd, run, id);
	return NULL;
}

int main(int argc, char **argv)
{
	/* loop: mov [eax], bl; add eax, 4096; dec ecx; jnz loop; hlt */
	static const unsigned char code[] = {
		0x88, 0x18, 0x05, 0x00, 0x10, 0x00, 0x00, 0x49, 0x75, 0xf6, 0xf4,
	};
	long nvcpus = argc >= 3 ? atol(argv[2]) : 1;
	long chunks = argc >= 4 ? atol(argv[3]) : 0;
	long settle_ms;
	pthread_t threads[8];

	k_pages = argc >= 2 ? atol(argv[1]) : 0;
	if (k_pages <= 0 || k_pages > 65536 || nvcpus < 1 || nvcpus > 8 || chunks < 0 ||
	    chunks * BALLOON_CHUNK > nvcpus * k_pages * 4096) {
		fprintf(stderr, "usage: kvm_guest_runner K(1..65536) [NVCPUS(1..8) [CHUNKS(64 KiB each, within K*NVCPUS pages)]]\n");
		return 2;
	}
	kg_start(&guest, 0);
	kg_map(&guest, DATA_GPA + nvcpus * k_pages * 4096, -1, code, sizeof(code));
	/* as a real VMM does (firmware, devices) before its first instruction: vmmemtop learns
	 * guest RAM within 1 s of its registration (README "Balloon: guest RAM only"), and
	 * counts the discards of dying vCPU threads as the VMM's own only from then on */
	settle_ms = getenv("RUNNER_SETTLE_MS") ? atol(getenv("RUNNER_SETTLE_MS")) : 1200;
	if (settle_ms > 0)
		usleep(settle_ms * 1000);
	printf("running\n");
	fflush(stdout);
	for (long i = 0; i < nvcpus; i++)
		pthread_create(&threads[i], NULL, vcpu_thread, (void *)i);
	for (long i = 0; i < nvcpus; i++)
		pthread_join(threads[i], NULL);
	for (int advice = 0; advice < 2 && chunks; advice++)
		for (long i = 0; i < chunks; i++)
			if (madvise(guest.mem + DATA_GPA + i * BALLOON_CHUNK, BALLOON_CHUNK,
				    advice ? MADV_WILLNEED : MADV_DONTNEED))
				kg_die("madvise");
	printf("done\n");
	fflush(stdout);
	if (getenv("RUNNER_HOLD"))
		for (;;)
			pause();
	usleep(200 * 1000);
	return 0;
}
