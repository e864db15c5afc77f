// SPDX-License-Identifier: MIT
/* A 2-vCPU VMM for the IPI rig: vCPU 0 sends N fixed x2APIC IPIs (vector 0x40, physical
 * destination 1) to vCPU 1, each only after vCPU 1's handler counted the previous one, then
 * both vCPUs leave with an OUT. vCPU 1 waits by spinning with interrupts open (MODE spin) or
 * in HLT (MODE halt). Each IPI is one guest write of the x2APIC ICR (MSR 0x830): KVM sends it
 * in kvm_apic_send_ipi() / kvm_x2apic_icr_write() (arch/x86/kvm/lapic.c), which fires
 * kvm:kvm_apic_ipi once per IPI in vCPU 0's thread: the rig's oracle.
 * vCPU thread i runs pinned to CPUi; with BUSYCPU a third thread spins there in user space.
 * Prints its pid, waits for SIGUSR1 (RUNNER_CREATE_EARLY=1: creates the VM before), prints
 * "vcpu I tid=T" as each vCPU thread starts and "done ipis=N" at the end (N in all blocks).
 * IPI_BLOCKS=B in the environment: B blocks of N IPIs, see block_end(). Built static: it runs
 * inside a busybox guest.
 * usage: ipi_runner N spin|halt CPU0 CPU1 [BUSYCPU] */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "kvm_guest.h"

#define GDT_GPA		0x3000
#define IDT_GPA		0x3800
#define COUNT_GPA	0x5000	/* IPIs vCPU 1's handler has counted */
#define READY_GPA	0x5004	/* vCPU 1 has its APIC on and interrupts open */
#define V1_CODE_OFF	0x800	/* vCPU 1 starts at CODE_GPA + this */
#define IPI_VECTOR	0x40
#define PORT_DONE	0x10
#define PORT_BLOCK	0x11	/* vCPU 0 ended a block of IPIs (IPI_BLOCKS > 1) */
#define IPI_TIMEOUT_S	120

/*
 * The guest code (32-bit, flat, absolute data addresses; copied to CODE_GPA and
 * CODE_GPA + V1_CODE_OFF). vCPU 0: ebx = IPIs per block, ebp = IPIs in all; vCPU 1: ebx =
 * IPIs in all, eax = 1 to wait in HLT, 0 to spin.
 * x2APIC MSRs: 0x80f spurious vector (bit 8: APIC software-enabled), 0x830 ICR, 0x80b EOI.
 */
__asm__(".pushsection .rodata\n"
	".code32\n"
	"ipi_v0:\n"
	"	mov $0x80f, %ecx; mov $0x1ff, %eax; xor %edx, %edx; wrmsr\n"
	"1:	cmpl $0, 0x5004; je 1b\n"			/* vCPU 1 ready */
	"	xor %esi, %esi\n"
	"	mov %ebx, %edi\n"				/* end of this block */
	"2:	inc %esi\n"
	"	mov $0x830, %ecx; mov $0x40, %eax; mov $1, %edx; wrmsr\n"
	"3:	cmpl %esi, 0x5000; jb 3b\n"			/* handled */
	"	cmp %edi, %esi; jb 2b\n"
	"	cmp %ebp, %esi; jae 4f\n"
	"	out %al, $0x11\n"				/* a block ended: the host times it */
	"	add %ebx, %edi; jmp 2b\n"
	"4:	out %al, $0x10\n"
	"ipi_v0_end:\n"
	"ipi_v1:\n"
	"	mov %eax, %edi\n"
	"	mov $0x80f, %ecx; mov $0x1ff, %eax; xor %edx, %edx; wrmsr\n"
	"	movl $1, 0x5004\n"
	"1:	cli\n"
	"	cmpl %ebx, 0x5000; jae 2f\n"
	"	test %edi, %edi; jz 3f\n"
	"	sti; hlt; jmp 1b\n"				/* sti's shadow: no lost wake-up */
	"3:	sti; nop; jmp 1b\n"
	"2:	out %al, $0x10\n"
	"ipi_handler:\n"
	"	push %eax; push %ecx; push %edx\n"
	"	incl 0x5000\n"
	"	mov $0x80b, %ecx; xor %eax, %eax; xor %edx, %edx; wrmsr\n"
	"	pop %edx; pop %ecx; pop %eax\n"
	"	iret\n"
	"ipi_v1_end:\n"
	".code64\n"
	".popsection\n");
extern const unsigned char ipi_v0[], ipi_v0_end[], ipi_v1[], ipi_handler[], ipi_v1_end[];

