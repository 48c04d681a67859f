// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the statistics in debugfs, /sys/kernel/debug/kvm.
 *
 * What for: Linux's kvm_stat (tools/kvm/kvm_stat) and other tools written
 * for kvm.ko look for this directory and read its files; kvm_stat does not
 * even start without it. The numbers are the ones KVM_GET_STATS_FD gives
 * (stats.c), laid out as kvm.ko lays them out (virt/kvm/kvm_main.c):
 *
 *   kvm/<stat>             the sum over every VM; for a vCPU statistic, over
 *                          every vCPU of every VM
 *   kvm/<pid>-<fd>/<stat>  one VM: <pid> is the thread that created it,
 *                          <fd> the number KVM_CREATE_VM returned
 *
 * Each file reads as a decimal number and a newline. Unlike kvm.ko's, the
 * files are read-only (kvm.ko lets root clear a counter by writing 0), and a
 * VM directory has no vcpuN subdirectories.
 *
 * Lifetime. A VM is on mkvm_debugfs_vms from the moment its fd exists until
 * mkvm_destroy_vm() starts, and its directory exists as long: a top-level
 * file sums the VMs on the list under mkvm_debugfs_lock, so it never sees a
 * VM being freed. A file of a VM's directory takes a reference on the VM
 * when opened and drops it when closed (as kvm.ko does), so the VM outlives
 * every open file of its own directory. Opening one while the VM's last
 * reference is going fails with ENOENT: debugfs keeps the file's data valid
 * during open() (the removal waits for it), and refcount_inc_not_zero()
 * refuses a VM whose count already reached 0.
 *
 * Without debugfs (CONFIG_DEBUG_FS=n, debugfs=off on the kernel command
 * line) or with the name "kvm" taken (kvm.ko loaded too), nothing is
 * created and VMs work as before.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/debugfs.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "minikvm.h"

/* One file: which statistic, of which VM (NULL: the sum over all). */
struct mkvm_debugfs_stat {
	struct mkvm *vm;
	unsigned int index;	/* for mkvm_stat_name() and mkvm_stat_value() */
};

/* A VM's directory (NULL or an error pointer if it has none). */
struct mkvm_debugfs_vm {
	struct dentry *dir;
	struct mkvm_debugfs_stat stats[];
};

static struct dentry *mkvm_debugfs_root;	/* NULL: no debugfs here */
static struct mkvm_debugfs_stat *mkvm_debugfs_all;	/* the top-level files */
static LIST_HEAD(mkvm_debugfs_vms);
static DEFINE_MUTEX(mkvm_debugfs_lock);	/* guards mkvm_debugfs_vms */

static int mkvm_debugfs_show(struct seq_file *m, void *unused)
{
	struct mkvm_debugfs_stat *st = m->private;
	struct mkvm *vm;
	u64 sum = 0;

	if (st->vm) {
		sum = mkvm_stat_value(st->vm, st->index);
	} else {
		mutex_lock(&mkvm_debugfs_lock);
		list_for_each_entry(vm, &mkvm_debugfs_vms, debugfs_node)
			sum += mkvm_stat_value(vm, st->index);
		mutex_unlock(&mkvm_debugfs_lock);
	}
	seq_printf(m, "%llu\n", sum);
	return 0;
}

/* A top-level file: the VMs are summed under the lock, no reference. */
static int mkvm_debugfs_all_open(struct inode *inode, struct file *file)
{
	return single_open(file, mkvm_debugfs_show, inode->i_private);
}

static const struct file_operations mkvm_debugfs_all_fops = {
	.owner		= THIS_MODULE,
	.open		= mkvm_debugfs_all_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= single_release,
};

/* A file of a VM's directory: it holds the VM while it is open. */
static int mkvm_debugfs_vm_open(struct inode *inode, struct file *file)
{
	struct mkvm_debugfs_stat *st = inode->i_private;
	int r;

	if (!refcount_inc_not_zero(&st->vm->users))
		return -ENOENT;
	r = single_open(file, mkvm_debugfs_show, st);
	if (r)
		mkvm_put_vm(st->vm);
	return r;
}

static int mkvm_debugfs_vm_release(struct inode *inode, struct file *file)
{
	struct seq_file *m = file->private_data;
	struct mkvm *vm = ((struct mkvm_debugfs_stat *)m->private)->vm;

	/*
	 * Not inode->i_private: debugfs does not promise it is still valid
	 * at release. The last put may destroy the VM, and with it this
	 * file's directory and data: it comes last.
	 */
	single_release(inode, file);
	mkvm_put_vm(vm);
	return 0;
}

