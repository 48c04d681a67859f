// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the binary statistics file (KVM_GET_STATS_FD).
 *
 * Documentation/virt/kvm/api.rst, section "KVM_GET_STATS_FD", defines it:
 * an ioctl on a VM fd or a vCPU fd returns a new, read-only fd whose
 * contents are four blocks, each at a multiple of 8 bytes:
 *
 *   offset 0             struct kvm_stats_header (24 bytes)
 *   header.id_offset     the id string, name_size bytes ("kvm-PID", or
 *                        "kvm-PID/vcpu-ID" for a vCPU)
 *   header.desc_offset   num_desc descriptors, each a struct kvm_stats_desc
 *                        followed by a name of name_size bytes
 *   header.data_offset   the values, one u64 per descriptor here (size 1)
 *
 * A client reads the first three blocks once and then pread()s the data
 * block whenever it wants fresh numbers. Only the data block changes.
 *
 * Here the blocks are laid out back to back, as kvm.ko does, and the data
 * block is a copy of struct mkvm_exit_stats (vCPU) or struct mkvm_vm_stats
 * (VM): a descriptor's offset is its field's offset in that struct. The
 * names are kvm.ko's where the meaning is the same (exits, io_exits, ...),
 * and minikvm's own where kvm.ko has no such counter (cpuid_exits, ...).
 *
 * The fd holds a reference on the VM (and so on all its vCPUs, which live
 * as long as the VM): it stays readable after the VM and vCPU fds close.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/anon_inodes.h>
#include <linux/build_bug.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

/* Bytes of the id string and of each name, NUL included (kvm.ko's size). */
#define MKVM_STATS_NAME_SIZE	48

/*
 * One descriptor as it appears in the file: the fields of struct
 * kvm_stats_desc, then the name. Spelled out rather than embedding the
 * uapi struct, whose name[] is a flexible array for userspace but, in
 * newer kernels' headers (6.12 here), a 48-byte array inside the kernel:
 * embedding it gave 112-byte descriptors there, where clients step by
 * 16 + name_size.
 */
struct mkvm_stats_desc {
	u32 flags;
	s16 exponent;
	u16 size;
	u32 offset;
	u32 bucket_size;
	char name[MKVM_STATS_NAME_SIZE];
};
static_assert(offsetof(struct mkvm_stats_desc, flags) ==
	      offsetof(struct kvm_stats_desc, flags));
static_assert(offsetof(struct mkvm_stats_desc, exponent) ==
	      offsetof(struct kvm_stats_desc, exponent));
static_assert(offsetof(struct mkvm_stats_desc, size) ==
	      offsetof(struct kvm_stats_desc, size));
static_assert(offsetof(struct mkvm_stats_desc, offset) ==
	      offsetof(struct kvm_stats_desc, offset));
static_assert(offsetof(struct mkvm_stats_desc, bucket_size) ==
	      offsetof(struct kvm_stats_desc, bucket_size));
static_assert(offsetof(struct mkvm_stats_desc, name) ==
	      offsetof(struct kvm_stats_desc, name));
static_assert(sizeof(struct mkvm_stats_desc) == 16 + MKVM_STATS_NAME_SIZE);

/* Counters only go up; instant values go up and down (api.rst, flags). */
#define MKVM_STAT(stype, type, field, stat_name) {			\
	.flags = (type) | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10,	\
	.size = 1,							\
	.offset = offsetof(stype, field),				\
	.name = stat_name,						\
}
#define VCPU_COUNTER(field, name) \
	MKVM_STAT(struct mkvm_exit_stats, KVM_STATS_TYPE_CUMULATIVE, field, name)
#define VM_COUNTER(field, name) \
	MKVM_STAT(struct mkvm_vm_stats, KVM_STATS_TYPE_CUMULATIVE, field, name)
#define VM_INSTANT(field, name) \
	MKVM_STAT(struct mkvm_vm_stats, KVM_STATS_TYPE_INSTANT, field, name)

