// SPDX-License-Identifier: MIT
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
#include "unit.h"
#include "host_state.h"
#include "vmm_info.h"
#include "libvirt_poll.h"
#include "snapshot.h"
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
	static const char *const bad[] = {
		"always madvise never", "[]", "[unterminated", "[waytoolongforthebuffer]", "[a b]",
	};
	char out[16];

	(void)state;
	assert_int_equal(sysfs_choice_parse("always [madvise] never\n", out, sizeof(out)), 0);
	assert_string_equal(out, "madvise");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sysfs_choice_parse(bad[i], out, sizeof(out)), -EINVAL);
}

/* An exiting VMM (PF_EXITING, or a zombie) is not discovered again (found by the soak). */
static void test_proc_stat_exiting(void **state)
{
	(void)state;
	assert_int_equal(proc_stat_exiting("12 (qemu-system-x86) S 1 12 12 0 -1 4194560 5 0 0 0 1 2 0 0 20 0 1 0 9"), 0);
	assert_int_equal(proc_stat_exiting("12 (qemu-system-x86) R 1 12 12 0 -1 4194564 5 0 0 0 1 2 0 0 20 0 1 0 9"), 1);
	assert_int_equal(proc_stat_exiting("12 (a) b) Z 1 12 12 0 -1 4194560 5 0 0 0 1 2 0 0 20 0 1 0 9"), 1);
	assert_int_equal(proc_stat_exiting("12 (x) S 1 12"), -EINVAL);
	assert_int_equal(proc_stat_exiting("12 (x)"), -EINVAL);
	assert_int_equal(proc_stat_exiting("no paren"), -EINVAL);
}

