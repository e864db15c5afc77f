// SPDX-License-Identifier: MIT
/* Feature probes for the BPF backend: tracefs, tracepoints, BTF functions (vmlinux and modules). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "bpf_probe.h"

static const char *tracefs_path;
static struct btf *vmlinux_btf;
static struct btf *module_btfs[64];
static int nr_module_btfs;
static bool btfs_loaded;

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *probe_tracefs(void)
{
	if (tracefs_path)
		return tracefs_path;
	if (is_dir("/sys/kernel/tracing/events"))
		return tracefs_path = "/sys/kernel/tracing";
	if (is_dir("/sys/kernel/debug/tracing/events"))
		return tracefs_path = "/sys/kernel/debug/tracing";
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    is_dir("/sys/kernel/tracing/events"))
		return tracefs_path = "/sys/kernel/tracing";
	return NULL;
}

bool probe_tracepoint(const char *category, const char *name)
{
	const char *root = probe_tracefs();
	char path[256];

	if (!root)
		return false;
	snprintf(path, sizeof(path), "%s/events/%s/%s", root, category, name);
	return is_dir(path);
}

/* kprobes need CONFIG_KPROBES (tracefs then has kprobe_events) and the symbol in kallsyms
 * (module symbols too: "name [kvm]"); a static or inlined function is not there. */
bool probe_kprobe(const char *symbol)
{
	const char *root = probe_tracefs();
	char path[256], line[512];
	size_t n = strlen(symbol);
	bool found = false;
	FILE *f;

	if (!root)
		return false;
	snprintf(path, sizeof(path), "%s/kprobe_events", root);
	if (access(path, F_OK))
		return false;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *name = strchr(line, ' ');

		/* "ADDR T name [module]" */
		if (name && (name = strchr(name + 1, ' ')) && !strncmp(name + 1, symbol, n) &&
		    (name[n + 1] == '\n' || name[n + 1] == '\t' || name[n + 1] == ' '))
			found = true;
	}
	fclose(f);
	return found;
}

bool probe_kernel_btf(void)
{
	return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
}

static void load_btfs(void)
{
	struct dirent *de;
	DIR *d;

	btfs_loaded = true;
	vmlinux_btf = btf__load_vmlinux_btf();
	if (!vmlinux_btf)
		return;
	d = opendir("/sys/kernel/btf");
	if (!d)
		return;
	/* KVM may be a module (kvm.ko): its functions have BTF of their own */
	while ((de = readdir(d)) && nr_module_btfs < (int)(sizeof(module_btfs) / sizeof(module_btfs[0]))) {
		char path[300];
		struct btf *b;

		if (de->d_name[0] == '.' || strcmp(de->d_name, "vmlinux") == 0)
			continue;
		if (strncmp(de->d_name, "kvm", 3) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", de->d_name);
		b = btf__parse_split(path, vmlinux_btf);
		if (b)
			module_btfs[nr_module_btfs++] = b;
	}
	closedir(d);
}

static bool probe_btf_kind(const char *name, int kind)
{
	if (!btfs_loaded)
		load_btfs();
	if (!vmlinux_btf)
		return false;
	if (btf__find_by_name_kind(vmlinux_btf, name, kind) > 0)
		return true;
	for (int i = 0; i < nr_module_btfs; i++)
		if (btf__find_by_name_kind(module_btfs[i], name, kind) > 0)
			return true;
	return false;
}

bool probe_btf_function(const char *name)
{
	return probe_btf_kind(name, BTF_KIND_FUNC);
}

bool probe_btf_typedef(const char *name)
{
	return probe_btf_kind(name, BTF_KIND_TYPEDEF);
}

bool probe_btf_struct(const char *name)
{
	return probe_btf_kind(name, BTF_KIND_STRUCT);
}

/* BPF_MAP_TYPE_TASK_STORAGE came in 5.11 */
bool probe_task_storage(void)
{
	static int verdict = -1;

	if (verdict < 0)
		verdict = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) == 1;
	return verdict;
}

/*
 * BTF trampolines can exist in the kernel yet be refused (EPERM from an LSM or a
 * sandbox, as on some hosted kernels). Only loading one tells: load "return 0" as an
 * fentry program on a function every kernel has.
 */
bool probe_fentry_loads(void)
{
	static int verdict = -1;
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY);
	int id, fd;

	if (verdict >= 0)
		return verdict;
	if (!btfs_loaded)
		load_btfs();
	verdict = 0;
	if (!vmlinux_btf)
		return false;
	id = btf__find_by_name_kind(vmlinux_btf, "vfs_read", BTF_KIND_FUNC);
	if (id <= 0)
		return false;
	opts.attach_btf_id = id;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "vmmem_probe", "GPL", insns, 2, &opts);
	if (fd >= 0) {
		close(fd);
		verdict = 1;
	}
	return verdict;
}

void probe_cleanup(void)
{
	for (int i = 0; i < nr_module_btfs; i++)
		btf__free(module_btfs[i]);
	nr_module_btfs = 0;
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	btfs_loaded = false;
}
