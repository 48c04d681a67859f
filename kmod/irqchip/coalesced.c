// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: coalesced MMIO and PIO, writes that wait in a ring.
 *
 * Some device registers are written often and read seldom: a VGA frame
 * buffer, the RTC's index port 0x70 before each CMOS read. An exit to the
 * VMM per write is expensive, and the VMM only needs the writes in order
 * before it next looks at the device. So the VMM names such a zone
 * (KVM_REGISTER_COALESCED_MMIO, with pio = 1 for ports), and a guest
 * write there becomes an entry in a ring shared with the VMM; the guest
 * goes on at once. The VMM empties the ring after every exit of KVM_RUN,
 * before it handles the exit, so the device sees the writes in the order
 * the guest made them. Reads are never coalesced: they exit as usual.
 *
 * The ring is one page per VM, mapped by every vCPU fd at page
 * KVM_COALESCED_MMIO_PAGE_OFFSET (KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO)
 * says which page; KVM_GET_VCPU_MMAP_SIZE covers it):
 *
 *   first   the next entry the VMM will read (the VMM moves it)
 *   last    the next free entry (the kernel moves it)
 *
 * One entry always stays free, so first == last means empty. When the ring
 * is full the write simply exits as KVM_EXIT_MMIO or KVM_EXIT_IO, which
 * makes the VMM empty the ring. Both indexes live in memory the VMM can
 * write at any time, so each is read once and checked before use.
 *
 * A zone is a device on the VM's MMIO or PIO bus (iobus.c): the exit
 * handlers offer every write to the bus before they exit, so this file
 * needs no hook of its own in the run loop.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "minikvm.h"

struct mkvm_coalesced_zone {
	struct list_head link;		/* in vm->coalesced_zones */
	struct mkvm_io_device dev;
	struct kvm_coalesced_mmio_zone zone;
};

/* Is [@addr, @addr + @len) inside @z? (The bus checked it for the range.) */
static bool mkvm_zone_covers(const struct kvm_coalesced_mmio_zone *z,
			     u64 addr, u64 len)
{
	return addr + len >= addr && addr >= z->addr &&
	       addr + len <= z->addr + z->size;
}

/* Called from an exit handler under vm->srcu: a spinlock, no allocation. */
static int mkvm_coalesced_write(struct mkvm_vcpu *vcpu,
				struct mkvm_io_device *dev, u64 addr, int len,
				const void *val)
{
	struct mkvm_coalesced_zone *cz = container_of(dev,
					struct mkvm_coalesced_zone, dev);
	struct mkvm *vm = vcpu->vm;
	struct kvm_coalesced_mmio_ring *ring = vm->coalesced_ring;
	struct kvm_coalesced_mmio *e;
	u32 first, last;

	if (len <= 0 || len > sizeof(e->data) ||
	    !mkvm_zone_covers(&cz->zone, addr, len))
		return -EOPNOTSUPP;

	spin_lock(&vm->coalesced_lock);
	first = READ_ONCE(ring->first);
	last = READ_ONCE(ring->last);
	/* Full (or indexes the VMM broke): exit, the VMM drains the ring. */
	if (first >= KVM_COALESCED_MMIO_MAX || last >= KVM_COALESCED_MMIO_MAX ||
	    (last + 1) % KVM_COALESCED_MMIO_MAX == first) {
		spin_unlock(&vm->coalesced_lock);
		return -EOPNOTSUPP;
	}
	e = &ring->coalesced_mmio[last];
	e->phys_addr = addr;
	e->len = len;
	e->pio = cz->zone.pio;
	memcpy(e->data, val, len);
	/* The entry must be complete before the VMM can see it. */
	smp_wmb();
	WRITE_ONCE(ring->last, (last + 1) % KVM_COALESCED_MMIO_MAX);
	spin_unlock(&vm->coalesced_lock);
	return 0;
}

/* Reads have no .read: they go on to the VMM. */
static const struct mkvm_io_device_ops mkvm_coalesced_ops = {
	.write = mkvm_coalesced_write,
};

