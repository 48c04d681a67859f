// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the in-kernel I/O buses.
 *
 * When the guest touches a port or an MMIO address that is not RAM, the
 * exit handlers (emulate.c) ask the bus first: if an in-kernel device
 * (PIC, PIT, IOAPIC, an ioeventfd) registered that address, it answers and
 * the guest re-enters at once; only otherwise does the access go to
 * userspace as KVM_EXIT_IO or KVM_EXIT_MMIO.
 *
 * A bus is an array of ranges sorted by address, looked up with a binary
 * search under vm->srcu. Registration copies the array with one more
 * range and publishes the copy, the way memslots are changed (memslot.c):
 * a reader never waits, and the exit path never allocates.
 */
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "minikvm.h"

static struct mkvm_io_bus *mkvm_bus(struct mkvm *vm, enum mkvm_bus bus)
{
	return srcu_dereference_check(vm->buses[bus], &vm->srcu,
				      lockdep_is_held(&vm->lock));
}

static int mkvm_range_cmp(const void *a, const void *b)
{
	const struct mkvm_io_range *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->len - y->len;
}

/**
 * mkvm_io_bus_register() - answer [@addr, @addr + @len) with @dev.
 *
 * Return: 0, -ENOSPC when the bus is full, -ENOMEM.
 */
int mkvm_io_bus_register(struct mkvm *vm, enum mkvm_bus bus, u64 addr,
			 int len, struct mkvm_io_device *dev)
{
	struct mkvm_io_bus *old = mkvm_bus(vm, bus), *new;
	int nr = old ? old->nr : 0;

	lockdep_assert_held(&vm->lock);
	if (nr >= MKVM_IO_BUS_MAX_DEVS)
		return -ENOSPC;
	new = kmalloc(struct_size(new, range, nr + 1), GFP_KERNEL_ACCOUNT);
	if (!new)
		return -ENOMEM;
	if (old)
		memcpy(new->range, old->range, nr * sizeof(new->range[0]));
	new->range[nr] = (struct mkvm_io_range){ addr, len, dev };
	new->nr = nr + 1;
	sort(new->range, new->nr, sizeof(new->range[0]), mkvm_range_cmp, NULL);
	rcu_assign_pointer(vm->buses[bus], new);
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
	return 0;
}

/**
 * mkvm_io_bus_unregister() - forget every range of @dev.
 *
 * When this returns no vCPU is inside @dev's callbacks any more, so the
 * caller may free it. A failed allocation leaves the old array in place
 * with @dev's ranges pointing at nothing (len 0), never at freed memory.
 */
void mkvm_io_bus_unregister(struct mkvm *vm, enum mkvm_bus bus,
			    struct mkvm_io_device *dev)
{
	struct mkvm_io_bus *old = mkvm_bus(vm, bus), *new;
	int i, j;

	lockdep_assert_held(&vm->lock);
	if (!old)
		return;
	new = kmalloc(struct_size(new, range, old->nr), GFP_KERNEL_ACCOUNT);
	if (!new) {
		/* Make the old ranges unreachable in place, then wait. */
		for (i = 0; i < old->nr; i++)
			if (old->range[i].dev == dev)
				WRITE_ONCE(old->range[i].len, 0);
		synchronize_srcu_expedited(&vm->srcu);
		return;
	}
	for (i = 0, j = 0; i < old->nr; i++)
		if (old->range[i].dev != dev)
			new->range[j++] = old->range[i];
	new->nr = j;
	rcu_assign_pointer(vm->buses[bus], new);
	synchronize_srcu_expedited(&vm->srcu);
	kfree(old);
}

/* Index of the last range that starts at or below @addr, or -1. */
static int mkvm_io_bus_first(const struct mkvm_io_bus *b, u64 addr)
{
	int lo = 0, hi = b->nr - 1, first = -1;

	/* The last range that starts at or below @addr (binary search). */
	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (b->range[mid].addr <= addr) {
			first = mid;
			lo = mid + 1;
		} else {
			hi = mid - 1;
		}
	}
	return first;
}

/*
 * Offer the access to each device whose range covers it, the nearest
 * start first, until one takes it. The scan goes down through every
 * range below @addr, since a long range may start far below; a bus holds
 * a handful of ranges (PIC, PIT, IOAPIC and a few ioeventfds).
 */
static int mkvm_io_bus_access(struct mkvm_vcpu *vcpu, enum mkvm_bus bus,
			      u64 addr, int len, void *val, bool write)
{
	struct mkvm_io_bus *b = srcu_dereference(vcpu->vm->buses[bus],
						 &vcpu->vm->srcu);
	int i;

	if (!b)
		return -EOPNOTSUPP;
	for (i = mkvm_io_bus_first(b, addr); i >= 0; i--) {
		const struct mkvm_io_range *r = &b->range[i];
		struct mkvm_io_device *dev = r->dev;
		int rlen = READ_ONCE(r->len);

		if (addr < r->addr || addr + len > r->addr + rlen)
			continue;
		if (write && dev->ops->write &&
		    !dev->ops->write(vcpu, dev, addr, len, val))
			return 0;
		if (!write && dev->ops->read &&
		    !dev->ops->read(vcpu, dev, addr, len, val))
			return 0;
	}
	return -EOPNOTSUPP;
}

int mkvm_io_bus_read(struct mkvm_vcpu *vcpu, enum mkvm_bus bus, u64 addr,
		     int len, void *val)
{
	return mkvm_io_bus_access(vcpu, bus, addr, len, val, false);
}

int mkvm_io_bus_write(struct mkvm_vcpu *vcpu, enum mkvm_bus bus, u64 addr,
		      int len, const void *val)
{
	return mkvm_io_bus_access(vcpu, bus, addr, len, (void *)val, true);
}

/* VM teardown: the devices are gone, no vCPU runs. */
void mkvm_io_bus_free_all(struct mkvm *vm)
{
	int i;

	for (i = 0; i < MKVM_NR_BUSES; i++)
		kfree(rcu_dereference_protected(vm->buses[i], 1));
}
