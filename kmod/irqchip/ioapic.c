// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the I/O APIC, the interrupt router of a PC with local APICs.
 *
 * Each of its 24 input pins has a 64-bit redirection entry that says
 * what a signal on the pin becomes: a message on the APIC bus with a
 * vector, a delivery mode and a destination, delivered to the local
 * APICs it names (mkvm_irq_delivery_to_apic(), lapic.c). The guest
 * reaches the registers indirectly through a page at 0xfec00000: it
 * writes a register number to IOREGSEL (offset 0x00) and reads or writes
 * the register through IOWIN (offset 0x10).
 *
 * Edge-triggered pins send one message per rising edge. Level-triggered
 * pins send one and set Remote IRR; no other message goes out for the
 * pin until the local APIC tells us the guest wrote EOI for that vector
 * (mkvm_ioapic_eoi()): then Remote IRR clears, and if the line is still
 * high, the message goes out again.
 *
 * Intel 82093AA I/O APIC datasheet (order no. 290566): 3.0 "Register
 * Description" (3.1 IOREGSEL/IOWIN, 3.2.1 IOAPICID, 3.2.2 IOAPICVER,
 * 3.2.3 IOAPICARB, 3.2.4 IOREDTBL). As in KVM the version is 0x11 (no
 * EOI register at offset 0x40: that came with version 0x20).
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/slab.h>
#include <linux/workqueue.h>
#include <asm/apicdef.h>

#include "minikvm.h"

#define IOAPIC_MMIO_LEN		0x100
/* Direct registers: offsets in the page (datasheet 3.1). */
#define IOAPIC_IOREGSEL		0x00
#define IOAPIC_IOWIN		0x10
/* Indirect registers: numbers written to IOREGSEL (datasheet 3.2). */
#define IOAPIC_REG_ID		0x00
#define IOAPIC_REG_VER		0x01
#define IOAPIC_REG_ARB		0x02
#define IOAPIC_REG_REDTBL	0x10	/* pin n: 0x10 + 2n (low), + 1 (high) */
#define IOAPIC_VERSION		0x11	/* KVM's */

/*
 * The storm guard: a level line the guest never quiets comes back at
 * every EOI. After this many re-deliveries in a row of one pin, the next
 * waits a few milliseconds in a work item (as KVM does), so a broken
 * guest still makes progress and the host is never held in a loop.
 */
#define IOAPIC_STORM_EOIS	10000
#define IOAPIC_STORM_DELAY	(HZ / 100)

/* One redirection entry, as the ABI (struct kvm_ioapic_state) lays it out. */
typedef typeof(((struct kvm_ioapic_state *)0)->redirtbl[0]) mkvm_ioapic_rte;

struct mkvm_ioapic {
	spinlock_t lock;
	struct mkvm *vm;
	struct mkvm_io_device dev;
	/* base_address, ioregsel, id, irr, redirtbl: KVM_GET/SET_IRQCHIP. */
	struct kvm_ioapic_state regs;
	/* Edge pins already delivered for their current high level. */
	u32 irr_delivered;
	unsigned long sources[MKVM_IOAPIC_PINS];	/* MKVM_IRQ_SOURCE_* */
	u32 eoi_redeliveries[MKVM_IOAPIC_PINS];		/* the storm guard */
	struct delayed_work storm_work;
	/*
	 * The vectors some entry carries, so that a LAPIC can tell without
	 * a lock whether an EOI concerns us (mkvm_ioapic_routes_vector()).
	 */
	DECLARE_BITMAP(vectors, 256);
};

/* Recompute ioapic->vectors after an entry changed; lock held. */
static void ioapic_update_vectors(struct mkvm_ioapic *ioapic)
{
	DECLARE_BITMAP(v, 256);
	int pin, i;

	bitmap_zero(v, 256);
	for (pin = 0; pin < MKVM_IOAPIC_PINS; pin++)
		__set_bit(ioapic->regs.redirtbl[pin].fields.vector, v);
	for (i = 0; i < BITS_TO_LONGS(256); i++)
		WRITE_ONCE(ioapic->vectors[i], v[i]);
}