/* VM creation: the ring page, zeroed (first = last = 0, empty). */
int mkvm_coalesced_init(struct mkvm *vm)
{
	vm->coalesced_ring = (void *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->coalesced_ring)
		return -ENOMEM;
	spin_lock_init(&vm->coalesced_lock);
	INIT_LIST_HEAD(&vm->coalesced_zones);
	return 0;
}

/* VM teardown, after the buses are gone: the zones and the ring. */
void mkvm_coalesced_free(struct mkvm *vm)
{
	struct mkvm_coalesced_zone *cz, *tmp;

	list_for_each_entry_safe(cz, tmp, &vm->coalesced_zones, link)
		kfree(cz);
	free_page((unsigned long)vm->coalesced_ring);
}

/* The ring page, for the vCPU fd's mmap (vcpu.c). */
struct page *mkvm_coalesced_page(struct mkvm *vm)
{
	return virt_to_page(vm->coalesced_ring);
}

static int mkvm_zone_check(const struct kvm_coalesced_mmio_zone *z)
{
	if (z->pio > 1)
		return -EINVAL;
	/*
	 * The bus keeps a range's length in an int, as KVM's does; KVM takes
	 * a zone of 2 GiB or more and then never matches it. minikvm says
	 * so at once. A zone may not wrap around the address space either.
	 */
	if (z->size > INT_MAX || z->addr + z->size < z->addr)
		return -EINVAL;
	return 0;
}

/* KVM_REGISTER_COALESCED_MMIO. */
static int mkvm_coalesced_register(struct mkvm *vm,
				   const struct kvm_coalesced_mmio_zone *z)
{
	struct mkvm_coalesced_zone *cz;
	int r = mkvm_zone_check(z);

	if (r)
		return r;
	cz = kzalloc(sizeof(*cz), GFP_KERNEL_ACCOUNT);
	if (!cz)
		return -ENOMEM;
	cz->dev.ops = &mkvm_coalesced_ops;
	cz->zone = *z;

	mutex_lock(&vm->lock);
	r = mkvm_io_bus_register(vm, z->pio ? MKVM_PIO_BUS : MKVM_MMIO_BUS,
				 z->addr, z->size, &cz->dev);
	if (!r)
		list_add_tail(&cz->link, &vm->coalesced_zones);
	mutex_unlock(&vm->lock);
	if (r)
		kfree(cz);
	return r;
}

/*
 * KVM_UNREGISTER_COALESCED_MMIO: every zone of the same kind that contains
 * [addr, addr + size) goes; a VMM passes the zone it registered. Finding
 * none is not an error, as in KVM.
 */
static int mkvm_coalesced_unregister(struct mkvm *vm,
				     const struct kvm_coalesced_mmio_zone *z)
{
	struct mkvm_coalesced_zone *cz, *tmp;
	int r = mkvm_zone_check(z);

	if (r)
		return r;
	mutex_lock(&vm->lock);
	list_for_each_entry_safe(cz, tmp, &vm->coalesced_zones, link) {
		if (cz->zone.pio != z->pio ||
		    !mkvm_zone_covers(&cz->zone, z->addr, z->size))
			continue;
		/* Returns once no vCPU is inside mkvm_coalesced_write(). */
		mkvm_io_bus_unregister(vm, z->pio ? MKVM_PIO_BUS : MKVM_MMIO_BUS,
				       &cz->dev);
		list_del(&cz->link);
		kfree(cz);
	}
	mutex_unlock(&vm->lock);
	return 0;
}

long mkvm_coalesced_ioctl(struct mkvm *vm, unsigned int ioctl,
			  void __user *argp)
{
	struct kvm_coalesced_mmio_zone z;

	if (copy_from_user(&z, argp, sizeof(z)))
		return -EFAULT;
	if (ioctl == KVM_REGISTER_COALESCED_MMIO)
		return mkvm_coalesced_register(vm, &z);
	return mkvm_coalesced_unregister(vm, &z);
}