/*
 * The vCPU's counters. kvm.ko's names mean what they mean there:
 * exits        every exit from the guest (in-kernel ones too)
 * io_exits     every IN/OUT/INS/OUTS exit
 * mmio_exits   every MMIO access handed to userspace (KVM_EXIT_MMIO)
 * halt_exits   every HLT
 * signal_exits KVM_RUN returned KVM_EXIT_INTR for a pending signal
 * irq_window_exits  exits because the guest became able to take an IRQ
 * request_irq_exits KVM_RUN returned KVM_EXIT_IRQ_WINDOW_OPEN
 * irq_injections    an interrupt went into the guest (KVM_INTERRUPT's, or
 *                   the in-kernel LAPIC's/PIC's)
 * halt_wakeup       a vCPU halted in the kernel (in-kernel irqchip) woke up
 * pause_exits       the guest spun on PAUSE; the vCPU thread yielded
 * minikvm's own: CPUID and RDMSR/WRMSR exits (kvm.ko counts neither) and
 * NPT/EPT faults that mapped guest RAM (kvm.ko's pf_* split these up).
 */
static const struct mkvm_stats_desc mkvm_vcpu_stats_desc[] = {
	VCPU_COUNTER(exits, "exits"),
	VCPU_COUNTER(io_exits, "io_exits"),
	VCPU_COUNTER(mmio_exits, "mmio_exits"),
	VCPU_COUNTER(hlt_exits, "halt_exits"),
	VCPU_COUNTER(cpuid_exits, "cpuid_exits"),
	VCPU_COUNTER(msr_exits, "msr_exits"),
	VCPU_COUNTER(tdp_faults, "tdp_faults"),
	VCPU_COUNTER(signal_exits, "signal_exits"),
	VCPU_COUNTER(irq_window_exits, "irq_window_exits"),
	VCPU_COUNTER(request_irq_exits, "request_irq_exits"),
	VCPU_COUNTER(irq_injections, "irq_injections"),
	VCPU_COUNTER(halt_wakeups, "halt_wakeup"),
	VCPU_COUNTER(pause_exits, "pause_exits"),
};

/*
 * The VM's: remote_tlb_flush counts the times every vCPU was made to flush
 * its guest-physical TLB (memslot changes, KVM_GET_DIRTY_LOG); pages_4k is
 * how many 4 KiB leaves the NPT/EPT table holds now (minikvm maps nothing
 * larger).
 */
static const struct mkvm_stats_desc mkvm_vm_stats_desc[] = {
	VM_COUNTER(remote_tlb_flush, "remote_tlb_flush"),
	VM_INSTANT(pages_4k, "pages_4k"),
};

/* Every field described, once: the data block is the whole struct. */
static_assert(ARRAY_SIZE(mkvm_vcpu_stats_desc) * sizeof(u64) ==
	      sizeof(struct mkvm_exit_stats));
static_assert(ARRAY_SIZE(mkvm_vm_stats_desc) * sizeof(u64) ==
	      sizeof(struct mkvm_vm_stats));

#define MKVM_STATS_MAX_U64	(sizeof(struct mkvm_exit_stats) / sizeof(u64))
static_assert(sizeof(struct mkvm_vm_stats) <= sizeof(struct mkvm_exit_stats));

/*
 * The header and the id string, which follows it at once: both are made
 * when the fd is (kzalloc: the unused tail of the id reads as zeros).
 */
struct mkvm_stats_head {
	struct kvm_stats_header header;
	char id[MKVM_STATS_NAME_SIZE];
};
static_assert(sizeof(struct mkvm_stats_head) % 8 == 0);

struct mkvm_stats_file {
	struct mkvm *vm;		/* holds a reference */
	const u64 *values;		/* &vcpu->stat or &vm->stat */
	const struct mkvm_stats_desc *desc;
	struct mkvm_stats_head head;
};

/* One block of the file: @len bytes at file offset @off, found at @src. */
struct mkvm_stats_block {
	const void *src;
	size_t off, len;
};