static volatile int vcpus_done;
static struct kvm_guest guest;
static long n_ipis, n_blocks = 1, mode_halt;
static int cpus[3];
static clockid_t vcpu_clock[2];	/* each vCPU thread's CPU clock, once it set it */
static volatile int vcpu_clock_set[2];

/* A guest that stops making progress fails the case instead of hanging the rig. */
static void on_alarm(int sig)
{
	(void)sig;
	fprintf(stderr, "ipi_runner: no progress: ready=%u count=%u\n",
		*(volatile uint32_t *)(guest.mem + READY_GPA), *(volatile uint32_t *)(guest.mem + COUNT_GPA));
	_exit(1);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		kg_die("sched_setaffinity");
}

static void set_x2apic(int fd, int id)
{
	struct { struct kvm_msrs h; struct kvm_msr_entry e; } msrs = { .h.nmsrs = 1 };

	/* IA32_APIC_BASE: default base, enabled (bit 11), x2APIC (bit 10), BSP (bit 8) on vCPU 0 */
	msrs.e.index = 0x1b;
	msrs.e.data = 0xfee00000ull | (1ull << 11) | (1ull << 10) | (id == 0 ? 1ull << 8 : 0);
	if (ioctl(fd, KVM_SET_MSRS, &msrs) != 1)
		kg_die("KVM_SET_MSRS IA32_APIC_BASE (x2APIC)");
}

static void set_cpuid(int fd)
{
	struct { struct kvm_cpuid2 h; struct kvm_cpuid_entry2 e[128]; } c = { .h.nent = 128 };

	if (ioctl(guest.kvm, KVM_GET_SUPPORTED_CPUID, &c))
		kg_die("KVM_GET_SUPPORTED_CPUID");
	for (unsigned int i = 0; i < c.h.nent; i++)
		if (c.e[i].function == 1)
			c.e[i].ecx |= 1u << 21;	/* x2APIC: KVM emulates it on every host */
	if (ioctl(fd, KVM_SET_CPUID2, &c))
		kg_die("KVM_SET_CPUID2");
}

