// SPDX-License-Identifier: GPL-2.0
/*
 * Guest RAM of each VMM, for the balloon split (the module's side of bpf/guest_ram.bpf.h):
 * a discard counts as balloon bytes only inside the memory the VMM registered with
 * KVM_SET_USER_MEMORY_REGION(2), the rest is vmm_own_discard_bytes.
 *
 * kretprobes on kvm_arch_init_vm() (a VM is created: its memslots will all be seen) and on
 * __kvm_set_memory_region() (virt/kvm/kvm_main.c; global and not inlined in 5.10, 6.1 and
 * 6.12; its argument's first 32 bytes are the uapi kvm_userspace_memory_region(2) prefix)
 * keep each VMM's raw memslots, and turn them into the sorted, merged table classified by
 * backing (the VMAs' VM_SHARED, file and offset) that the discard probes split with: at once
 * in the memslot probe, which runs in the VMM's own context and can read its VMAs when
 * mmap_read_trylock() succeeds, else within 100 ms from the module's work item, which can
 * sleep for mmap_read_lock().  A VMM whose VM creation the module did not see (it predates
 * the module) has no complete list: its balloon counters are unavailable.  kvm.ko can go
 * and come back under the module: a module notifier re-arms the two probes.
 */
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/ptrace.h>
#include <linux/sched/mm.h>
#include <linux/seqlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include "vmmem_internal.h"
#include "uapi/vmmem_guest_ram_build.h"

#define GR_RAW		64	/* memslots per VMM (all address spaces and VMs) */
#define GR_PIECES	256	/* slot pieces cut along VMAs, before merging */

struct gr_raw {
	u64 kvm;
	u32 as_slot;
	u32 pad;
	u64 hva;
	u64 size;
};

struct gr_vm {
	raw_spinlock_t lock;		/* raw[], nr_raw, seq, gen, dirty, seen_create */
	u64 seq;			/* the slot instance this describes */
	u64 gen;			/* bumped on every change of raw[] */
	bool seen_create, dirty, overflow;
	int nr_raw;
	struct gr_raw raw[GR_RAW];
	seqlock_t tlock;		/* the published table */
	struct vmmem_guest_ram table;
};

static struct gr_vm *grs;		/* one per VMM slot */
/* the scratch below; taken after mmap_read_(try)lock, never the other way round */
static DEFINE_RAW_SPINLOCK(build_lock);
static struct gr_raw scratch_raw[GR_RAW];

static struct gr_piece pieces[GR_PIECES];
static struct vmmem_guest_ram scratch_table;

static struct gr_vm *gr_of(struct vmmem_slot *s)
{
	return grs ? &grs[vmmem_slot_index(s)] : NULL;
}

static bool rebuild(struct gr_vm *g, struct mm_struct *mm, bool wait);

/* ---- probes ---- */

struct memslot_call {
	u64 kvm;
	struct {
		u32 slot;
		u32 flags;
		u64 guest_phys_addr;
		u64 memory_size;
		u64 userspace_addr;
	} m;
};

/* int kvm_arch_init_vm(struct kvm *kvm, unsigned long type) */
static int init_vm_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct vmmem_slot *s;
	struct gr_vm *g;
	unsigned long flags;

	if (regs_return_value(regs) != 0)
		return 0;
	s = vmmem_slot_claim(current->tgid, VMMEM_ORIGIN_KVM_CREATE);
	g = s ? gr_of(s) : NULL;
	if (!g)
		return 0;
	raw_spin_lock_irqsave(&g->lock, flags);
	if (g->seq != s->seq) {
		g->seq = s->seq;
		g->nr_raw = 0;
		g->overflow = false;
	}
	g->seen_create = true;
	g->dirty = true;
	g->gen++;
	raw_spin_unlock_irqrestore(&g->lock, flags);
	return 0;
}

/* int __kvm_set_memory_region(struct kvm *kvm, const struct kvm_userspace_memory_region(2) *mem) */
static int memslot_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct memslot_call *c = (struct memslot_call *)ri->data;

	if (!vmmem_slot_find(current->tgid))
		return 1;
	c->kvm = regs_get_kernel_argument(regs, 0);
	if (copy_from_kernel_nofault(&c->m, (void *)regs_get_kernel_argument(regs, 1), sizeof(c->m)))
		return 1;
	return 0;
}

