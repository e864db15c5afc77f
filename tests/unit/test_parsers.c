/* Unit tests: /proc and sysfs parsers and the QEMU/VMM command-line parser, with malformed input. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "host_state.h"
#include "vmm_info.h"
#include "source.h"

#include "source_kmod.h"

static void test_meminfo(void **state)
{
	struct host_meminfo m;

	(void)state;
	assert_int_equal(meminfo_parse("MemTotal:       24576000 kB\nMemFree: 100 kB\nSwapCached: 7 kB\n"
				       "Cached: 5 kB\nMemAvailable: 2000 kB\n", &m), 0);
	assert_true(m.mem_total_kb.present);
	assert_int_equal(m.mem_total_kb.v, 24576000);
	assert_int_equal(m.cached_kb.v, 5);	/* not SwapCached */
	assert_false(m.swap_total_kb.present);
	assert_int_equal(meminfo_parse("", &m), -EINVAL);
	assert_int_equal(meminfo_parse("garbage\n\n\n", &m), -EINVAL);
	assert_int_equal(meminfo_parse("MemTotal: -5 kB\n", &m), -EINVAL);
	assert_int_equal(meminfo_parse("MemTotal: 99999999999999999999999 kB\n", &m), -EINVAL);
	assert_int_equal(meminfo_parse("MemTotal:", &m), -EINVAL);	/* truncated */
}

static void test_sysfs_choice(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(sysfs_choice_parse("always [madvise] never\n", out, sizeof(out)), 0);
	assert_string_equal(out, "madvise");
	assert_int_equal(sysfs_choice_parse("always madvise never", out, sizeof(out)), -EINVAL);
	assert_int_equal(sysfs_choice_parse("[]", out, sizeof(out)), -EINVAL);
	assert_int_equal(sysfs_choice_parse("[unterminated", out, sizeof(out)), -EINVAL);
	assert_int_equal(sysfs_choice_parse("[waytoolongforthebuffer]", out, sizeof(out)), -EINVAL);
	assert_int_equal(sysfs_choice_parse("[a b]", out, sizeof(out)), -EINVAL);
}

static void test_proc_stat(void **state)
{
	char comm[16];
	uint64_t st = 0;
	const char *tail = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 9 9\n";
	char buf[256];

	(void)state;
	snprintf(buf, sizeof(buf), "123 (qemu-system-x86)%s", tail);
	assert_int_equal(proc_stat_parse(buf, comm, &st), 0);
	assert_string_equal(comm, "qemu-system-x86");
	assert_int_equal(st, 424242);
	snprintf(buf, sizeof(buf), "123 (a) (b) c)%s", tail);	/* comm with ") (" */
	assert_int_equal(proc_stat_parse(buf, comm, &st), 0);
	assert_string_equal(comm, "a) (b) c");
	assert_int_equal(st, 424242);
	assert_int_equal(proc_stat_parse("123 (x) S 1 2", comm, &st), -EINVAL);	/* truncated */
	assert_int_equal(proc_stat_parse("no parens at all", comm, &st), -EINVAL);
	assert_int_equal(proc_stat_parse("", comm, &st), -EINVAL);
	assert_int_equal(proc_stat_parse(")(", comm, &st), -EINVAL);
}

static void test_ksm_stat_and_smaps(void **state)
{
	struct ksm_stat k;
	struct vmm_info v;

	(void)state;
	assert_int_equal(ksm_stat_parse("ksm_rmap_items 1200\nksm_zero_pages 0\nksm_merging_pages 1000\n"
					"ksm_process_profit -81920\n", &k), 0);
	assert_int_equal(k.ksm_merging_pages.v, 1000);
	assert_true(k.ksm_process_profit.present);
	assert_int_equal((int64_t)k.ksm_process_profit.v, -81920);	/* signed in mm/ksm.c */
	assert_int_equal(ksm_stat_parse("ksm_merging_pages -5\n", &k), -EINVAL);	/* unsigned field */
	assert_int_equal(ksm_stat_parse("ksm_merging_pages\n", &k), -EINVAL);
	assert_int_equal(ksm_stat_parse("", &k), -EINVAL);
	memset(&v, 0, sizeof(v));
	assert_int_equal(smaps_rollup_parse("55d0-7ff [rollup]\nRss:   524288 kB\nSwap: 12 kB\n"
					    "AnonHugePages: 4096 kB\n", &v), 0);
	assert_int_equal(v.rss_kb.v, 524288);
	assert_int_equal(v.swap_kb.v, 12);
	assert_int_equal(v.anon_huge_kb.v, 4096);
	assert_int_equal(smaps_rollup_parse("Rss: lots kB\n", &v), -EINVAL);
	assert_int_equal(smaps_rollup_parse("RssAnon: 5 kB\n", &v), -EINVAL);	/* a longer key is not Rss */
}