/**
 * mkvm_ioapic_routes_vector() - does an IOAPIC entry carry @vector?
 *
 * The LAPIC asks on every EOI: the IOAPIC must hear the EOI of a level
 * interrupt, and its ack notifiers (the PIT's reinjection) also that of
 * an edge one, as on KVM. Any context, no lock.
 */
bool mkvm_ioapic_routes_vector(struct mkvm *vm, int vector)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;

	return ioapic && test_bit(vector, ioapic->vectors);
}

static_assert(sizeof(mkvm_ioapic_rte) == 8);

/* ------------------------------------------------------------------ */
/* Delivery                                                             */
/* ------------------------------------------------------------------ */

/*
 * Send the message of pin @pin, if its entry lets it go: not masked,
 * and for a level pin not still waiting for an EOI (Remote IRR). The
 * entry becomes a struct mkvm_lapic_irq: its 3-bit delivery mode is the
 * APIC_DM_* value shifted down by 8 (datasheet 3.2.4, SDM Vol.3 10.6.1).
 * Return: LAPICs that accepted it, 0 if none, -1 if it did not go.
 */
static int ioapic_deliver(struct mkvm_ioapic *ioapic, int pin)
{
	mkvm_ioapic_rte *e = &ioapic->regs.redirtbl[pin];
	struct mkvm_lapic_irq irq = {
		.vector = e->fields.vector,
		.delivery_mode = e->fields.delivery_mode << 8,
		.dest_logical = e->fields.dest_mode,
		.level = true,
		.trig_level = e->fields.trig_mode,
		.shorthand = APIC_DEST_NOSHORT,
		.dest_id = e->fields.dest_id,
	};
	int ret;

	if (e->fields.mask || (e->fields.trig_mode && e->fields.remote_irr))
		return -1;
	if (!e->fields.trig_mode)
		ioapic->irr_delivered |= BIT(pin);
	ret = mkvm_irq_delivery_to_apic(ioapic->vm, NULL, &irq);
	if (ret && e->fields.trig_mode)
		e->fields.remote_irr = 1;
	return ret;
}

/*
 * The pin's line is now @level. IRR follows the line; a rising edge, or
 * a high level, sends the message. Return as mkvm_ioapic_set_irq(): an
 * edge pin already high (its edge delivered or waiting behind a mask)
 * gives 0, coalesced.
 */
static int ioapic_set_line(struct mkvm_ioapic *ioapic, int pin, bool level)
{
	mkvm_ioapic_rte *e = &ioapic->regs.redirtbl[pin];
	u32 old_irr = ioapic->regs.irr;

	if (!level) {
		ioapic->regs.irr &= ~BIT(pin);
		return 1;
	}
	ioapic->regs.irr |= BIT(pin);
	if (!e->fields.trig_mode) {
		ioapic->irr_delivered &= ~BIT(pin);
		if (old_irr == ioapic->regs.irr)
			return 0;
	}
	return ioapic_deliver(ioapic, pin);
}

/**
 * mkvm_ioapic_set_irq() - source @src drives pin @pin to @level.
 *
 * Return: LAPICs reached (>0), 0 coalesced or nobody took it, -1 masked
 * or waiting for EOI; lowering a line returns 1. KVM's values.
 */
int mkvm_ioapic_set_irq(struct mkvm *vm, int pin, int src, int level)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;
	unsigned long flags;
	int ret;

	if (!ioapic || pin < 0 || pin >= MKVM_IOAPIC_PINS)
		return -1;
	spin_lock_irqsave(&ioapic->lock, flags);
	if (level)
		__set_bit(src, &ioapic->sources[pin]);
	else
		__clear_bit(src, &ioapic->sources[pin]);
	ret = ioapic_set_line(ioapic, pin, ioapic->sources[pin] != 0);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return ret;
}

/*
 * The storm guard's delayed re-delivery: every level pin still high and
 * no longer waiting for an EOI sends its message again.
 */
