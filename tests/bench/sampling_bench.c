// SPDX-License-Identifier: MIT
/* Sampling-loop benchmark: the CPU the sampler (core_next(), everything one 1 s sample reads
 * from the backend and /proc) spends per sample, on real VMM processes (fake_vmm: a kvm-vm fd
 * and touched memory), for N = 10, 100, 400 small VMs, for a set of 8 GiB 4 KiB-mapped VMs
 * against as many small ones, and with 5000 idle non-VMM processes on the host. CPU is
 * getrusage(RUSAGE_SELF) user+sys (every thread of the sampler), against a baseline of the
 * same loop with none of our processes, measured in the same run.
 * usage: sampling_bench FAKE_VMM [SAMPLES] (env BIG_N, BIG_MIB, SMALL_MIB, IDLE_PROCS, NS) */
#include <errno.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "core.h"
#include "vmm_info.h"

#define MAX_PROCS 6000

static const char *fake_vmm;
static int samples = 10;
static struct core *core;
static pid_t procs[MAX_PROCS];
static int nprocs;

static double faults_per_sample;	/* the sampler's page faults in the last measure() */

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static double cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : def;
}

/* n fake VMMs of mib MiB each (0: none touched); returns once every one said ready */
static int spawn_vmms(int n, long mib)
{
	char arg[32];
	int pfd[2];

	if (pipe(pfd))
		return -errno;
	snprintf(arg, sizeof(arg), "--fake-mib=%ld", mib);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();

		if (p < 0)
			return -errno;
		if (p == 0) {
			dup2(pfd[1], 1);
			close(pfd[0]);
			execl(fake_vmm, fake_vmm, arg, "-name", "guest=bench", "-smp", "1", "-m", "64", (char *)NULL);
			_exit(127);
		}
		procs[nprocs++] = p;
	}
	close(pfd[1]);
	for (int got = 0; got < n;) {
		char buf[6 * 64];
		ssize_t r = read(pfd[0], buf, sizeof(buf));

		if (r <= 0) {
			fprintf(stderr, "sampling_bench: only %d of %d fake VMMs became ready\n", got, n);
			close(pfd[0]);
			return -EIO;
		}
		got += r / 6;
	}
	close(pfd[0]);
	return 0;
}

static int spawn_idle(int n)
{
	for (int i = 0; i < n && nprocs < MAX_PROCS; i++) {
		pid_t p = fork();

		if (p < 0)
			return -errno;
		if (p == 0) {
			/* an ordinary idle process: stdio only, not the sampler's BPF and /proc fds */
			close_range(3, ~0u, 0);
			for (;;)
				pause();
		}
		procs[nprocs++] = p;
	}
	return 0;
}

static void kill_all(void)
{
	for (int i = 0; i < nprocs; i++)
		kill(procs[i], SIGKILL);
	for (int i = 0; i < nprocs; i++)
		waitpid(procs[i], NULL, 0);
	nprocs = 0;
}

static int sample(struct snapshot *s)
{
	char err[256];
	int ret = core_next(core, 1.0, NULL, s, err, sizeof(err));

	if (ret)
		fprintf(stderr, "sampling_bench: %s\n", err);
	return ret;
}

/* How many of our processes s holds, and how many of them have AnonHugePages read. */
static int ours(const struct snapshot *s, int *with_thp)
{
	int n = 0;

	*with_thp = 0;
	for (int i = 0; i < s->nr_vms; i++)
		for (int j = 0; j < nprocs; j++)
			if (s->vms[i].info.pid == procs[j] && !s->vms[i].exited) {
				n++;
				*with_thp += s->vms[i].info.anon_huge_kb.present;
			}
	return n;
}

/* Warm up (discovery, first reads; with thp_all, until every VM of ours had its one
 * smaps_rollup walk, whose next is a minute away), then CPU us per sample over `samples`
 * samples; *vms is how many of our processes the last sample held. */
static double measure(int *vms, bool thp_all, int min_warm)
{
	struct snapshot s;
	double t0;

	for (int i = 0; i < 40; i++) {
		int n, thp;

		if (sample(&s))
			exit(1);
		n = ours(&s, &thp);
		snapshot_free(&s);
		if (i >= min_warm - 1 && (!thp_all || thp == n))
			break;
	}
	faults_per_sample = minflt();
	t0 = cpu_us();
	for (int i = 0; i < samples; i++) {
		if (sample(&s))
			exit(1);
		if (i < samples - 1)
			snapshot_free(&s);
	}
	t0 = (cpu_us() - t0) / samples;
	faults_per_sample = (minflt() - faults_per_sample) / samples;
	{
		int thp;

		*vms = ours(&s, &thp);
	}
	snapshot_free(&s);
	return t0;
}

static void settle(void)
{
	struct snapshot s;

	/* exited VMs are reported once, then reaped */
	for (int i = 0; i < 2; i++)
		if (!sample(&s))
			snapshot_free(&s);
}