/* The host_state parsers that used to read files by path (now shared with the fuzzer). */
static void test_host_text_parsers(void **state)
{
	struct opt_u64 v = { 0 };
	char vendor[16], *tail;

	(void)state;
	assert_int_equal(sysfs_num_parse("-2048\n", &v), 0);
	assert_int_equal((int64_t)v.v, -2048);
	assert_int_equal(sysfs_num_parse("12 34\n", &v), -EINVAL);
	assert_int_equal(sysfs_num_parse("", &v), -EINVAL);
	cpuinfo_vendor_parse("vendor_id\t: AuthenticAMD\n", vendor, sizeof(vendor));
	assert_string_equal(vendor, "amd");
	cpuinfo_vendor_parse("vendor_id\t: Other\n", vendor, sizeof(vendor));
	assert_string_equal(vendor, "");
	v = (struct opt_u64){ 0 };
	assert_int_equal(ksmd_stat_parse("31 (ksmd) S 2 0 0 0 -1 2129984 0 0 0 0 57 120 0 0 25 5 1 0 7\n", &v), 0);
	assert_int_equal(v.v, 177);
	assert_int_equal(ksmd_stat_parse("31 (kswapd0) S 2 0 0 0 -1 0 0 0 0 0 57 120\n", &v), -ENOENT);
	/* the last ')' ends the text: nothing after it may be read (it was, one byte past
	 * the terminator); the text sits at the very end of its buffer */
	tail = malloc(10);
	assert_non_null(tail);
	memcpy(tail, " (ksmd) )", 10);
	assert_int_equal(ksmd_stat_parse(tail, &v), -EINVAL);
	free(tail);
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

/* Stable identity: UUIDs, libvirt, machined scopes, Proxmox VMIDs, with malformed input. */
static void test_vm_identity(void **state)
{
	struct vmm_info v;
	char u[VMM_UUID_LEN + 1], m[64];
	/* as libvirt 9 starts a domain (src/qemu/qemu_command.c), shortened */
	static const char lv[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=web1,debug-threads=on\0-S\0-object\0"
		"{\"qom-type\":\"secret\",\"id\":\"masterKey0\",\"format\":\"raw\",\"file\":"
		"\"/var/lib/libvirt/qemu/domain-3-web1/master-key.aes\"}\0-uuid\0"
		"8F2B8E1A-7C1D-4B8E-9A39-2D7E5E0B9C11\0-smp\0" "2\0";
	static const char pve[] = "/usr/bin/kvm\0-id\0" "101\0-name\0vm101,debug-threads=on\0-smbios\0"
		"type=1,uuid=0b3a6c2e-55f4-4a57-9b0e-2f6b0d1c7a10\0-m\0" "2048\0";
	static const char plain[] = "qemu-system-x86_64\0-m\0" "256\0";
	static const char ch[] = "cloud-hypervisor\0--platform\0num_pci_segments=1,uuid=11111111-2222-3333-4444-555555555555\0";
	static const char bad_uuid[] = "qemu-system-x86_64\0-uuid\0not-a-uuid\0-name\0guest=x\0";
	static const char bad_uuid2[] = "qemu-system-x86_64\0-uuid\0" "8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c1\0";	/* 35 */
	static const char bad_uuid3[] = "qemu-system-x86_64\0-uuid\0" "8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c1g\0";
	static const char bad_smbios[] = "qemu-system-x86_64\0-smbios\0type=1,uuid=zz\0";
	static const char smbios2[] = "qemu-system-x86_64\0-smbios\0type=2,uuid=zz\0";
	static const char bad_id[] = "/usr/bin/kvm\0-id\0-5\0";
	static const char bad_id2[] = "/usr/bin/kvm\0-id\0" "99999999999999999999\0";
	static const char both[] = "qemu-system-x86_64\0-uuid\0aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa\0-smbios\0"
		"type=1,uuid=bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb\0";
	/* cgroup lines of no machine scope (-ENOENT) or a malformed one (-EINVAL); size 0: all of m */
	static const struct { const char *text; size_t size; int err; } no_machine[] = {
		{ "0::/user.slice/user-0.slice/session-1.scope\n", 0, -ENOENT },
		{ "0::/machine.slice/machine-.scope\n", 0, -ENOENT },
		{ "0::/machine.slice/machine-x.service\n", 0, -ENOENT },
		{ "0::/machine.slice/machine-a\\x2.scope\n", 0, -EINVAL },
		{ "0::/machine.slice/machine-a\\xzz.scope\n", 0, -EINVAL },
		{ "0::/machine.slice/machine-a\\x00b.scope\n", 0, -EINVAL },
		{ "0::/machine.slice/machine-abcdefghijklmnop.scope\n", 8, -EINVAL },
		{ "", 0, -ENOENT },
	};

	(void)state;
	assert_int_equal(vmm_uuid_parse("8F2B8E1A-7C1D-4B8E-9A39-2D7E5E0B9C11", u), 0);
	assert_string_equal(u, "8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c11");
	assert_int_equal(vmm_uuid_parse("", u), -EINVAL);
	assert_int_equal(vmm_uuid_parse("8f2b8e1a7c1d4b8e9a392d7e5e0b9c11", u), -EINVAL);	/* no dashes */
	assert_int_equal(vmm_uuid_parse("8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c11x", u), -EINVAL);
	assert_int_equal(vmm_uuid_parse("8f2b8e1a-7c1d-4b8e-9a39_2d7e5e0b9c11", u), -EINVAL);

	/* libvirt: name, UUID, and the domain from the state-directory hint */
	assert_int_equal(cmdline_parse_str(lv, sizeof(lv) - 1, &v), 0);
	vmm_identity_finish(&v);
	assert_string_equal(v.name, "web1");
	assert_string_equal(v.uuid, "8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c11");
	assert_string_equal(v.libvirt_domain, "web1");
	/* Proxmox: -id and the SMBIOS UUID; not libvirt */
	assert_int_equal(cmdline_parse_str(pve, sizeof(pve) - 1, &v), 0);
	vmm_identity_finish(&v);
	assert_string_equal(v.name, "vm101");
	assert_string_equal(v.vmid, "101");
	assert_string_equal(v.uuid, "0b3a6c2e-55f4-4a57-9b0e-2f6b0d1c7a10");
	assert_string_equal(v.libvirt_domain, "");
	/* nothing: no name of its own, no UUID */
	assert_int_equal(cmdline_parse_str(plain, sizeof(plain) - 1, &v), 0);
	vmm_identity_finish(&v);
	assert_false(v.named);
	assert_string_equal(v.uuid, "");
	assert_int_equal(cmdline_parse_str(ch, sizeof(ch) - 1, &v), 0);
	assert_string_equal(v.uuid, "11111111-2222-3333-4444-555555555555");
	assert_int_equal(cmdline_parse_str(both, sizeof(both) - 1, &v), 0);
	assert_string_equal(v.uuid, "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa");	/* -uuid wins */
	/* malformed: -EINVAL, no UUID or VMID made up, the rest still parsed */
	assert_int_equal(cmdline_parse_str(bad_uuid, sizeof(bad_uuid) - 1, &v), -EINVAL);
	assert_string_equal(v.uuid, "");
	assert_string_equal(v.name, "x");
	assert_int_equal(cmdline_parse_str(bad_uuid2, sizeof(bad_uuid2) - 1, &v), -EINVAL);
	assert_string_equal(v.uuid, "");
	assert_int_equal(cmdline_parse_str(bad_uuid3, sizeof(bad_uuid3) - 1, &v), -EINVAL);
	assert_string_equal(v.uuid, "");
	assert_int_equal(cmdline_parse_str(bad_smbios, sizeof(bad_smbios) - 1, &v), -EINVAL);
	assert_string_equal(v.uuid, "");
	assert_int_equal(cmdline_parse_str(smbios2, sizeof(smbios2) - 1, &v), 0);	/* not the system table */
	assert_int_equal(cmdline_parse_str(bad_id, sizeof(bad_id) - 1, &v), -EINVAL);
	assert_string_equal(v.vmid, "");
	assert_int_equal(cmdline_parse_str(bad_id2, sizeof(bad_id2) - 1, &v), -EINVAL);
	assert_string_equal(v.vmid, "");

	/* systemd machine scopes in /proc/PID/cgroup (v2 and v1 lines) */
	assert_int_equal(cgroup_machine_parse("0::/machine.slice/machine-qemu\\x2d3\\x2dweb1.scope/libvirt/emulator\n",
					      m, sizeof(m)), 0);
	assert_string_equal(m, "qemu-3-web1");
	assert_int_equal(cgroup_machine_parse("12:pids:/user.slice\n1:name=systemd:/machine.slice/machine-alpha.scope\n",
					      m, sizeof(m)), 0);
	assert_string_equal(m, "alpha");
	for (size_t i = 0; i < sizeof(no_machine) / sizeof(no_machine[0]); i++)
		assert_int_equal(cgroup_machine_parse(no_machine[i].text, m, no_machine[i].size ? no_machine[i].size : sizeof(m)),
				 no_machine[i].err);
	/* libvirt without systemd makes the cgroup itself */
	assert_int_equal(cgroup_machine_parse("4:memory:/machine/qemu-2-web1.libvirt-qemu\n"
					      "0::/machine/qemu-2-web1.libvirt-qemu/emulator\n", m, sizeof(m)), 0);
	assert_string_equal(m, "qemu-2-web1");
	assert_int_equal(cgroup_machine_parse("0::/machine/_qemu-3-x.libvirt-qemu/emulator\n", m, sizeof(m)), 0);
	assert_string_equal(m, "qemu-3-x");
	assert_int_equal(cgroup_machine_parse("0::/machine/.libvirt-qemu\n", m, sizeof(m)), -ENOENT);
	assert_int_equal(cgroup_machine_parse("0::/machine/qemu-1-a.libvirt-lxc\n", m, sizeof(m)), -ENOENT);
	assert_int_equal(cgroup_machine_parse("0::/machine/qemu-1-averyveryverylongname.libvirt-qemu\n", m, 8), -EINVAL);
	assert_int_equal(cgroup_machine_parse("0::/machine.slice/machine-a", m, sizeof(m)), -ENOENT);	/* cut */

	/* a libvirt machine without -name (hypothetical) names the domain; -name wins otherwise */
	memset(&v, 0, sizeof(v));
	strcpy(v.machine, "qemu-12-db");
	vmm_identity_finish(&v);
	assert_string_equal(v.libvirt_domain, "db");
	assert_string_equal(v.name, "db");
	memset(&v, 0, sizeof(v));
	strcpy(v.machine, "qemu-12-a-long-name-c");	/* libvirt shortens long names here */
	strcpy(v.name, "a-long-name-cut-short-by-libvirt");
	v.named = true;
	vmm_identity_finish(&v);
	assert_string_equal(v.libvirt_domain, "a-long-name-cut-short-by-libvirt");
	memset(&v, 0, sizeof(v));
	strcpy(v.machine, "alpha");	/* systemd-nspawn/vmspawn or another manager: not libvirt */
	vmm_identity_finish(&v);
	assert_string_equal(v.libvirt_domain, "");
	assert_string_equal(v.name, "alpha");
	memset(&v, 0, sizeof(v));
	strcpy(v.vmid, "105");
	vmm_identity_finish(&v);
	assert_string_equal(v.name, "vmid-105");
}

/* The view's -p/-N filters: pid, and text in the name, libvirt domain or UUID */
static void test_vm_filter(void **state)
{
	struct vm_snapshot v;

	(void)state;
	memset(&v, 0, sizeof(v));
	v.info.pid = 42;
	strcpy(v.info.name, "web-prod-1");
	strcpy(v.info.libvirt_domain, "web-prod-1.example");
	strcpy(v.info.uuid, "8f2b8e1a-7c1d-4b8e-9a39-2d7e5e0b9c11");
	assert_true(snapshot_vm_matches(&v, 0, NULL));
	assert_true(snapshot_vm_matches(&v, 0, ""));
	assert_true(snapshot_vm_matches(&v, 42, NULL));
	assert_false(snapshot_vm_matches(&v, 43, NULL));
	assert_true(snapshot_vm_matches(&v, 0, "prod"));
	assert_true(snapshot_vm_matches(&v, 0, "example"));	/* the libvirt domain */
	assert_true(snapshot_vm_matches(&v, 0, "7c1d-4b8e"));	/* the UUID */
	assert_false(snapshot_vm_matches(&v, 0, "db"));
	assert_false(snapshot_vm_matches(&v, 43, "prod"));	/* both must hold */
}

/* libvirt's balloon stats (KiB) become the QMP values (bytes); guest stats only while fresh */
static void test_libvirt_balloon(void **state)
{
	struct vmm_qmp q;
	const struct libvirt_field f[] = {
		{ "balloon.current", 393216 }, { "balloon.maximum", 524288 }, { "balloon.available", 336000 },
		{ "balloon.unused", 300000 }, { "balloon.usable", 299000 }, { "balloon.disk_caches", 2216 },
		{ "balloon.swap_in", 3 }, { "balloon.swap_out", 4 }, { "balloon.major_fault", 5 },
		{ "balloon.minor_fault", 1880 }, { "balloon.last-update", 1000 }, { "balloon.rss", 219752 },
		{ "balloon.unknown-future-field", 7 },
	};
	const struct libvirt_field huge[] = { { "balloon.current", 18446744073709551615ull } };

	(void)state;
	memset(&q, 0, sizeof(q));
	libvirt_balloon_to_qmp(f, sizeof(f) / sizeof(f[0]), 1010, 30, &q);
	assert_true(q.v[VMM_QMP_balloon_actual_bytes].present);
	assert_int_equal(q.v[VMM_QMP_balloon_actual_bytes].v, 393216ull * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_mem_total_bytes].v, 336000ull * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_mem_free_bytes].v, 300000ull * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_mem_available_bytes].v, 299000ull * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_mem_cached_bytes].v, 2216ull * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_swap_in_bytes].v, 3 * 1024);
	assert_int_equal(q.v[VMM_QMP_guest_major_faults].v, 5);
	assert_int_equal(q.v[VMM_QMP_guest_minor_faults].v, 1880);
	assert_int_equal(q.v[VMM_QMP_guest_stats_last_update_timestamp_seconds].v, 1000);
	/* stale guest stats (last-update 100 s ago): the balloon size only */
	libvirt_balloon_to_qmp(f, sizeof(f) / sizeof(f[0]), 1100, 30, &q);
	assert_true(q.v[VMM_QMP_balloon_actual_bytes].present);
	assert_false(q.v[VMM_QMP_guest_mem_total_bytes].present);
	assert_false(q.v[VMM_QMP_guest_stats_last_update_timestamp_seconds].present);
	/* no last-update at all (no stats period): the same; nothing at all: nothing */
	libvirt_balloon_to_qmp(f, 1, 1010, 30, &q);
	assert_true(q.v[VMM_QMP_balloon_actual_bytes].present);
	assert_false(q.v[VMM_QMP_guest_minor_faults].present);
	libvirt_balloon_to_qmp(NULL, 0, 1010, 30, &q);
	for (int i = 0; i < VMM_QMP_NR; i++)
		assert_false(q.v[i].present);
	/* a size that cannot be in KiB: left out, not wrapped */
	libvirt_balloon_to_qmp(huge, 1, 1010, 30, &q);
	assert_false(q.v[VMM_QMP_balloon_actual_bytes].present);
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

