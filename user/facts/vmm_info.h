/* SPDX-License-Identifier: MIT */
/* What /proc says about one VMM process: identity, name, size, memory, KSM state. */
#ifndef VMMEM_VMM_INFO_H
#define VMMEM_VMM_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "host_state.h"
#include "vmm_qmp.h"

#define VMM_NAME_MAX 128
#define VMM_UUID_LEN 36			/* 8-4-4-4-12 hex digits */
#define VMM_VMID_MAX 16

struct ksm_stat {
	bool present;			/* /proc/PID/ksm_stat exists and parsed */
	struct opt_u64 ksm_rmap_items, ksm_zero_pages, ksm_merging_pages, ksm_process_profit;
};

/* The VMM's own cgroup (v2), where it has one: a libvirt or systemd machine scope, or any
 * cgroup holding no other process. Its memory.stat counts the VM's eviction exactly. */
struct vmm_cgroup {
	bool own;			/* found, and no other process in it */
	char path[160];			/* relative to the cgroup2 mount, e.g. /machine.slice/... */
	struct opt_u64 pswpin, pswpout;	/* pages swapped in/out (memory.stat, 6.x kernels that have them) */
	struct opt_u64 pgmajfault;	/* major faults charged to the cgroup (do_swap_page etc.) */
	struct opt_u64 workingset_refault_anon;	/* evicted anon pages faulted back soon after */
	struct opt_u64 swap_current;	/* memory.swap.current, bytes */
};

struct vmm_info {
	pid_t pid;
	uint64_t start_time;		/* /proc/PID/stat field 22: with pid, the VM's identity */
	char comm[16];
	char name[VMM_NAME_MAX];	/* see vmm_identity_finish(): the VM's own name, else comm */
	bool named;			/* name is the VM's (command line, libvirt, machined), not comm */
	/* stable identity across restarts (the pid is not): empty when unknown */
	char uuid[VMM_UUID_LEN + 1];	/* qemu -uuid / -smbios type=1,uuid=; cloud-hypervisor
					 * --platform uuid=; lower case */
	char libvirt_domain[VMM_NAME_MAX];/* set only for VMs libvirt started */
	char machine[VMM_NAME_MAX];	/* systemd machine name (machine-NAME.scope in /proc/PID/cgroup) */
	char vmid[VMM_VMID_MAX];	/* Proxmox VE VMID (qemu -id N) */
	bool libvirt_hint;		/* the command line names libvirt's state directories */
	bool has_kvm_vm_fd;		/* holds an anon_inode:kvm-vm fd */
	struct opt_u64 vcpus;		/* -smp N / cpus=N, or kvm-vcpu fd count */
	struct opt_u64 mem_configured_kb;/* -m */
	struct opt_u64 rss_kb, swap_kb;	/* /proc/PID/status VmRSS, VmSwap: every sample */
	struct opt_u64 anon_huge_kb;	/* smaps_rollup AnonHugePages: a page-table walk, read rarely */
	struct opt_u64 anon_huge_time;	/* when anon_huge_kb was read: unix time, seconds */
	struct ksm_stat ksm;
	struct opt_u64 majflt;		/* /proc/PID/stat field 12: major faults of all its threads,
					 * KVM's get_user_pages faults included (mm_account_fault) */
	struct vmm_cgroup cgroup;
	/* bytes of its address space accessed within the window (vmmemtop --working-set: DAMON,
	 * user/core/ws_monitor.c), and why not when absent ("" when present) */
	struct opt_u64 working_set_bytes;
	char working_set_why[192];
	struct vmm_qmp qmp;		/* socket from the command line; values from qmp_poll */
};

/* True for comms of known VMMs: qemu-system-*, qemu-kvm, firecracker, cloud-hypervisor, crosvm. */
bool vmm_comm_is_known(const char *comm);

/* Parse a NUL-separated command line (as /proc/PID/cmdline) of len bytes into name, vcpus,
 * mem_configured_kb and the QMP server socket (qmp.socket, qmp.abstract: the first of
 * `-qmp unix:PATH,server=on`, or `-chardev socket,id=ID,path=PATH,server=on` with
 * `-mon chardev=ID,mode=control`) of out (fields it cannot find are left untouched).
 * Returns 0, or -EINVAL on a malformed option value (the rest is still parsed). */
int vmm_cmdline_parse(const char *buf, size_t len, struct vmm_info *out);

/* Canonical lower-case form of a UUID (8-4-4-4-12 hex digits) into out; 0 or -EINVAL. */
int vmm_uuid_parse(const char *s, char out[VMM_UUID_LEN + 1]);

/* The systemd machine name from /proc/PID/cgroup text: the unit "machine-NAME.scope" on any
 * hierarchy line, with systemd's \xNN escapes undone (machine-qemu\x2d1\x2dweb.scope is
 * "qemu-1-web"). Returns 0, -ENOENT when the process is in no machine scope, -EINVAL on a
 * malformed escape or a name that does not fit. */
int cgroup_machine_parse(const char *text, char *out, size_t outsz);

/* After the command line and cgroup are read: libvirt_domain (libvirt names its machines
 * "qemu-ID-NAME"), and name when the command line gave none (machine name, VMID, comm). */
void vmm_identity_finish(struct vmm_info *out);

/* Parse /proc/PID/stat text: comm and start_time. Returns 0 or -EINVAL. */
int proc_stat_parse(const char *text, char comm[16], uint64_t *start_time);

/* Field n (1-based, as proc(5) numbers them, n > 2) of /proc/PID/stat text. 0 or -EINVAL. */
int proc_stat_field(const char *text, int n, uint64_t *out);