/*
 * read() and pread(): any offset, any length. The file is the blocks
 * back to back; a read past the end returns 0 and one that runs over it
 * is cut short. Every byte comes from the head (zeroed when made), the
 * static descriptors or the snapshot of the counters below.
 */
static ssize_t mkvm_stats_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct mkvm_stats_file *sf = file->private_data;
	const struct kvm_stats_header *h = &sf->head.header;
	size_t nr = h->num_desc, total, i;
	u64 data[MKVM_STATS_MAX_U64];
	struct mkvm_stats_block blocks[] = {
		{ &sf->head, 0, sizeof(sf->head) },
		{ sf->desc, h->desc_offset, nr * sizeof(*sf->desc) },
		{ data, h->data_offset, nr * sizeof(u64) },
	};
	loff_t pos = *ppos;

	total = h->data_offset + nr * sizeof(u64);
	if (pos < 0)
		return -EINVAL;
	if (pos >= total)
		return 0;
	len = min_t(size_t, len, total - pos);

	/*
	 * The vCPU thread updates its counters without a lock; an aligned
	 * u64 load is never torn on x86-64, and READ_ONCE takes each once.
	 */
	for (i = 0; i < nr; i++)
		data[i] = READ_ONCE(sf->values[i]);

	for (i = 0; i < ARRAY_SIZE(blocks); i++) {
		const struct mkvm_stats_block *b = &blocks[i];
		size_t start = max_t(size_t, pos, b->off);
		size_t end = min_t(size_t, pos + len, b->off + b->len);

		if (start >= end)
			continue;
		if (copy_to_user(ubuf + (start - pos),
				 (const char *)b->src + (start - b->off),
				 end - start))
			return -EFAULT;
	}
	*ppos = pos + len;
	return len;
}

/* lseek works too (SEEK_END is the end of the data block). */
static loff_t mkvm_stats_llseek(struct file *file, loff_t offset, int whence)
{
	struct mkvm_stats_file *sf = file->private_data;
	const struct kvm_stats_header *h = &sf->head.header;

	return fixed_size_llseek(file, offset, whence,
				 h->data_offset + h->num_desc * sizeof(u64));
}

static int mkvm_stats_release(struct inode *inode, struct file *file)
{
	struct mkvm_stats_file *sf = file->private_data;

	mkvm_put_vm(sf->vm);
	kfree(sf);
	return 0;
}

/* No .write: the fd is opened O_RDONLY, so write() fails with EBADF. */
static const struct file_operations mkvm_stats_fops = {
	.owner		= THIS_MODULE,
	.read		= mkvm_stats_read,
	.llseek		= mkvm_stats_llseek,
	.release	= mkvm_stats_release,
};

/**
 * mkvm_get_stats_fd() - KVM_GET_STATS_FD (api.rst 4.133).
 * @vm: the VM whose fd, or whose vCPU's fd, the ioctl came on
 * @vcpu: the vCPU, or NULL for the VM's own statistics
 *
 * Return: the new fd (O_RDONLY, close-on-exec), or -ENOMEM, -EMFILE.
 */