static void ioapic_storm_work(struct work_struct *work)
{
	struct mkvm_ioapic *ioapic = container_of(to_delayed_work(work),
						  struct mkvm_ioapic,
						  storm_work);
	unsigned long flags;
	int pin;

	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < MKVM_IOAPIC_PINS; pin++) {
		mkvm_ioapic_rte *e = &ioapic->regs.redirtbl[pin];

		if (e->fields.trig_mode && !e->fields.remote_irr &&
		    (ioapic->regs.irr & BIT(pin)))
			ioapic_deliver(ioapic, pin);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/* EOI of a level pin: Remote IRR clears; a line still high goes again. */
static void ioapic_eoi_pin(struct mkvm_ioapic *ioapic, int pin)
{
	mkvm_ioapic_rte *e = &ioapic->regs.redirtbl[pin];

	if (!e->fields.trig_mode)
		return;		/* made edge meanwhile: Remote IRR is 0 */
	e->fields.remote_irr = 0;
	if (e->fields.mask || !(ioapic->regs.irr & BIT(pin))) {
		ioapic->eoi_redeliveries[pin] = 0;
		return;
	}
	if (++ioapic->eoi_redeliveries[pin] < IOAPIC_STORM_EOIS) {
		ioapic_deliver(ioapic, pin);
		return;
	}
	ioapic->eoi_redeliveries[pin] = 0;
	pr_warn_ratelimited("ioapic: pin %d stays asserted after %d EOIs, delaying it\n",
			    pin, IOAPIC_STORM_EOIS);
	schedule_delayed_work(&ioapic->storm_work, IOAPIC_STORM_DELAY);
}

/**
 * mkvm_ioapic_eoi() - a LAPIC ended @vector, which an entry carries.
 * @level: the LAPIC had it as level-triggered (its TMR bit)
 *
 * Every pin programmed with @vector hears it. The ack notifiers run
 * first, without the lock (an irqfd resampler lowers its line through
 * mkvm_set_irq(), which takes it); then Remote IRR clears and a line
 * that is still high sends its message again.
 */
void mkvm_ioapic_eoi(struct mkvm *vm, int vector, bool level)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;
	unsigned long flags;
	int pin;

	if (!ioapic)
		return;
	spin_lock_irqsave(&ioapic->lock, flags);
	for (pin = 0; pin < MKVM_IOAPIC_PINS; pin++) {
		if (ioapic->regs.redirtbl[pin].fields.vector != vector)
			continue;
		spin_unlock_irqrestore(&ioapic->lock, flags);
		mkvm_notify_acked_irq(vm, KVM_IRQCHIP_IOAPIC, pin);
		spin_lock_irqsave(&ioapic->lock, flags);
		/*
		 * The entry may have changed meanwhile: look at it again. An
		 * edge EOI (TMR clear in the LAPIC) only told the notifiers:
		 * it must not end a level pin that happens to share the vector.
		 */
		if (level && ioapic->regs.redirtbl[pin].fields.vector == vector)
			ioapic_eoi_pin(ioapic, pin);
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/* ------------------------------------------------------------------ */
/* Registers                                                             */
/* ------------------------------------------------------------------ */

/* Datasheet 3.2: the register IOREGSEL names, through IOWIN. */
static u32 ioapic_read_indirect(struct mkvm_ioapic *ioapic)
{
	u32 sel = ioapic->regs.ioregsel;
	u32 pin = (sel - IOAPIC_REG_REDTBL) >> 1;
	u64 rte;

	switch (sel) {
	case IOAPIC_REG_VER:	/* maximum redirection entry, version */
		return ((MKVM_IOAPIC_PINS - 1) << 16) | IOAPIC_VERSION;
	case IOAPIC_REG_ID:
	case IOAPIC_REG_ARB:	/* arbitration ID: loaded from the ID */
		return (ioapic->regs.id & 0xf) << 24;
	}
	if (sel < IOAPIC_REG_REDTBL || pin >= MKVM_IOAPIC_PINS)
		return ~0U;	/* no register there: all ones, as KVM */
	rte = ioapic->regs.redirtbl[pin].bits;
	return (sel & 1) ? rte >> 32 : (u32)rte;
}

/*
 * Write half of redirection entry @pin. Delivery Status and Remote IRR
 * are read-only (datasheet 3.2.4); Remote IRR clears when the entry is
 * made edge-triggered, which Linux relies on to end a level interrupt on
 * an IOAPIC without an EOI register. A level line already high behind a
 * mask or a Remote IRR goes out as soon as the entry allows it. A change
 * of the mask bit goes to the mask notifiers (the PIT's reinjection).
 */
static void ioapic_write_rte(struct mkvm_ioapic *ioapic, u32 pin, bool high,
			     u32 val)
{
	mkvm_ioapic_rte *e = &ioapic->regs.redirtbl[pin];
	mkvm_ioapic_rte old = *e;

	if (high)
		e->bits = (e->bits & 0xffffffffULL) | ((u64)val << 32);
	else
		e->bits = (e->bits & ~0xffffffffULL) | val;
	e->fields.delivery_status = old.fields.delivery_status;
	e->fields.remote_irr = old.fields.remote_irr;
	if (!e->fields.trig_mode)
		e->fields.remote_irr = 0;
	if (e->fields.vector != old.fields.vector)
		ioapic_update_vectors(ioapic);
	if (e->fields.mask != old.fields.mask)
		mkvm_notify_irq_mask(ioapic->vm, KVM_IRQCHIP_IOAPIC, pin,
				     e->fields.mask);
	if (e->fields.trig_mode && (ioapic->regs.irr & BIT(pin)))
		ioapic_deliver(ioapic, pin);
}

static void ioapic_write_indirect(struct mkvm_ioapic *ioapic, u32 val)
{
	u32 sel = ioapic->regs.ioregsel;
	u32 pin = (sel - IOAPIC_REG_REDTBL) >> 1;

	switch (sel) {
	case IOAPIC_REG_ID:	/* bits 27-24; the rest is reserved */
		ioapic->regs.id = (val >> 24) & 0xf;
		return;
	case IOAPIC_REG_VER:	/* read-only */
	case IOAPIC_REG_ARB:
		return;
	}
	if (sel >= IOAPIC_REG_REDTBL && pin < MKVM_IOAPIC_PINS)
		ioapic_write_rte(ioapic, pin, sel & 1, val);
}

/*
 * The page: IOREGSEL and IOWIN answer at their exact offsets, anything
 * else reads 0 and ignores writes; the access size only trims the value
 * (KVM's behaviour; the datasheet asks for 32-bit accesses).
 */
static int ioapic_mmio(struct mkvm_ioapic *ioapic, u64 addr, int len,
		       void *val, bool write)
{
	u64 off = addr - ioapic->regs.base_address;
	unsigned long flags;
	u64 data = 0;

	if (len != 1 && len != 2 && len != 4 && len != 8)
		return 0;
	if (write)
		memcpy(&data, val, min(len, 4));
	spin_lock_irqsave(&ioapic->lock, flags);
	switch (off) {
	case IOAPIC_IOREGSEL:
		if (write)
			ioapic->regs.ioregsel = data & 0xff;
		else
			data = ioapic->regs.ioregsel;
		break;
	case IOAPIC_IOWIN:
		if (write)
			ioapic_write_indirect(ioapic, data);
		else
			data = ioapic_read_indirect(ioapic);
		break;
	}
	spin_unlock_irqrestore(&ioapic->lock, flags);
	if (!write)
		memcpy(val, &data, len);
	return 0;
}

static int ioapic_dev_read(struct mkvm_vcpu *vcpu, struct mkvm_io_device *dev,
			   u64 addr, int len, void *val)
{
	return ioapic_mmio(container_of(dev, struct mkvm_ioapic, dev), addr,
			   len, val, false);
}

static int ioapic_dev_write(struct mkvm_vcpu *vcpu,
			    struct mkvm_io_device *dev, u64 addr, int len,
			    const void *val)
{
	return ioapic_mmio(container_of(dev, struct mkvm_ioapic, dev), addr,
			   len, (void *)val, true);
}

static const struct mkvm_io_device_ops ioapic_io_ops = {
	.read	= ioapic_dev_read,
	.write	= ioapic_dev_write,
};

/* ------------------------------------------------------------------ */
/* Lifecycle and KVM_GET/SET_IRQCHIP                                     */
/* ------------------------------------------------------------------ */

/**
 * mkvm_ioapic_create() - the IOAPIC of KVM_CREATE_IRQCHIP; vm->lock held.
 *
 * Reset state (datasheet 3.2.4): every entry masked, the rest zero.
 */
int mkvm_ioapic_create(struct mkvm *vm)
{
	struct mkvm_ioapic *ioapic;
	int pin, r;

	lockdep_assert_held(&vm->lock);
	ioapic = kzalloc(sizeof(*ioapic), GFP_KERNEL_ACCOUNT);
	if (!ioapic)
		return -ENOMEM;
	spin_lock_init(&ioapic->lock);
	INIT_DELAYED_WORK(&ioapic->storm_work, ioapic_storm_work);
	ioapic->vm = vm;
	ioapic->regs.base_address = MKVM_IOAPIC_BASE;
	for (pin = 0; pin < MKVM_IOAPIC_PINS; pin++)
		ioapic->regs.redirtbl[pin].fields.mask = 1;
	ioapic->dev.ops = &ioapic_io_ops;
	r = mkvm_io_bus_register(vm, MKVM_MMIO_BUS, MKVM_IOAPIC_BASE,
				 IOAPIC_MMIO_LEN, &ioapic->dev);
	if (r) {
		kfree(ioapic);
		return r;
	}
	vm->ioapic = ioapic;
	return 0;
}

/* vm->lock held; nothing raises interrupts any more (irqchip.c). */
void mkvm_ioapic_destroy(struct mkvm *vm)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;

	if (!ioapic)
		return;
	mkvm_io_bus_unregister(vm, MKVM_MMIO_BUS, &ioapic->dev);
	cancel_delayed_work_sync(&ioapic->storm_work);
	vm->ioapic = NULL;
	kfree(ioapic);
}

/*
 * KVM_GET_IRQCHIP, chip 2. As in KVM, IRR shows the level pins high and
 * the edge pins whose edge still waits (behind a mask): an edge already
 * delivered is history, not state to restore.
 */
void mkvm_ioapic_get_state(struct mkvm *vm, struct kvm_ioapic_state *s)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;
	unsigned long flags;

	spin_lock_irqsave(&ioapic->lock, flags);
	*s = ioapic->regs;
	s->irr &= ~ioapic->irr_delivered;
	spin_unlock_irqrestore(&ioapic->lock, flags);
}

/*
 * KVM_SET_IRQCHIP, chip 2. The registers are taken as they come (Remote
 * IRR too: a migrated guest may be inside a level handler), then the
 * pins in @s->irr are raised again, which delivers what the restored
 * entries let through. One check KVM does not make: the page cannot
 * move (KVM would take another base_address and then answer nowhere),
 * so any other base_address is EINVAL. Bits of irr beyond pin 23 are
 * ignored, as in KVM.
 */
int mkvm_ioapic_set_state(struct mkvm *vm, const struct kvm_ioapic_state *s)
{
	struct mkvm_ioapic *ioapic = vm->ioapic;
	unsigned long flags;
	int pin;

	if (s->base_address != MKVM_IOAPIC_BASE)
		return -EINVAL;
	spin_lock_irqsave(&ioapic->lock, flags);
	ioapic->regs = *s;
	ioapic->regs.irr = 0;
	ioapic->irr_delivered = 0;
	ioapic_update_vectors(ioapic);
	for (pin = 0; pin < MKVM_IOAPIC_PINS; pin++)
		if (s->irr & BIT(pin))
			ioapic_set_line(ioapic, pin, true);
	spin_unlock_irqrestore(&ioapic->lock, flags);
	return 0;
}