int main(int argc, char **argv)
{
	struct core_options opt = { .backend = "auto" };
	int big_n = env_int("BIG_N", 2), idle = env_int("IDLE_PROCS", 5000), vms;
	long big_mib = env_int("BIG_MIB", 8192), small_mib = env_int("SMALL_MIB", 16);
	const char *ns_env = getenv("NS");
	int ns[8], nr_ns = 0;
	double base, per_sample, small = 0, big = 0;
	char err[256];

	if (argc < 2) {
		fprintf(stderr, "usage: sampling_bench FAKE_VMM [SAMPLES]\n");
		return 2;
	}
	fake_vmm = argv[1];
	if (argc > 2)
		samples = atoi(argv[2]);
	for (char *p = strdup(ns_env ? ns_env : "10 100 400"), *t; (t = strsep(&p, " ,")) && nr_ns < 8;)
		if (*t)
			ns[nr_ns++] = atoi(t);
	if (core_open(&core, &opt, err, sizeof(err))) {
		fprintf(stderr, "sampling_bench: %s\n", err);
		return 1;
	}
	printf("backend %s, %d samples of 1 s per row, CPU = user+sys of the sampler (getrusage)\n",
	       core_backend(core), samples);
	base = measure(&vms, false, 3);
	printf("%-36s %8s %14s %16s %14s\n", "set", "VMs seen", "CPU us/sample", "us/VM/sample", "faults/sample");
	printf("%-36s %8d %14.0f %16s %14.0f\n", "baseline (none of ours)", vms, base, "-", faults_per_sample);
	for (int i = 0; i < nr_ns; i++) {
		char label[64];

		if (spawn_vmms(ns[i], small_mib))
			return 1;
		per_sample = measure(&vms, false, 3);
		snprintf(label, sizeof(label), "N=%d small (%ld MiB each)", ns[i], small_mib);
		printf("%-36s %8d %14.0f %16.1f %14.0f\n", label, vms, per_sample, (per_sample - base) / ns[i], faults_per_sample);
		fflush(stdout);
		kill_all();
		settle();
	}
	if (big_n > 0) {
		char label[64];

		if (spawn_vmms(big_n, small_mib))
			return 1;
		small = measure(&vms, true, 3);
		snprintf(label, sizeof(label), "N=%d small (%ld MiB each)", big_n, small_mib);
		printf("%-36s %8d %14.0f %16.1f %14.0f\n", label, vms, small, (small - base) / big_n, faults_per_sample);
		kill_all();
		settle();
		if (spawn_vmms(big_n, big_mib))
			return 1;
		big = measure(&vms, true, 3);
		snprintf(label, sizeof(label), "N=%d big (%ld MiB each, 4 KiB pages)", big_n, big_mib);
		printf("%-36s %8d %14.0f %16.1f %14.0f\n", label, vms, big, (big - base) / big_n, faults_per_sample);
		{
			/* what the staggered walk costs when it comes (once a minute per VM) */
			struct opt_u64 huge;
			double t0 = cpu_us(), walk;

#ifdef OLD_CORE
			{
				char path[64], buf[2048];

				(void)huge;
				snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)procs[0]);
				read_small_file(path, buf, sizeof(buf));
			}
#else
			vmm_thp_read("/proc", procs[0], &huge);
#endif
			walk = cpu_us() - t0;
			printf("(the big and small rows wait until each VM had its smaps_rollup walk: none is "
			       "due in the window)\none smaps_rollup walk of a %ld MiB VM: %.0f us CPU; walks "
			       "come at most once a minute per VM and within 1 %% of a CPU: amortized %.0f us "
			       "per VM per 1 s sample at most\n", big_mib, walk, walk / 60);
		}
		kill_all();
		settle();
		printf("big/small: %.2fx per sample (whole loop)", big / small);
		if (small - base > 50 && big - base > 0)
			printf(", %.2fx per VM above the baseline", (big - base) / (small - base));
		else
			printf(" (per VM above the baseline: within the noise of %d VMs)", big_n);
		printf("\n");
		fflush(stdout);
	}
	if (idle > 0) {
		if (spawn_idle(idle))
			return 1;
		/* past their youth (3 s) and the full scan after it: what a host with that many
		 * settled processes costs (their first look is a one-time cost) */
		per_sample = measure(&vms, false, 14);
		printf("%-36s %8d %14.0f %16s %14.0f\n", "5000 idle non-VMM processes", vms, per_sample, "-", faults_per_sample);
		printf("discovery with %d more processes: %.0f us per sample above the baseline\n", idle,
		       per_sample - base);
#ifndef OLD_CORE
		{
			/* the two kinds of look discovery takes (user/core/core.c discover()) */
			struct vmm_scan_cache *sc;
			pid_t found[1024];
			double t0, full, look;

			if (vmm_scan_cache_new(&sc) == 0) {
				vmm_scan_cached(sc, "/proc", found, 1024);	/* every process examined once */
				sleep(4);					/* none young any more */
				vmm_scan_cached(sc, "/proc", found, 1024);
				t0 = cpu_us();
				for (int i = 0; i < 5; i++)
					vmm_scan_cached(sc, "/proc", found, 1024);
				full = (cpu_us() - t0) / 5;
				t0 = cpu_us();
				for (int i = 0; i < 5; i++)
					vmm_scan_new(sc, "/proc", found, 1024);
				look = (cpu_us() - t0) / 5;
				printf("with %d more processes: a full /proc scan (every 10 s) %.0f us, a look at the "
				       "new pids (the other 9 s) %.0f us: %.0f us per 1 s sample on average\n",
				       idle, full, look, (full + 9 * look) / 10);
				vmm_scan_cache_free(sc);
			}
		}
#endif
		kill_all();
	}
	core_close(core);
	return 0;
}
