/* Finding VMM processes in /proc: a process holding an anon_inode:kvm-vm fd
 * (virt/kvm/kvm_main.c kvm_dev_ioctl_create_vm names it so), or one with a known VMM comm. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmm_info.h"

static bool is_pid(const char *s, pid_t *pid)
{
	long v;
	char *end;

	if (*s < '1' || *s > '9')
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0 || v > 0x3fffffff)
		return false;
	*pid = v;
	return true;
}

int vmm_fd_scan(const char *proc_root, pid_t pid, struct vmm_info *out)
{
	char path[256], target[128];
	struct dirent *de;
	uint64_t vcpu_fds = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%d/fd", proc_root, (int)pid);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? -ENOENT : -errno;
	while ((de = readdir(d))) {
		char link[sizeof(path) + 260];
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strcmp(target, "anon_inode:kvm-vm"))
			out->has_kvm_vm_fd = true;
		else if (!strncmp(target, "anon_inode:kvm-vcpu:", 20))
			vcpu_fds++;
	}
	closedir(d);
	if (!out->vcpus.present && vcpu_fds)
		out->vcpus = (struct opt_u64){ vcpu_fds, true };
	return 0;
}

bool vmm_detect(const char *proc_root, pid_t pid)
{
	char path[256], buf[64];
	struct vmm_info info;

	snprintf(path, sizeof(path), "%s/%d/comm", proc_root, (int)pid);
	if (read_small_file(path, buf, sizeof(buf)) <= 0)
		return false;
	buf[strcspn(buf, "\n")] = 0;
	if (vmm_comm_is_known(buf))
		return true;
	memset(&info, 0, sizeof(info));
	return vmm_fd_scan(proc_root, pid, &info) == 0 && info.has_kvm_vm_fd;
}

int vmm_scan(const char *proc_root, pid_t *pids, int max)
{
	struct dirent *de;
	pid_t self = getpid(), pid;
	int n = 0;
	DIR *d = opendir(proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!is_pid(de->d_name, &pid) || pid == self || !vmm_detect(proc_root, pid))
			continue;
		if (n < max)
			pids[n] = pid;
		n++;
	}
	closedir(d);
	return n;
}