static long long clock_ns(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* CPU time of vCPU thread I (user, guest mode and kernel: KVM's exits and entries) */
static long long vcpu_cpu_ns(int i)
{
	return vcpu_clock_set[i] ? clock_ns(vcpu_clock[i]) : -1;
}

/*
 * IPI_BLOCKS > 1 (the IPI cost bench, tests/bench/ipi_flush_bench.sh): vCPU 0 stops after each
 * block of N IPIs and prints "block I ns=T cpu0=C0 cpu1=C1": the block's wall time and each
 * vCPU thread's CPU time in it; the next block starts when a line arrives on stdin (the bench
 * attaches or detaches hooks in between). vCPU 1 keeps waiting in the guest meanwhile.
 * t[0] wall, t[1], t[2] the vCPU threads' CPU clocks at the block's start.
 */
static void block_end(long block, long long t[3])
{
	char line[64];

	printf("block %ld ns=%lld cpu0=%lld cpu1=%lld\n", block, clock_ns(CLOCK_MONOTONIC) - t[0],
	       vcpu_cpu_ns(0) - t[1], vcpu_cpu_ns(1) - t[2]);
	fflush(stdout);
	alarm(0);
	if (!fgets(line, sizeof(line), stdin))
		exit(1);
	alarm(IPI_TIMEOUT_S);
	t[0] = clock_ns(CLOCK_MONOTONIC), t[1] = vcpu_cpu_ns(0), t[2] = vcpu_cpu_ns(1);
}

static void *vcpu_thread(void *arg)
{
	long id = (long)arg;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_run *run;
	long long t0[3];
	long block = 0;
	int fd;

	pin(cpus[id]);
	if (!pthread_getcpuclockid(pthread_self(), &vcpu_clock[id]))
		vcpu_clock_set[id] = 1;
	/* the rig's recording check: slow_ipi records name vCPU 1's thread as the target */
	printf("vcpu %ld tid=%ld\n", id, (long)syscall(SYS_gettid));
	fflush(stdout);
	fd = kg_vcpu(&guest, id, &run);
	set_cpuid(fd);
	set_x2apic(fd, id);
	if (id) {
		/* with the in-kernel APIC an AP starts waiting for INIT/SIPI: start it directly */
		struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };

		if (ioctl(fd, KVM_SET_MP_STATE, &mp))
			kg_die("KVM_SET_MP_STATE");
	}
	if (ioctl(fd, KVM_GET_SREGS, &sregs))
		kg_die("KVM_GET_SREGS");
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 3 * 8 - 1;
	sregs.idt.base = IDT_GPA;
	sregs.idt.limit = (IPI_VECTOR + 1) * 8 - 1;
	if (ioctl(fd, KVM_SET_SREGS, &sregs))
		kg_die("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = CODE_GPA + (id ? V1_CODE_OFF : 0);
	regs.rflags = 2;
	regs.rax = mode_halt;
	regs.rbx = id ? n_ipis * n_blocks : n_ipis;
	regs.rbp = n_ipis * n_blocks;
	regs.rsp = 0x8000 + id * 0x1000;
	if (ioctl(fd, KVM_SET_REGS, &regs))
		kg_die("KVM_SET_REGS");
	t0[0] = clock_ns(CLOCK_MONOTONIC), t0[1] = vcpu_cpu_ns(0), t0[2] = vcpu_cpu_ns(1);
	for (;;) {
		if (ioctl(fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			kg_die("KVM_RUN");
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_DONE)
			break;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == PORT_BLOCK) {
			block_end(++block, t0);
			continue;
		}
		if (run->exit_reason != KVM_EXIT_INTR) {
			fprintf(stderr, "vcpu %ld: unexpected exit %u\n", id, run->exit_reason);
			exit(1);
		}
	}
	__atomic_add_fetch(&vcpus_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *busy_thread(void *arg)
{
	(void)arg;
	pin(cpus[2]);
	while (__atomic_load_n(&vcpus_done, __ATOMIC_RELAXED) < 2)
		;
	return NULL;
}

static long arg_num(const char *s, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0 || v > max)
		return -1;
	return v;
}

int main(int argc, char **argv)
{
	size_t v0 = ipi_v0_end - ipi_v0, v1 = ipi_v1_end - ipi_v1;
	uint32_t handler = CODE_GPA + V1_CODE_OFF + (ipi_handler - ipi_v1);
	/* null, flat code (selector 8), flat data (selector 16) */
	static const uint64_t gdt[3] = { 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull };
	pthread_t threads[3];
	uint64_t gate;
	int nthreads;

	if (argc < 5 || argc > 6 || (n_ipis = arg_num(argv[1], 1000000)) < 1 ||
	    (strcmp(argv[2], "spin") && strcmp(argv[2], "halt")) ||
	    (cpus[0] = arg_num(argv[3], 1023)) < 0 || (cpus[1] = arg_num(argv[4], 1023)) < 0 ||
	    (argc == 6 && (cpus[2] = arg_num(argv[5], 1023)) < 0)) {
		fprintf(stderr, "usage: ipi_runner N(1..1000000) spin|halt CPU0 CPU1 [BUSYCPU]\n");
		return 2;
	}
	if (getenv("IPI_BLOCKS") && ((n_blocks = arg_num(getenv("IPI_BLOCKS"), 10000)) < 1 ||
				     n_ipis * n_blocks > 1000000)) {
		fprintf(stderr, "ipi_runner: IPI_BLOCKS must be 1..10000, at most 1000000 IPIs in all\n");
		return 2;
	}
	mode_halt = !strcmp(argv[2], "halt");
	nthreads = argc == 6 ? 3 : 2;
	/* the in-kernel local APICs: IPIs then never leave the kernel */
	kg_start(&guest, 1);
	kg_map(&guest, 0x10000, -1, ipi_v0, v0);
	memcpy(guest.mem + CODE_GPA + V1_CODE_OFF, ipi_v1, v1);
	memcpy(guest.mem + GDT_GPA, gdt, sizeof(gdt));
	/* 32-bit interrupt gate: selector 8, present, DPL 0, type 0xe */
	gate = (handler & 0xffffull) | (8ull << 16) | (0x8e00ull << 32) | ((uint64_t)(handler >> 16) << 48);
	memcpy(guest.mem + IDT_GPA + IPI_VECTOR * 8, &gate, sizeof(gate));
	signal(SIGALRM, on_alarm);
	alarm(IPI_TIMEOUT_S);
	for (long i = 0; i < nthreads; i++)
		pthread_create(&threads[i], NULL, i == 2 ? busy_thread : vcpu_thread, (void *)i);
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i], NULL);
	printf("done ipis=%u\n", *(volatile uint32_t *)(guest.mem + COUNT_GPA));
	fflush(stdout);
	usleep(200 * 1000);
	return 0;
}