static int memslot_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	const struct memslot_call *c = (const struct memslot_call *)ri->data;
	struct vmmem_slot *s;
	struct gr_vm *g;
	unsigned long flags;
	int i;

	if (regs_return_value(regs) != 0)
		return 0;
	s = vmmem_slot_find(current->tgid);
	g = s ? gr_of(s) : NULL;
	if (!g)
		return 0;
	raw_spin_lock_irqsave(&g->lock, flags);
	if (g->seq != s->seq)
		goto out;	/* a VM the module did not see created: stays unknown */
	for (i = 0; i < g->nr_raw; i++)
		if (g->raw[i].kvm == c->kvm && g->raw[i].as_slot == c->m.slot)
			break;
	if (!c->m.memory_size) {
		if (i < g->nr_raw)
			g->raw[i] = g->raw[--g->nr_raw];
	} else if (i < g->nr_raw || g->nr_raw < GR_RAW) {
		if (i == g->nr_raw)
			g->nr_raw++;
		g->raw[i] = (struct gr_raw){ .kvm = c->kvm, .as_slot = c->m.slot,
					     .hva = c->m.userspace_addr, .size = c->m.memory_size };
	} else {
		g->overflow = true;
	}
	g->dirty = true;
	g->gen++;
	raw_spin_unlock_irqrestore(&g->lock, flags);
	/* the VMM may discard right after: build now if its VMAs can be read without waiting */
	if (current->mm && mmap_read_trylock(current->mm)) {
		rebuild(g, current->mm, false);
		mmap_read_unlock(current->mm);
	}
	return 0;
out:
	raw_spin_unlock_irqrestore(&g->lock, flags);
	return 0;
}

/* both or neither: a VM whose creation we saw must have its memslots seen too */
static struct vmmem_hook kvm_hooks[] = {
	VMMEM_KRETPROBE("kvm_arch_init_vm", NULL, init_vm_return, 0),
	VMMEM_KRETPROBE("__kvm_set_memory_region", memslot_entry, memslot_return, sizeof(struct memslot_call)),
};

/* ---- the split (probe context) ---- */

bool vmmem_guest_ram_known(struct vmmem_slot *s)
{
	struct gr_vm *g = gr_of(s);

	return g && READ_ONCE(g->seq) == s->seq && READ_ONCE(g->table.state) == VMMEM_GR_KNOWN;
}

/* Bytes of [start, start+len) inside guest RAM (*inside); returned: of those, inside ranges
 * whose shared flag is want_shared (< 0: any). False if guest RAM is unknown. */
bool vmmem_guest_ram_split(struct vmmem_slot *s, u64 start, u64 len, int want_shared, u64 *inside, u64 *freeing)
{
	struct gr_vm *g = gr_of(s);
	unsigned int seq;
	u64 e = start + len;

	if (!vmmem_guest_ram_known(s))
		return false;
	do {
		u32 i, n;

		seq = read_seqbegin(&g->tlock);
		*inside = *freeing = 0;
		n = min_t(u32, READ_ONCE(g->table.nr), VMMEM_GUEST_RANGES);
		for (i = 0; i < n; i++) {
			const struct vmmem_guest_range *r = &g->table.r[i];
			u64 lo = max(r->start, start), hi = min(r->start + r->len, e);

			if (lo >= hi)
				continue;
			*inside += hi - lo;
			if (want_shared < 0 || !!(r->flags & VMMEM_GR_SHARED) == want_shared)
				*freeing += hi - lo;
		}
	} while (read_seqretry(&g->tlock, seq));
	return true;
}

bool vmmem_guest_ram_split_file(struct vmmem_slot *s, struct file *file, u64 off, u64 len, u64 *inside)
{
	struct gr_vm *g = gr_of(s);
	struct inode *inode;
	unsigned int seq;
	u64 e = off + len;

	if (!vmmem_guest_ram_known(s))
		return false;
	inode = file ? file_inode(file) : NULL;
	do {
		u32 i, n;

		seq = read_seqbegin(&g->tlock);
		*inside = 0;
		n = min_t(u32, READ_ONCE(g->table.nr_files), VMMEM_GUEST_FILES);
		for (i = 0; inode && i < n; i++) {
			const struct vmmem_guest_file *f = &g->table.f[i];
			u64 lo = max(f->off, off), hi = min(f->off + f->len, e);

			if (f->ino != inode->i_ino || f->dev != inode->i_sb->s_dev || lo >= hi)
				continue;
			*inside += hi - lo;
		}
	} while (read_seqretry(&g->tlock, seq));
	return true;
}

/* ---- building the table (process context) ---- */

/* Cut the memslots along the VMAs of mm (its mmap lock held); false if it needs more pieces
 * than there is room for. */
static bool collect(struct mm_struct *mm, int nr_raw, int *np)
{
	bool ok = true;
	int i;

	*np = 0;
	for (i = 0; i < nr_raw && ok; i++) {
		u64 a = scratch_raw[i].hva, b = a + scratch_raw[i].size;
		struct vm_area_struct *vma = find_vma(mm, a);

		for (; vma && vma->vm_start < b; vma = find_vma(mm, vma->vm_end)) {
			u64 lo = max_t(u64, vma->vm_start, a), hi = min_t(u64, vma->vm_end, b);
			struct inode *inode = vma->vm_file ? file_inode(vma->vm_file) : NULL;

			if (lo >= hi)
				continue;
			if (*np == GR_PIECES) {
				ok = false;
				break;
			}
			pieces[(*np)++] = (struct gr_piece){
				.start = lo, .end = hi,
				.off = ((u64)vma->vm_pgoff << PAGE_SHIFT) + (lo - vma->vm_start),
				.ino = inode ? inode->i_ino : 0,
				.dev = inode ? inode->i_sb->s_dev : 0,	/* as /proc/PID/maps shows it */
				.shared = !!(vma->vm_flags & VM_SHARED),
			};
			if (vma->vm_end >= b)
				break;
		}
	}
	return ok;
}