int mkvm_get_stats_fd(struct mkvm *vm, struct mkvm_vcpu *vcpu)
{
	struct kvm_stats_header *h;
	struct mkvm_stats_file *sf;
	struct file *file;
	char name[32];
	int fd;

	sf = kzalloc(sizeof(*sf), GFP_KERNEL_ACCOUNT);
	if (!sf)
		return -ENOMEM;
	sf->vm = vm;
	h = &sf->head.header;
	h->name_size = MKVM_STATS_NAME_SIZE;
	h->id_offset = offsetof(struct mkvm_stats_head, id);
	h->desc_offset = sizeof(struct mkvm_stats_head);
	if (vcpu) {
		sf->values = (const u64 *)&vcpu->stat;
		sf->desc = mkvm_vcpu_stats_desc;
		h->num_desc = ARRAY_SIZE(mkvm_vcpu_stats_desc);
		/* The ioctl comes from the VM's own process (mm check). */
		snprintf(sf->head.id, sizeof(sf->head.id), "kvm-%d/vcpu-%d",
			 task_tgid_nr(current), vcpu->id);
		snprintf(name, sizeof(name), "kvm-vcpu-stats:%d", vcpu->id);
	} else {
		sf->values = (const u64 *)&vm->stat;
		sf->desc = mkvm_vm_stats_desc;
		h->num_desc = ARRAY_SIZE(mkvm_vm_stats_desc);
		snprintf(sf->head.id, sizeof(sf->head.id), "kvm-%d",
			 task_tgid_nr(current));
		strscpy(name, "kvm-vm-stats", sizeof(name));
	}
	h->data_offset = h->desc_offset +
			 h->num_desc * sizeof(struct mkvm_stats_desc);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0)
		goto err_free;
	file = anon_inode_getfile(name, &mkvm_stats_fops, sf, O_RDONLY);
	if (IS_ERR(file)) {
		put_unused_fd(fd);
		fd = PTR_ERR(file);
		goto err_free;
	}
	/*
	 * An anonymous inode's file does not allow pread() by itself, and
	 * pread() is how clients read the data block again and again.
	 */
	file->f_mode |= FMODE_PREAD;
	/* The caller's fd holds a reference, so the count is not 0 here. */
	refcount_inc(&vm->users);
	fd_install(fd, file);
	return fd;

err_free:
	kfree(sf);
	return fd;
}

/*
 * The statistics by number, for kmod/debugfs.c: first the VM's (in the
 * order of mkvm_vm_stats_desc), then the vCPUs' (mkvm_vcpu_stats_desc),
 * as kvm.ko lists them in /sys/kernel/debug/kvm.
 */
unsigned int mkvm_stat_count(void)
{
	return ARRAY_SIZE(mkvm_vm_stats_desc) + ARRAY_SIZE(mkvm_vcpu_stats_desc);
}

const char *mkvm_stat_name(unsigned int i)
{
	if (i < ARRAY_SIZE(mkvm_vm_stats_desc))
		return mkvm_vm_stats_desc[i].name;
	i -= ARRAY_SIZE(mkvm_vm_stats_desc);
	if (WARN_ON_ONCE(i >= ARRAY_SIZE(mkvm_vcpu_stats_desc)))
		return "?";
	return mkvm_vcpu_stats_desc[i].name;
}

/**
 * mkvm_stat_value() - one statistic of one VM, as debugfs shows it.
 * @vm: the VM; the caller keeps it alive (a reference, or the debugfs
 *      list it is on)
 * @i: the statistic, below mkvm_stat_count()
 *
 * A VM statistic is its value; a vCPU statistic is the sum over the VM's
 * vCPUs (kvm.ko's debugfs files do the same).
 *
 * Return: the value, 0 for an @i out of range.
 */
u64 mkvm_stat_value(struct mkvm *vm, unsigned int i)
{
	const struct mkvm_stats_desc *d;
	int n, v;
	u64 sum = 0;

	if (i < ARRAY_SIZE(mkvm_vm_stats_desc)) {
		d = &mkvm_vm_stats_desc[i];
		return READ_ONCE(*(const u64 *)((const char *)&vm->stat + d->offset));
	}
	i -= ARRAY_SIZE(mkvm_vm_stats_desc);
	if (WARN_ON_ONCE(i >= ARRAY_SIZE(mkvm_vcpu_stats_desc)))
		return 0;
	d = &mkvm_vcpu_stats_desc[i];

	n = READ_ONCE(vm->nr_vcpus);
	/* Pairs with mkvm_create_vcpu()'s smp_wmb(): pointer, then count. */
	smp_rmb();
	for (v = 0; v < n; v++) {
		const struct mkvm_vcpu *vcpu = vm->vcpus[v];

		/* Unlocked, as in mkvm_stats_read(): aligned u64 loads. */
		sum += READ_ONCE(*(const u64 *)((const char *)&vcpu->stat + d->offset));
	}
	return sum;
}