/* Parse a cgroup's memory.stat into the counters of out (absent keys stay unavailable). */
void cgroup_memory_stat_parse(const char *text, struct vmm_cgroup *out);

/* The cgroup v2 path of pid from /proc/PID/cgroup text ("0::/path"): 0 or -EINVAL. */
int proc_cgroup_parse(const char *text, char *path, size_t sz);

/* Fill out->cgroup for pid (a no-op without cgroup v2). */
void vmm_cgroup_read(const char *proc_root, pid_t pid, struct vmm_info *out);

/* From /proc/PID/stat text: 1 if the process is exiting (PF_EXITING in its flags, or a
 * zombie), 0 if not, -EINVAL if malformed. */
int proc_stat_exiting(const char *text);

/* True if pid is exiting or gone: do_exit() sets PF_EXITING before sched_process_exit, and
 * since 6.16 that event comes before exit_mm() and exit_files(), so an exiting VMM still
 * shows its kvm-vm fd in /proc after its exit was counted (kernel/exit.c do_exit). */
bool vmm_exiting(const char *proc_root, pid_t pid);

/* Parse /proc/PID/smaps_rollup (Rss, Swap, AnonHugePages). Returns 0 or -EINVAL. */
int smaps_rollup_parse(const char *text, struct vmm_info *out);

/* Parse /proc/PID/status (VmRSS, VmSwap) into rss_kb, swap_kb. Returns 0, or -EINVAL without
 * a VmRSS line (kernel threads, zombies). */
int proc_status_parse(const char *text, struct vmm_info *out);

/* Parse /proc/PID/ksm_stat. ksm_process_profit is signed (mm/ksm.c): stored as two's
 * complement in .v, cast to int64_t to read it. Returns 0 or -EINVAL. */
int ksm_stat_parse(const char *text, struct ksm_stat *out);

/* Fill out for pid from <proc_root>/PID/... ("/proc" live). Returns 0, -ENOENT if the
 * process is gone, or -EACCES. Cheap fields only unless full (smaps_rollup, ksm_stat). */
int vmm_info_read(const char *proc_root, pid_t pid, struct vmm_info *out, bool full);

/* Open <proc_root>/PID/status of the process instance that started at start_time: the fd stays
 * bound to that process (not to the pid number). Returns the fd, or -ENOENT if the process is
 * gone or the pid belongs to another one, or another negative errno (-EMFILE...). */
int vmm_status_open(const char *proc_root, pid_t pid, uint64_t start_time);

#define VMM_FD_ABSENT (-2)	/* a held fd whose file the kernel does not have */

/* A sample's counters of one VMM: rss_kb, swap_kb from the status fd (counters the kernel
 * keeps: no page-table walk), ksm from ksm_stat through *ksm_fd (-1: opened here and kept;
 * VMM_FD_ABSENT: the kernel has none, not asked again). Returns 0, 1 if the process now runs
 * under another comm than out->comm (it exec'd: its identity is stale), or -ENOENT if the
 * process of status_fd is gone. */
int vmm_counters_read(int status_fd, int *ksm_fd, const char *proc_root, pid_t pid, struct vmm_info *out);

/* AnonHugePages of pid from smaps_rollup: a walk of all its page tables under its mmap_lock
 * (fs/proc/task_mmu.c show_smaps_rollup), ~60 ms for 7.4 GiB of 4 KiB pages. 0 or -errno. */
int vmm_thp_read(const char *proc_root, pid_t pid, struct opt_u64 *anon_huge_kb);

/* Read just the identity (start_time) of pid; 0 or -ENOENT. */
int vmm_identity_read(const char *proc_root, pid_t pid, uint64_t *start_time);

/* Look at pid's open fds: sets has_kvm_vm_fd, and vcpus from the anon_inode:kvm-vcpu fds
 * when the command line did not give it. Returns 0 or -ENOENT/-EACCES. */
int vmm_fd_scan(const char *proc_root, pid_t pid, struct vmm_info *out);

/* True if pid is a VMM: holds an anon_inode:kvm-vm fd, or has a known VMM comm. */
bool vmm_detect(const char *proc_root, pid_t pid);

/* List VMM pids under proc_root into pids (at most max). Returns the count (may exceed
 * max: then only max were stored), or a negative errno if proc_root cannot be read. */
int vmm_scan(const char *proc_root, pid_t *pids, int max);

/* A scan that remembers each process (pid and its /proc inode) and its verdict: a process is
 * examined when new and while younger than 10 s, not every scan (user/facts/vmm_discovery.c). */
struct vmm_scan_cache;
int vmm_scan_cache_new(struct vmm_scan_cache **out);
void vmm_scan_cache_free(struct vmm_scan_cache *c);
/* As vmm_scan(), through the cache, but each VMM process is listed once: by the first scan
 * that judged it one. */
int vmm_scan_cached(struct vmm_scan_cache *c, const char *proc_root, pid_t *pids, int max);
/* Only the pids handed out since the last look (/proc/loadavg's last pid), and the young ones
 * among them again: O(new processes), not O(all). Returns the VMMs found (each may come again
 * from the next vmm_scan_cached()), or -EAGAIN when a full vmm_scan_cached() is needed (no
 * scan yet, no loadavg, or more than 1024 new pids). A process placed under a chosen pid
 * (clone3 set_tid, CRIU) is not seen here: the periodic full scan finds it. */
int vmm_scan_new(struct vmm_scan_cache *c, const char *proc_root, pid_t *pids, int max);

/* Read a whole small file into buf (NUL-terminated, truncated at bufsz-1).
 * Returns bytes read or negative errno. */
ssize_t read_small_file(const char *path, char *buf, size_t bufsz);

#endif