/* The table from the pieces (uapi/vmmem_guest_ram_build.h, the rules user space's gr_build()
 * follows too). False when the table has no room. */
static bool build(int np, struct vmmem_guest_ram *t)
{
	static struct vmmem_guest_file files[VMMEM_GUEST_FILES * 4];

	return gr_table_build(pieces, np, files, ARRAY_SIZE(files), t);
}

/*
 * Build g's table from its memslots and mm's VMAs (mmap lock held by the caller) and publish
 * it.  wait: spin for the scratch (process context); else give up if another CPU builds (the
 * work item will).  True when the table reflects the latest memslots.
 */
static bool rebuild(struct gr_vm *g, struct mm_struct *mm, bool wait)
{
	unsigned long flags, f2;
	bool usable, done;
	int nr, np;
	u64 gen;

	if (wait)
		raw_spin_lock_irqsave(&build_lock, flags);
	else if (!raw_spin_trylock_irqsave(&build_lock, flags))
		return false;
	raw_spin_lock_irqsave(&g->lock, f2);
	nr = g->nr_raw;
	gen = g->gen;
	usable = g->seen_create && !g->overflow;
	memcpy(scratch_raw, g->raw, nr * sizeof(scratch_raw[0]));
	raw_spin_unlock_irqrestore(&g->lock, f2);
	if (!usable || !collect(mm, nr, &np) || !build(np, &scratch_table))
		memset(&scratch_table, 0, sizeof(scratch_table));	/* unknown */
	write_seqlock_irqsave(&g->tlock, f2);
	g->table = scratch_table;
	write_sequnlock_irqrestore(&g->tlock, f2);
	raw_spin_unlock_irqrestore(&build_lock, flags);
	raw_spin_lock_irqsave(&g->lock, f2);
	done = g->gen == gen;
	if (done)
		g->dirty = false;
	raw_spin_unlock_irqrestore(&g->lock, f2);
	return done;
}

/* From the module's 100 ms work item: rebuild the tables whose memslots changed and that the
 * probe could not build at once. */
void vmmem_guest_ram_work(void)
{
	unsigned int i;

	if (!grs)
		return;
	for (i = 0; i < vmmem_max_vms; i++) {
		struct gr_vm *g = &grs[i];
		struct task_struct *task;
		struct mm_struct *mm;
		pid_t tgid;

		if (!READ_ONCE(g->dirty))
			continue;
		tgid = vmmem_slot_tgid(i, READ_ONCE(g->seq));
		if (!tgid)
			continue;
		rcu_read_lock();
		task = pid_task(find_vpid(tgid), PIDTYPE_TGID);
		if (task)
			get_task_struct(task);
		rcu_read_unlock();
		if (!task)
			continue;
		mm = get_task_mm(task);
		put_task_struct(task);
		if (!mm)
			continue;
		mmap_read_lock(mm);
		rebuild(g, mm, true);
		mmap_read_unlock(mm);
		mmput(mm);
		cond_resched();
	}
}

/* kvm.ko going away takes our probes on its functions with it: arm them again when it is back */
static int arm(void)
{
	size_t i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(kvm_hooks); i++) {
		ret = vmmem_hook_register(&kvm_hooks[i]);
		if (ret) {
			vmmem_hooks_unregister(kvm_hooks, ARRAY_SIZE(kvm_hooks));
			return ret;
		}
	}
	return 0;
}

static void disarm(void)
{
	vmmem_hooks_unregister(kvm_hooks, ARRAY_SIZE(kvm_hooks));
}

static int kvm_module_event(struct notifier_block *nb, unsigned long val, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_DONE;
	if (val == MODULE_STATE_LIVE && !kvm_hooks[0].on && arm())
		pr_warn(VMMEM_PFX "cannot hook kvm's memslot updates again: balloon counters unavailable\n");
	else if (val == MODULE_STATE_GOING)
		disarm();
	return NOTIFY_DONE;
}

static struct notifier_block kvm_module_nb = { .notifier_call = kvm_module_event };

int vmmem_guest_ram_init(void)
{
	unsigned int i;
	int ret;

	grs = vzalloc(array_size(vmmem_max_vms, sizeof(*grs)));
	if (!grs)
		return -ENOMEM;
	for (i = 0; i < vmmem_max_vms; i++) {
		raw_spin_lock_init(&grs[i].lock);
		seqlock_init(&grs[i].tlock);
	}
	ret = arm();
	if (ret)
		pr_warn(VMMEM_PFX "cannot hook kvm_arch_init_vm/__kvm_set_memory_region (%d): guest RAM unknown, "
			"balloon counters unavailable until kvm.ko loads\n", ret);
	register_module_notifier(&kvm_module_nb);
	return 0;
}

void vmmem_guest_ram_exit(void)
{
	unregister_module_notifier(&kvm_module_nb);
	disarm();
	vfree(grs);
	grs = NULL;
}