/* Per-sample counters: status through an fd bound to one process instance (start time). */
static void test_status_counters(void **state)
{
	char root[] = "/tmp/vmmem-fakestatus.XXXXXX", p[512];
	struct vmm_info v;
	int ksm_fd = -1;
	FILE *f;
	int fd;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(proc_status_parse("Name:\tqemu\nVmRSS:\t  524288 kB\nVmSwap:\t12 kB\n", &v), 0);
	assert_int_equal(v.rss_kb.v, 524288);
	assert_int_equal(v.swap_kb.v, 12);
	assert_int_equal(proc_status_parse("Name:\tkthreadd\nState:\tS\n", &v), -EINVAL);	/* no mm */
	assert_false(v.rss_kb.present);
	assert_int_equal(proc_status_parse("VmRSS:\t-5 kB\n", &v), -EINVAL);
	assert_int_equal(proc_status_parse("VmRSSx:\t5 kB\n", &v), -EINVAL);
	assert_int_equal(proc_status_parse("VmRSS:\t99999999999999999999999 kB\n", &v), -EINVAL);
	assert_int_equal(proc_status_parse("", &v), -EINVAL);

	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/100", root); mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/100/stat", root);
	f = fopen(p, "w"); fputs("100 (qemu) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 1\n", f); fclose(f);
	snprintf(p, sizeof(p), "%s/100/status", root);
	f = fopen(p, "w"); fputs("Name:\tqemu\nVmRSS:\t2048 kB\nVmSwap:\t4 kB\n", f); fclose(f);
	snprintf(p, sizeof(p), "%s/100/smaps_rollup", root);
	f = fopen(p, "w"); fputs("Rss: 2048 kB\nAnonHugePages:\t1024 kB\n", f); fclose(f);
	/* another instance under the same pid (start time 778): refused */
	assert_int_equal(vmm_status_open(root, 100, 778), -ENOENT);
	assert_int_equal(vmm_status_open(root, 300, 777), -ENOENT);
	fd = vmm_status_open(root, 100, 777);
	assert_true(fd >= 0);
	strcpy(v.comm, "qemu");
	assert_int_equal(vmm_counters_read(fd, &ksm_fd, root, 100, &v), 0);
	assert_int_equal(v.rss_kb.v, 2048);
	assert_int_equal(v.swap_kb.v, 4);
	assert_int_equal(ksm_fd, VMM_FD_ABSENT);	/* no ksm_stat file: not asked again */
	strcpy(v.comm, "bash");		/* the comm it had when identified: it exec'd since */
	assert_int_equal(vmm_counters_read(fd, &ksm_fd, root, 100, &v), 1);
	assert_false(v.ksm.present);
	assert_int_equal(vmm_thp_read(root, 100, &v.anon_huge_kb), 0);
	assert_int_equal(v.anon_huge_kb.v, 1024);
	assert_int_equal(vmm_thp_read(root, 300, &v.anon_huge_kb), -ENOENT);
	close(fd);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void put(const char *root, const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Discovery between full scans: only the pids handed out since (loadavg's last pid), threads
 * skipped, a young process looked at again, too many new pids or a wrap: a full scan. */
static void test_discovery_new_pids(void **state)
{
	char root[] = "/tmp/vmmem-fakenew.XXXXXX", p[512];
	struct vmm_scan_cache *cache;
	pid_t pids[8];

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(vmm_scan_cache_new(&cache), 0);
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), -EAGAIN);		/* no full scan yet */
	put(root, "loadavg", "0.00 0.01 0.05 1/120 100\n");
	assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 0);
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), 0);		/* nothing new */
	/* 101: a qemu; 102: a thread of it (Tgid 101); 103: not a VMM (yet) */
	for (int pid = 101; pid <= 103; pid++) {
		snprintf(p, sizeof(p), "%s/%d", root, pid); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%d/fd", root, pid); mkdir(p, 0755);
	}
	put(root, "101/status", "Name:\tqemu-system-x86\nUmask:\t0022\nState:\tS\nTgid:\t101\n");
	put(root, "102/status", "Name:\tqemu-system-x86\nUmask:\t0022\nState:\tS\nTgid:\t101\n");
	put(root, "103/status", "Name:\tlibvirtd\nTgid:\t103\n");
	put(root, "loadavg", "0.00 0.01 0.05 1/120 103\n");
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), 1);
	assert_int_equal(pids[0], 101);
	/* 103 exec'd a VMM (or opened its kvm-vm fd) a moment later: still young, found */
	snprintf(p, sizeof(p), "%s/103/fd/7", root);
	assert_int_equal(symlink("anon_inode:kvm-vm", p), 0);
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), 1);
	assert_int_equal(pids[0], 103);
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), 0);		/* said once */
	put(root, "loadavg", "0.00 0.01 0.05 1/120 5000\n");			/* a fork storm */
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), -EAGAIN);
	put(root, "loadavg", "0.00 0.01 0.05 1/120 50\n");			/* wrapped */
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), -EAGAIN);
	put(root, "loadavg", "garbage\n");
	assert_int_equal(vmm_scan_new(cache, root, pids, 8), -EAGAIN);
	vmm_scan_cache_free(cache);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
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

	/* the cached scan: a verdict stands while the process (its /proc inode) stays */
	{
		struct vmm_scan_cache *cache;
		char q[512];

		assert_int_equal(vmm_scan_cache_new(&cache), 0);
		assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 1);
		assert_int_equal(pids[0], 100);
		/* the same process 200 opening a kvm-vm fd later: not looked at again (the
		 * kernel side's VM-creation hook is what finds it) */
		snprintf(p, sizeof(p), "%s/200/fd/3", root); unlink(p);
		assert_int_equal(symlink("anon_inode:kvm-vm", p), 0);
		assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 0);	/* 100: told once */
		/* a new process under pid 200 (a new directory, so a new inode): examined */
		snprintf(p, sizeof(p), "%s/200.new", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/200.new/fd", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/200.new/stat", root);
		f = fopen(p, "w"); fputs("200 (vmm2) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999 1\n", f); fclose(f);
		snprintf(p, sizeof(p), "%s/200.new/fd/3", root);
		assert_int_equal(symlink("anon_inode:kvm-vm", p), 0);
		snprintf(p, sizeof(p), "rm -rf %s/200", root);
		assert_int_equal(system(p), 0);
		snprintf(p, sizeof(p), "%s/200.new", root);
		snprintf(q, sizeof(q), "%s/200", root);
		assert_int_equal(rename(p, q), 0);
		assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 1);
		assert_int_equal(pids[0], 200);
		/* a process gone: gone from the verdicts too */
		snprintf(p, sizeof(p), "rm -rf %s/100", root);
		assert_int_equal(system(p), 0);
		assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 0);
		/* and back under pid 100, a new process: told again */
		snprintf(p, sizeof(p), "%s/100", root); mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/100/stat", root);
		f = fopen(p, "w"); fputs("100 (qemu-kvm) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 1000 1\n", f); fclose(f);
		assert_int_equal(vmm_scan_cached(cache, root, pids, 8), 1);
		assert_int_equal(pids[0], 100);
		assert_int_equal(vmm_scan_cached(cache, "/nonexistent-proc", pids, 8) < 0, 1);
		vmm_scan_cache_free(cache);
	}
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

UNIT_TESTS(
	cmocka_unit_test(test_meminfo),
	cmocka_unit_test(test_sysfs_choice),
	cmocka_unit_test(test_proc_stat),
	cmocka_unit_test(test_host_text_parsers),
	cmocka_unit_test(test_proc_stat_exiting),
	cmocka_unit_test(test_ksm_stat_and_smaps),
	cmocka_unit_test(test_evict_facts),
	cmocka_unit_test(test_qemu_cmdline),
	cmocka_unit_test(test_vm_identity),
	cmocka_unit_test(test_libvirt_balloon),
	cmocka_unit_test(test_vm_filter),
	cmocka_unit_test(test_other_vmms),
	cmocka_unit_test(test_status_counters),
	cmocka_unit_test(test_discovery_fake_proc),
	cmocka_unit_test(test_discovery_new_pids),
	cmocka_unit_test(test_kmod_parse))
