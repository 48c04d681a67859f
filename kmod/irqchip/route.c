// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: GSI routing, the ioctls that raise interrupts, and MSIs.
 *
 * A VMM names an interrupt by its GSI (global system interrupt) number.
 * The routing table says what a GSI is wired to: pins of the PICs and of
 * the IOAPIC (a legacy ISA IRQ goes to both: the guest listens to one of
 * them and masks the other), or an MSI, a message with an address and a
 * data word written to the local APICs (SDM Vol.3 10.11 "Message Signalled
 * Interrupts"). KVM_CREATE_IRQCHIP installs the PC's wiring; the VMM may
 * replace the whole table with KVM_SET_GSI_ROUTING.
 *
 * mkvm_set_irq() is called from anywhere: the KVM_IRQ_LINE ioctl, an
 * eventfd wake-up (irqfd), the PIT's hrtimer in hard IRQ context. So the
 * table is read under rcu_read_lock(), which is valid in every one of
 * those contexts, and is only ever replaced whole: built aside, published
 * with rcu_assign_pointer() under vm->lock, the old one freed after a
 * grace period (kfree_rcu()).
 *
 * The other direction: when the guest acknowledges (EOI) an interrupt of
 * a PIC or IOAPIC pin, the chip calls mkvm_notify_acked_irq() and this
 * file tells the ack notifiers registered for the GSI of that pin (an
 * irqfd resampler, the PIT's reinjection). Likewise when the guest masks
 * or unmasks a pin: mkvm_notify_irq_mask() tells the mask notifiers (the
 * PIT's reinjection starts over at an unmask).
 *
 * The errnos and status values are those KVM gives for the same input
 * (virt/kvm/irqchip.c, arch/x86/kvm/irq_comm.c, Documentation/virt/kvm/
 * api.rst 4.25 KVM_IRQ_LINE, 4.52 KVM_SET_GSI_ROUTING, 4.71 KVM_SIGNAL_MSI).
 */
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/uaccess.h>
#include <asm/apicdef.h>

#include "minikvm.h"

/* At most one route per chip, or one MSI: a GSI has at most this many. */
#define MKVM_ROUTES_PER_GSI	3

/* Writers of every VM's ack and mask notifier lists; readers use RCU. */
static DEFINE_SPINLOCK(mkvm_irq_ack_lock);

/* ------------------------------------------------------------------ */
/* The table                                                            */
/* ------------------------------------------------------------------ */

static int route_cmp(const void *a, const void *b)
{
	const struct mkvm_irq_route *x = a, *y = b;

	return x->gsi < y->gsi ? -1 : x->gsi > y->gsi;
}

/*
 * Check one entry as KVM does and turn it into a route: IRQCHIP to a pin
 * that exists (0-7 on a PIC, 0-23 on the IOAPIC; none with a split
 * irqchip, which has no PIC or IOAPIC in the kernel), or MSI whose only
 * flag may be KVM_MSI_VALID_DEVID (x86 ignores the device ID). KVM does
 * not look at the padding of an entry, so neither do we.
 */
static int route_from_user(struct mkvm *vm, struct mkvm_irq_route *r,
			   const struct kvm_irq_routing_entry *ue)
{
	r->gsi = ue->gsi;
	r->type = ue->type;
	switch (ue->type) {
	case KVM_IRQ_ROUTING_IRQCHIP:
		if (ue->flags || vm->irqchip_mode == MKVM_IRQCHIP_SPLIT)
			return -EINVAL;
		r->irqchip.chip = ue->u.irqchip.irqchip;
		r->irqchip.pin = ue->u.irqchip.pin;
		switch (r->irqchip.chip) {
		case KVM_IRQCHIP_PIC_MASTER:
		case KVM_IRQCHIP_PIC_SLAVE:
			return r->irqchip.pin < 8 ? 0 : -EINVAL;
		case KVM_IRQCHIP_IOAPIC:
			return r->irqchip.pin < MKVM_IOAPIC_PINS ? 0 : -EINVAL;
		}
		return -EINVAL;
	case KVM_IRQ_ROUTING_MSI:
		if (ue->flags & ~KVM_MSI_VALID_DEVID)
			return -EINVAL;
		r->msi = ue->u.msi;
		return 0;
	}
	return -EINVAL;
}

/*
 * A GSI may go to several chips, at most once to each, or to one MSI
 * and nothing else (KVM's rule). @routes[0..n) are the ones before.
 */
static bool route_conflicts(const struct mkvm_irq_route *routes, u32 n,
			    const struct mkvm_irq_route *r)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (routes[i].gsi != r->gsi)
			continue;
		if (routes[i].type != KVM_IRQ_ROUTING_IRQCHIP ||
		    r->type != KVM_IRQ_ROUTING_IRQCHIP ||
		    routes[i].irqchip.chip == r->irqchip.chip)
			return true;
	}
	return false;
}

/* Build a table from @ue[0..nr); NULL pointer in *@out on error. */
static int routing_build(struct mkvm *vm, const struct kvm_irq_routing_entry *ue,
			 u32 nr, struct mkvm_irq_routing **out)
{
	struct mkvm_irq_routing *rt;
	u32 i, nr_gsi = 0;
	int r;

	*out = NULL;
	for (i = 0; i < nr; i++) {
		if (ue[i].gsi >= MKVM_MAX_IRQ_ROUTES)
			return -EINVAL;
		nr_gsi = max(nr_gsi, ue[i].gsi + 1);
	}
	rt = kvzalloc(struct_size(rt, route, nr), GFP_KERNEL_ACCOUNT);
	if (!rt)
		return -ENOMEM;
	rt->nr_gsi = nr_gsi;
	rt->nr = nr;
	memset(rt->chip_gsi, 0xff, sizeof(rt->chip_gsi));	/* all -1 */
	for (i = 0; i < nr; i++) {
		struct mkvm_irq_route *e = &rt->route[i];

		r = route_from_user(vm, e, &ue[i]);
		if (!r && route_conflicts(rt->route, i, e))
			r = -EINVAL;
		if (r) {
			kvfree(rt);
			return r;
		}
		/* The GSI an EOI of this pin reports: the last one wins. */
		if (e->type == KVM_IRQ_ROUTING_IRQCHIP)
			rt->chip_gsi[e->irqchip.chip][e->irqchip.pin] = e->gsi;
	}
	sort(rt->route, nr, sizeof(rt->route[0]), route_cmp, NULL);
	*out = rt;
	return 0;
}

/* Publish @rt; vm->lock held. The old table goes after a grace period. */
static void routing_publish(struct mkvm *vm, struct mkvm_irq_routing *rt)
{
	struct mkvm_irq_routing *old;

	lockdep_assert_held(&vm->lock);
	old = rcu_dereference_protected(vm->irq_routing,
					lockdep_is_held(&vm->lock));
	rcu_assign_pointer(vm->irq_routing, rt);
	if (old)
		kvfree_rcu(old, rcu);
}

/**
 * mkvm_set_irq_routing() - KVM_SET_GSI_ROUTING, the entries copied in.
 *
 * Return: 0, -EINVAL for an entry KVM refuses (gsi >= 4096, unknown
 * type, flags, a pin out of range, a second route of a GSI to the same
 * chip or beside an MSI), -ENOMEM.
 */
int mkvm_set_irq_routing(struct mkvm *vm,
			 const struct kvm_irq_routing_entry *ue, u32 nr,
			 u32 flags)
{
	struct mkvm_irq_routing *rt;
	int r;

	if (flags || nr > MKVM_MAX_IRQ_ROUTES)
		return -EINVAL;
	mutex_lock(&vm->lock);
	r = -EINVAL;
	if (vm->irqchip_mode == MKVM_IRQCHIP_NONE)
		goto out;
	r = routing_build(vm, ue, nr, &rt);
	if (!r)
		routing_publish(vm, rt);
out:
	mutex_unlock(&vm->lock);
	return r;
}

/*
 * KVM_CREATE_IRQCHIP's wiring, KVM's: ISA IRQs 0-15 to the PIC pin of
 * the same number and to the IOAPIC pin of the same number, GSIs 16-23
 * to the IOAPIC only (the PCI interrupts). vm->lock held.
 */
int mkvm_setup_default_irq_routing(struct mkvm *vm)
{
	struct kvm_irq_routing_entry *ue;
	struct mkvm_irq_routing *rt;
	u32 gsi, n = 0;
	int r;

	ue = kcalloc(16 * 2 + 8, sizeof(*ue), GFP_KERNEL);
	if (!ue)
		return -ENOMEM;
	for (gsi = 0; gsi < MKVM_IOAPIC_PINS; gsi++) {
		if (gsi < 16) {
			ue[n].gsi = gsi;
			ue[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			ue[n].u.irqchip.irqchip = gsi < 8 ?
				KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			ue[n++].u.irqchip.pin = gsi & 7;
		}
		ue[n].gsi = gsi;
		ue[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		ue[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		ue[n++].u.irqchip.pin = gsi;
	}
	r = routing_build(vm, ue, n, &rt);
	if (!r)
		routing_publish(vm, rt);
	kfree(ue);
	return r;
}

/* VM teardown: no reader is left. */
void mkvm_free_irq_routing(struct mkvm *vm)
{
	kvfree(rcu_dereference_protected(vm->irq_routing, 1));
	RCU_INIT_POINTER(vm->irq_routing, NULL);
}

/* ------------------------------------------------------------------ */
/* Raising interrupts                                                   */
/* ------------------------------------------------------------------ */

/*
 * An MSI's address and data as the SDM lays them out (Vol.3 10.11.1,
 * Figure 10-24: address bits 19-12 destination ID, bit 3 redirection
 * hint, bit 2 destination mode; 10.11.2, Figure 10-25: data bits 7-0
 * vector, 10-8 delivery mode, 14 level, 15 trigger mode). Like KVM, we
 * do not insist on 0xfee in address bits 31-20, ignore address_hi (an
 * extended destination needs KVM_CAP_X2APIC_API) and treat every MSI as
 * an assert.
 */
#define MSI_ADDR_DEST_ID(a)	(((a) >> 12) & 0xff)
#define MSI_ADDR_DEST_LOGICAL	BIT(2)
#define MSI_DATA_VECTOR(d)	((d) & 0xff)
#define MSI_DATA_DELIVERY(d)	(((d) >> 8) & 7)
#define MSI_DATA_TRIG_LEVEL	BIT(15)

/**
 * mkvm_deliver_msi() - write the message @msi to the local APICs.
 *
 * Return: the LAPICs that took it, 0 if none did, -1 if it named none.
 */
int mkvm_deliver_msi(struct mkvm *vm, const struct kvm_irq_routing_msi *msi)
{
	struct mkvm_lapic_irq irq = {
		.vector = MSI_DATA_VECTOR(msi->data),
		.delivery_mode = MSI_DATA_DELIVERY(msi->data) << 8,
		.dest_logical = !!(msi->address_lo & MSI_ADDR_DEST_LOGICAL),
		.level = true,
		.trig_level = !!(msi->data & MSI_DATA_TRIG_LEVEL),
		.shorthand = APIC_DEST_NOSHORT,
		.dest_id = MSI_ADDR_DEST_ID(msi->address_lo),
	};

	return mkvm_irq_delivery_to_apic(vm, NULL, &irq);
}

/* One route: a chip pin follows @level; an MSI fires on a raise only. */
static int route_set(struct mkvm *vm, const struct mkvm_irq_route *r,
		     int src, int level)
{
	if (r->type == KVM_IRQ_ROUTING_MSI)
		return level ? mkvm_deliver_msi(vm, &r->msi) : -1;
	switch (r->irqchip.chip) {
	case KVM_IRQCHIP_PIC_MASTER:
		return mkvm_pic_set_irq(vm, r->irqchip.pin, src, level);
	case KVM_IRQCHIP_PIC_SLAVE:
		return mkvm_pic_set_irq(vm, 8 + r->irqchip.pin, src, level);
	default:
		return mkvm_ioapic_set_irq(vm, r->irqchip.pin, src, level);
	}
}

/* Copy the routes of @gsi (at most MKVM_ROUTES_PER_GSI). RCU held. */
static int routes_of(const struct mkvm_irq_routing *rt, u32 gsi,
		     struct mkvm_irq_route *out)
{
	u32 lo = 0, hi = rt->nr;
	int n = 0;

	if (gsi >= rt->nr_gsi)
		return 0;
	while (lo < hi) {		/* the first route with gsi >= @gsi */
		u32 mid = lo + (hi - lo) / 2;

		if (rt->route[mid].gsi < gsi)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < rt->nr && rt->route[lo].gsi == gsi &&
	       n < MKVM_ROUTES_PER_GSI; lo++)
		out[n++] = rt->route[lo];
	return n;
}

/**
 * mkvm_set_irq() - source @src sets GSI @gsi to @level, on every route.
 *
 * Any context. The routes are copied out under RCU and the chips called
 * after, so a chip may take its own lock with the table unpinned.
 * Return (KVM_IRQ_LINE_STATUS): the sum of what the routes that acted
 * report, >0 delivered, 0 coalesced; -1 if every route was masked or
 * there is none.
 */
int mkvm_set_irq(struct mkvm *vm, int src, u32 gsi, int level)
{
	struct mkvm_irq_route routes[MKVM_ROUTES_PER_GSI];
	struct mkvm_irq_routing *rt;
	int i, n = 0, r, ret = -1;

	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (rt)
		n = routes_of(rt, gsi, routes);
	rcu_read_unlock();

	for (i = 0; i < n; i++) {
		r = route_set(vm, &routes[i], src, level);
		if (r >= 0)
			ret = max(ret, 0) + r;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Ack notifiers                                                         */
/* ------------------------------------------------------------------ */

/*
 * Both kinds of notifier live on RCU lists: the chips walk them under
 * rcu_read_lock() at every EOI or mask change, and the rare writers
 * (the PIT, irqfd resamplers) take mkvm_irq_ack_lock.
 */
static void mkvm_notifier_add(struct hlist_head *list, struct hlist_node *node)
{
	spin_lock(&mkvm_irq_ack_lock);
	hlist_add_head_rcu(node, list);
	spin_unlock(&mkvm_irq_ack_lock);
}

/* Off the list; on return no walker still sees @node. Sleeps. */
static void mkvm_notifier_del(struct hlist_node *node)
{
	spin_lock(&mkvm_irq_ack_lock);
	hlist_del_init_rcu(node);
	spin_unlock(&mkvm_irq_ack_lock);
	synchronize_rcu();
}

/**
 * mkvm_register_irq_ack_notifier() - call @ian->irq_acked at every EOI
 * of an interrupt that came through GSI @ian->gsi. Process context.
 */
void mkvm_register_irq_ack_notifier(struct mkvm *vm,
				    struct mkvm_irq_ack_notifier *ian)
{
	mkvm_notifier_add(&vm->irq_ack_notifiers, &ian->link);
}

/**
 * mkvm_unregister_irq_ack_notifier() - stop calling @ian; when this
 * returns no call is running any more, so @ian may be freed. Sleeps.
 */
void mkvm_unregister_irq_ack_notifier(struct mkvm *vm,
				      struct mkvm_irq_ack_notifier *ian)
{
	mkvm_notifier_del(&ian->link);
}

/**
 * mkvm_notify_acked_irq() - the guest ended the interrupt of @pin of
 * @chip (the pin on that chip: 0-7 for a PIC, 0-23 for the IOAPIC).
 *
 * The PIC calls it for every pin whose ISR bit an EOI clears, edge or
 * level (the PIT's reinjection counts edges on IRQ0); the IOAPIC for the
 * pins of a level vector a LAPIC ended. Neither holds its lock here.
 */
void mkvm_notify_acked_irq(struct mkvm *vm, u32 chip, u32 pin)
{
	struct mkvm_irq_ack_notifier *ian;
	struct mkvm_irq_routing *rt;
	int gsi = -1;

	if (chip >= KVM_NR_IRQCHIPS || pin >= MKVM_IOAPIC_PINS)
		return;
	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (rt)
		gsi = rt->chip_gsi[chip][pin];
	if (gsi >= 0)
		hlist_for_each_entry_rcu(ian, &vm->irq_ack_notifiers, link)
			if (ian->gsi == gsi)
				ian->irq_acked(ian);
	rcu_read_unlock();
}

/* ------------------------------------------------------------------ */
/* Mask notifiers                                                        */
/* ------------------------------------------------------------------ */

/**
 * mkvm_register_irq_mask_notifier() - call @imn->mask_changed whenever
 * the guest masks or unmasks a chip pin that GSI @imn->gsi reaches.
 * Process context.
 */
void mkvm_register_irq_mask_notifier(struct mkvm *vm,
				     struct mkvm_irq_mask_notifier *imn)
{
	mkvm_notifier_add(&vm->irq_mask_notifiers, &imn->link);
}

/**
 * mkvm_unregister_irq_mask_notifier() - stop calling @imn; when this
 * returns no call is running any more. Sleeps.
 */
void mkvm_unregister_irq_mask_notifier(struct mkvm *vm,
				       struct mkvm_irq_mask_notifier *imn)
{
	mkvm_notifier_del(&imn->link);
}

/**
 * mkvm_notify_irq_mask() - the guest masked (@masked) or unmasked @pin
 * of @chip (0-7 for a PIC, 0-23 for the IOAPIC). The chip calls it with
 * its lock held, for each pin whose mask bit changed.
 */
void mkvm_notify_irq_mask(struct mkvm *vm, u32 chip, u32 pin, bool masked)
{
	struct mkvm_irq_mask_notifier *imn;
	struct mkvm_irq_routing *rt;
	int gsi = -1;

	if (chip >= KVM_NR_IRQCHIPS || pin >= MKVM_IOAPIC_PINS)
		return;
	rcu_read_lock();
	rt = rcu_dereference(vm->irq_routing);
	if (rt)
		gsi = rt->chip_gsi[chip][pin];
	if (gsi >= 0)
		hlist_for_each_entry_rcu(imn, &vm->irq_mask_notifiers, link)
			if (imn->gsi == gsi)
				imn->mask_changed(imn, masked);
	rcu_read_unlock();
}

/* ------------------------------------------------------------------ */
/* The ioctls                                                            */
/* ------------------------------------------------------------------ */

/*
 * KVM_IRQ_LINE(_STATUS): ENXIO without an in-kernel irqchip; any GSI is
 * accepted (one without a route reports -1). Only _STATUS writes the
 * result back, in the union's status field.
 */
static int mkvm_irq_line(struct mkvm *vm, void __user *argp, bool status)
{
	struct kvm_irq_level line;

	if (copy_from_user(&line, argp, sizeof(line)))
		return -EFAULT;
	if (READ_ONCE(vm->irqchip_mode) == MKVM_IRQCHIP_NONE)
		return -ENXIO;
	line.status = mkvm_set_irq(vm, MKVM_IRQ_SOURCE_USER, line.irq,
				   line.level);
	if (status && copy_to_user(argp, &line, sizeof(line)))
		return -EFAULT;
	return 0;
}

/*
 * KVM_SIGNAL_MSI: EINVAL without an irqchip or with a flag other than
 * KVM_MSI_VALID_DEVID. Otherwise the ioctl returns what the delivery
 * does, as in KVM: >0 delivered, 0 nobody accepted, and -1 when the
 * message names no LAPIC, which userspace sees as -1 with errno EPERM.
 */
static int mkvm_signal_msi(struct mkvm *vm, void __user *argp)
{
	struct kvm_msi msi;
	struct kvm_irq_routing_msi m;

	if (copy_from_user(&msi, argp, sizeof(msi)))
		return -EFAULT;
	if (READ_ONCE(vm->irqchip_mode) == MKVM_IRQCHIP_NONE ||
	    (msi.flags & ~KVM_MSI_VALID_DEVID))
		return -EINVAL;
	m = (struct kvm_irq_routing_msi){ .address_lo = msi.address_lo,
					  .address_hi = msi.address_hi,
					  .data = msi.data };
	return mkvm_deliver_msi(vm, &m);
}

/*
 * KVM_SET_GSI_ROUTING: the header first (EINVAL without an irqchip, for
 * nr > 4096, for flags), then the entries, checked as a whole.
 */
static int mkvm_set_gsi_routing(struct mkvm *vm, void __user *argp)
{
	struct kvm_irq_routing __user *urt = argp;
	struct kvm_irq_routing_entry *ue = NULL;
	struct kvm_irq_routing hdr;
	int r;

	if (copy_from_user(&hdr, urt, sizeof(hdr)))
		return -EFAULT;
	if (READ_ONCE(vm->irqchip_mode) == MKVM_IRQCHIP_NONE ||
	    hdr.nr > MKVM_MAX_IRQ_ROUTES || hdr.flags)
		return -EINVAL;
	if (hdr.nr) {
		ue = vmemdup_user(urt->entries,
				  array_size(sizeof(*ue), hdr.nr));
		if (IS_ERR(ue))
			return PTR_ERR(ue);
	}
	r = mkvm_set_irq_routing(vm, ue, hdr.nr, hdr.flags);
	kvfree(ue);
	return r;
}

long mkvm_irq_ioctl(struct mkvm *vm, unsigned int ioctl, void __user *argp)
{
	switch (ioctl) {
	case KVM_IRQ_LINE:
		return mkvm_irq_line(vm, argp, false);
	case KVM_IRQ_LINE_STATUS:
		return mkvm_irq_line(vm, argp, true);
	case KVM_SIGNAL_MSI:
		return mkvm_signal_msi(vm, argp);
	case KVM_SET_GSI_ROUTING:
		return mkvm_set_gsi_routing(vm, argp);
	}
	return -ENOTTY;
}