static const struct file_operations mkvm_debugfs_vm_fops = {
	.owner		= THIS_MODULE,
	.open		= mkvm_debugfs_vm_open,
	.read		= seq_read,
	.llseek		= seq_lseek,
	.release	= mkvm_debugfs_vm_release,
};

/**
 * mkvm_debugfs_vm_create() - list a new VM and make its directory.
 * @vm: the VM, whose fd exists but is not installed yet
 * @fd: that fd's number, for the directory's name
 *
 * Called by mkvm_create_vm() once the VM's file owns it, so that a file of
 * the directory opened at once holds a VM that a failure here releases
 * with fput(), like any other VM.
 *
 * Return: 0 (also when there is no debugfs: the VM then has no
 * directory), or -ENOMEM.
 */
int mkvm_debugfs_vm_create(struct mkvm *vm, int fd)
{
	unsigned int i, n = mkvm_stat_count();
	struct mkvm_debugfs_vm *d;
	struct dentry *dent;
	char name[32];

	if (!mkvm_debugfs_root)
		return 0;
	d = kzalloc(struct_size(d, stats, n), GFP_KERNEL_ACCOUNT);
	if (!d)
		return -ENOMEM;

	snprintf(name, sizeof(name), "%d-%d", task_pid_nr(current), fd);
	/*
	 * A VM whose fd was closed lives on while its vCPU fds are open,
	 * and keeps its name: a new VM that got the same fd number from the
	 * same thread goes without a directory (kvm.ko does the same). Its
	 * statistics still count in the top-level files.
	 */
	dent = debugfs_lookup(name, mkvm_debugfs_root);
	if (dent) {
		dput(dent);
		pr_warn_ratelimited("debugfs: %s is taken by an older VM: this one has no directory\n",
				    name);
	} else {
		d->dir = debugfs_create_dir(name, mkvm_debugfs_root);
		for (i = 0; i < n; i++) {
			d->stats[i].vm = vm;
			d->stats[i].index = i;
			debugfs_create_file(mkvm_stat_name(i), 0444, d->dir,
					    &d->stats[i], &mkvm_debugfs_vm_fops);
		}
	}
	vm->debugfs = d;

	mutex_lock(&mkvm_debugfs_lock);
	list_add_tail(&vm->debugfs_node, &mkvm_debugfs_vms);
	mutex_unlock(&mkvm_debugfs_lock);
	return 0;
}

/**
 * mkvm_debugfs_vm_destroy() - take a VM off the list, remove its directory.
 * @vm: the VM, whose last reference is gone (mkvm_destroy_vm())
 *
 * First thing when a VM is destroyed: after this no file reads its vCPUs.
 * Safe on a VM that mkvm_debugfs_vm_create() never listed.
 */
void mkvm_debugfs_vm_destroy(struct mkvm *vm)
{
	mutex_lock(&mkvm_debugfs_lock);
	list_del_init(&vm->debugfs_node);
	mutex_unlock(&mkvm_debugfs_lock);

	if (!vm->debugfs)
		return;
	/* Waits for reads and opens in progress (none can hold the VM). */
	debugfs_remove_recursive(vm->debugfs->dir);
	kfree(vm->debugfs);
	vm->debugfs = NULL;
}

/* At module load, before /dev/kvm exists: the directory and its sums. */
void mkvm_debugfs_init(void)
{
	unsigned int i, n = mkvm_stat_count();
	struct dentry *root;

	if (!debugfs_initialized())
		return;
	mkvm_debugfs_all = kcalloc(n, sizeof(*mkvm_debugfs_all), GFP_KERNEL);
	if (!mkvm_debugfs_all)
		return;
	root = debugfs_create_dir("kvm", NULL);
	if (IS_ERR(root)) {
		pr_info("no debugfs directory kvm (error %ld; kvm.ko loaded?)\n",
			PTR_ERR(root));
		kfree(mkvm_debugfs_all);
		mkvm_debugfs_all = NULL;
		return;
	}
	for (i = 0; i < n; i++) {
		mkvm_debugfs_all[i].index = i;
		debugfs_create_file(mkvm_stat_name(i), 0444, root,
				    &mkvm_debugfs_all[i], &mkvm_debugfs_all_fops);
	}
	mkvm_debugfs_root = root;
}

/* At unload, after /dev/kvm is gone: no VM is left (each held the module). */
void mkvm_debugfs_exit(void)
{
	debugfs_remove_recursive(mkvm_debugfs_root);
	mkvm_debugfs_root = NULL;
	kfree(mkvm_debugfs_all);
	mkvm_debugfs_all = NULL;
}