/* /proc/PID/stat majflt, a cgroup's memory.stat and /proc/PID/cgroup, malformed too */
static void test_evict_facts(void **state)
{
	const char *stat = "42 (qemu (x) y) S 1 42 42 0 -1 4194560 1500 0 77 0 10 5 0 0 20 0 3 0 12345 0 0";
	struct vmm_cgroup cg;
	char path[64];
	uint64_t v = 0;

	(void)state;
	assert_int_equal(proc_stat_field(stat, 12, &v), 0);
	assert_int_equal(v, 77);			/* majflt, after a comm with ") " in it */
	assert_int_equal(proc_stat_field(stat, 22, &v), 0);
	assert_int_equal(v, 12345);
	assert_int_equal(proc_stat_field(stat, 60, &v), -EINVAL);	/* past the end */
	assert_int_equal(proc_stat_field("42 (q) S 1 2 3 4 5 6 7 8 -9", 12, &v), -EINVAL);
	assert_int_equal(proc_stat_field("no parenthesis", 12, &v), -EINVAL);
	memset(&cg, 0, sizeof(cg));
	cgroup_memory_stat_parse("anon 4096\npgmajfault 12\npswpin 7\npswpout 9\nworkingset_refault_anon 3\n", &cg);
	assert_true(cg.pgmajfault.present && cg.pgmajfault.v == 12);
	assert_true(cg.pswpin.present && cg.pswpin.v == 7 && cg.pswpout.v == 9);
	assert_true(cg.workingset_refault_anon.present && cg.workingset_refault_anon.v == 3);
	/* 6.1 has no pswpin in memory.stat: unavailable, not 0; junk values are not numbers */
	cgroup_memory_stat_parse("pgmajfault x\npswpout -1\npswpinx 5\npgmajfault_other 1\n", &cg);
	assert_false(cg.pswpin.present || cg.pswpout.present || cg.pgmajfault.present);
	assert_int_equal(proc_cgroup_parse("0::/machine.slice/machine-qemu\\x2d1.scope\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/machine.slice/machine-qemu\\x2d1.scope");
	assert_int_equal(proc_cgroup_parse("4:memory:/a\n0::/b\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/b");
	assert_int_equal(proc_cgroup_parse("4:memory:/a\n", path, sizeof(path)), -EINVAL);	/* v1 only */
	assert_int_equal(proc_cgroup_parse("0::/", path, 1), -EINVAL);		/* no room */
	assert_int_equal(proc_cgroup_parse("", path, sizeof(path)), -EINVAL);
}

static int cmdline_parse_str(const char *s, size_t len, struct vmm_info *v)
{
	memset(v, 0, sizeof(*v));
	return vmm_cmdline_parse(s, len, v);
}

static void test_qemu_cmdline(void **state)
{
	struct vmm_info v;
	static const char c1[] = "qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-smp\0"
				 "sockets=2,cores=4,threads=2\0-m\0size=4G,slots=4,maxmem=8G\0";
	static const char c2[] = "/usr/bin/qemu-kvm\0-name\0db,,primary,process=x\0-smp\0cpus=3,maxcpus=8\0-m\0" "512\0";
	static const char c3[] = "qemu-system-x86_64\0--name\0alpha\0-smp\0" "2\0-m\0" "1.5G";	/* no trailing NUL */
	static const char bad[] = "qemu-system-x86_64\0-m\0lots\0-smp\0-4\0-name\0guest=ok\0";
	static const char huge[] = "qemu-system-x86_64\0-m\0" "99999999999999999999T\0-smp\0" "99999999999999999999\0";
	static const char dangling[] = "qemu-system-x86_64\0-name";

	(void)state;
	assert_int_equal(cmdline_parse_str(c1, sizeof(c1) - 1, &v), 0);
	assert_string_equal(v.name, "web1");
	assert_int_equal(v.vcpus.v, 16);
	assert_int_equal(v.mem_configured_kb.v, 4ull * 1024 * 1024);
	assert_int_equal(cmdline_parse_str(c2, sizeof(c2) - 1, &v), 0);
	assert_string_equal(v.name, "db,primary");
	assert_int_equal(v.vcpus.v, 3);
	assert_int_equal(v.mem_configured_kb.v, 512 * 1024);
	assert_int_equal(cmdline_parse_str(c3, sizeof(c3) - 1, &v), 0);
	assert_string_equal(v.name, "alpha");
	assert_int_equal(v.vcpus.v, 2);
	assert_int_equal(v.mem_configured_kb.v, 1536 * 1024);
	/* malformed values: -EINVAL, the rest still parsed */
	assert_int_equal(cmdline_parse_str(bad, sizeof(bad) - 1, &v), -EINVAL);
	assert_string_equal(v.name, "ok");
	assert_false(v.mem_configured_kb.present);
	assert_false(v.vcpus.present);
	assert_int_equal(cmdline_parse_str(huge, sizeof(huge) - 1, &v), -EINVAL);
	assert_false(v.mem_configured_kb.present);
	assert_int_equal(cmdline_parse_str(dangling, sizeof(dangling) - 1, &v), 0);
	assert_int_equal(cmdline_parse_str("", 0, &v), 0);
}

static void test_other_vmms(void **state)
{
	struct vmm_info v;
	static const char fc[] = "firecracker\0--api-sock\0/tmp/a.sock\0--id\0vm-7\0";
	static const char ch[] = "cloud-hypervisor\0--cpus\0boot=4,max=8\0--memory\0size=2G\0";
	static const char cv[] = "crosvm\0run\0--cpus\0" "6\0--mem\0" "2048\0vmlinux\0";

	(void)state;
	assert_int_equal(cmdline_parse_str(fc, sizeof(fc) - 1, &v), 0);
	assert_string_equal(v.name, "vm-7");
	assert_int_equal(cmdline_parse_str(ch, sizeof(ch) - 1, &v), 0);
	assert_int_equal(v.vcpus.v, 4);
	assert_int_equal(v.mem_configured_kb.v, 2 * 1024 * 1024);
	assert_int_equal(cmdline_parse_str(cv, sizeof(cv) - 1, &v), 0);
	assert_int_equal(v.vcpus.v, 6);
	assert_int_equal(v.mem_configured_kb.v, 2048 * 1024);
	assert_true(vmm_comm_is_known("qemu-system-x86"));
	assert_true(vmm_comm_is_known("cloud-hypervis"));
	assert_false(vmm_comm_is_known("qemu-img"));
	assert_false(vmm_comm_is_known("bash"));
}

/* A fake /proc: pid 100 holds a kvm-vm fd and two vcpu fds, 200 is an ordinary process. */
static void test_discovery_fake_proc(void **state)
{
	char root[] = "/tmp/vmmem-fakeproc.XXXXXX", p[512];
	pid_t pids[8];
	struct vmm_info v;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(root));
	for (int pid = 100; pid <= 200; pid += 100) {
		snprintf(p, sizeof(p), "%s/%d", root, pid); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%d/fd", root, pid); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%d/comm", root, pid);
		f = fopen(p, "w"); fputs(pid == 100 ? "my-vmm\n" : "bash\n", f); fclose(f);
		snprintf(p, sizeof(p), "%s/%d/stat", root, pid);
		f = fopen(p, "w");
		fprintf(f, "%d (%s) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 1\n", pid,
			pid == 100 ? "my-vmm" : "bash");
		fclose(f);
		snprintf(p, sizeof(p), "%s/%d/fd/3", root, pid);
		assert_int_equal(symlink(pid == 100 ? "anon_inode:kvm-vm" : "/dev/null", p), 0);
	}
	snprintf(p, sizeof(p), "%s/100/fd/4", root); assert_int_equal(symlink("anon_inode:kvm-vcpu:0", p), 0);
	snprintf(p, sizeof(p), "%s/100/fd/5", root); assert_int_equal(symlink("anon_inode:kvm-vcpu:1", p), 0);
	snprintf(p, sizeof(p), "%s/notapid", root); mkdir(p, 0755);

	assert_int_equal(vmm_scan(root, pids, 8), 1);
	assert_int_equal(pids[0], 100);
	assert_int_equal(vmm_info_read(root, 100, &v, true), 0);
	assert_true(v.has_kvm_vm_fd);
	assert_int_equal(v.vcpus.v, 2);
	assert_int_equal(v.start_time, 777);
	assert_string_equal(v.name, "my-vmm");		/* no cmdline: comm */
	assert_false(v.rss_kb.present);
	assert_int_equal(vmm_info_read(root, 300, &v, false), -ENOENT);
	assert_int_equal(vmm_scan("/nonexistent-proc", pids, 8) < 0, 1);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void kmod_fill(void *buf, int nr_vms)
{
	struct vmmem_snapshot_header *h = buf;

	memset(h, 0, sizeof(*h));
	h->abi_version = VMMEM_ABI_VERSION;
	h->header_size = sizeof(*h);
	h->record_size = sizeof(struct vmmem_vm_record);
	h->nr_vms = nr_vms;
	h->nr_vm_counters = VMMEM_NR_VM_COUNTERS;
	h->nr_host_counters = VMMEM_NR_HOST_COUNTERS;
	h->nr_vm_hists = VMMEM_NR_VM_HISTS;
	h->nr_host_hists = VMMEM_NR_HOST_HISTS;
}

static void test_kmod_parse(void **state)
{
	static struct {
		struct vmmem_snapshot_header h;
		struct vmmem_vm_record r[2];
	} d;
	static struct source_read out;
	struct counter_mask avail;

	(void)state;
	memset(&d, 0, sizeof(d));
	kmod_fill(&d, 2);
	d.h.available_vm = 1ull << VMMEM_C_tdp_faults | 1ull << VMMEM_C_exits;
	d.h.available_vm_hist = 1ull << VMMEM_HIST_tdp_fault_ns;
	d.h.host.c[VMMEM_H_dropped_events] = 7;
	d.r[0] = (struct vmmem_vm_record){ .tgid = 42, .state = VMMEM_SLOT_LIVE, .seq = 1 };
	d.r[0].counters.c[VMMEM_C_tdp_faults] = 513;
	d.r[0].hists.h[VMMEM_HIST_tdp_fault_ns].slot[12] = 513;
	d.r[1] = (struct vmmem_vm_record){ .tgid = 43, .state = 99 };	/* unknown state: skipped */
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, &avail), 0);
	assert_int_equal(out.nr_vms, 1);
	assert_int_equal(out.vms[0].counters.c[VMMEM_C_tdp_faults], 513);
	assert_int_equal(out.vms[0].hists.h[VMMEM_HIST_tdp_fault_ns].slot[12], 513);
	assert_int_equal(out.host.c[VMMEM_H_dropped_events], 7);
	assert_true(avail.vm[VMMEM_C_tdp_faults] && avail.vm[VMMEM_C_exits]);
	assert_false(avail.vm[VMMEM_C_exits_io]);	/* the module cannot classify exits */
	assert_true(avail.vm_hist[VMMEM_HIST_tdp_fault_ns]);
	assert_false(avail.vm_hist[VMMEM_HIST_exit_io_ns]);
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), 0);

	/* malformed: every one is refused, none read past len */
	assert_int_equal(source_kmod_parse(&d, sizeof(d) - 1, &out, NULL), -EPROTO);	/* truncated */
	assert_int_equal(source_kmod_parse(&d, 3, &out, NULL), -EPROTO);
	assert_int_equal(source_kmod_parse(&d, 0, &out, NULL), -EPROTO);
	d.h.nr_vms = 0xffffffff;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* huge count */
	d.h.nr_vms = VMMEM_MAX_VMS;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* beyond len */
	kmod_fill(&d, 2);
	d.h.abi_version = 1;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* old ABI */
	kmod_fill(&d, 2);
	d.h.record_size = 8;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* short records */
	kmod_fill(&d, 2);
	d.h.record_size = 0x80000000u;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* size overflow */
	kmod_fill(&d, 2);
	d.h.header_size = 0xffffffffu;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);
	kmod_fill(&d, 2);
	d.h.nr_vm_counters = VMMEM_NR_VM_COUNTERS + 1;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);	/* other table */
	kmod_fill(&d, 2);
	d.h.nr_vm_hists = 0;
	assert_int_equal(source_kmod_parse(&d, sizeof(d), &out, NULL), -EPROTO);
	kmod_fill(&d, 0);
	assert_int_equal(source_kmod_parse(&d, sizeof(d.h), &out, NULL), 0);	/* no VMs: fine */
	assert_int_equal(out.nr_vms, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_sysfs_choice),
		cmocka_unit_test(test_proc_stat),
		cmocka_unit_test(test_ksm_stat_and_smaps),
		cmocka_unit_test(test_evict_facts),
		cmocka_unit_test(test_qemu_cmdline),
		cmocka_unit_test(test_other_vmms),
		cmocka_unit_test(test_discovery_fake_proc),
		cmocka_unit_test(test_kmod_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
