// SPDX-License-Identifier: GPL-2.0-only
/*
 * minikvm: the two cascaded 8259A programmable interrupt controllers of a
 * PC, and the PIIX edge/level control registers (ELCR) beside them.
 *
 * The master answers ports 0x20-0x21 and drives the CPU's INTR pin; the
 * slave answers 0xa0-0xa1 and its INT output is wired to the master's
 * IR2. Each chip has three 8-bit registers, one bit per input pin (IR0-7):
 *
 *   IRR  interrupt request: the pin asked and was not acknowledged yet
 *   ISR  in service: acknowledged (INTA), the guest has not sent EOI yet
 *   IMR  mask: the pin is ignored while set
 *
 * A pin raises INTR when it is requested, not masked, and of higher
 * priority than everything in service. At INTA the CPU learns the vector
 * (irq_base + pin), the bit moves from IRR to ISR, and lower priorities
 * wait until the guest writes EOI. Everything here follows the Intel
 * 8259A datasheet (order no. 231468): "Interrupt Sequence", "Programming
 * the 8259A" (ICW1-4, OCW1-3), "Edge and Level Triggered Modes", "The
 * Cascade Buffer/Comparator"; the ELCR at 0x4d0-0x4d1 is from the Intel
 * 82371AB (PIIX4) datasheet, section 4.1.10.
 *
 * The state of each chip is kept in the KVM ABI's own struct
 * kvm_pic_state, so that KVM_GET/SET_IRQCHIP is a copy and a VMM's saved
 * state means the same here as on KVM.
 */
#define pr_fmt(fmt) "minikvm: " fmt

#include <linux/slab.h>

#include "minikvm.h"

#define PIC_MASTER	0
#define PIC_SLAVE	1
#define PIC_CASCADE_PIN	2	/* the slave's INT drives the master's IR2 */
#define PIC_NR_PINS	16

/* ICW1 (A0=0, D4=1), datasheet "Initialization Command Words". */
#define ICW1_IC4	0x01	/* an ICW4 follows */
#define ICW1_SNGL	0x02	/* single chip: not a PC, ignored */
#define ICW1_LTIM	0x08	/* level mode for all pins: the ELCR does it */
#define ICW1_INIT	0x10
/* ICW4 */
#define ICW4_AEOI	0x02	/* automatic EOI at the end of INTA */
#define ICW4_SFNM	0x10	/* special fully nested mode */
/* OCW3 (A0=0, D4=0, D3=1), datasheet "Operation Command Words". */
#define OCW3_SEL	0x08
#define OCW3_RIS	0x01	/* read ISR rather than IRR ... */
#define OCW3_RR		0x02	/* ... if this bit says "change it" */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode on/off ... */
#define OCW3_ESMM	0x40	/* ... if this bit says "change it" */
/* The poll word: an interrupt was there (bit 7) and its pin (bits 2-0). */
#define PIC_POLL_INT	0x80

/* The initialisation sequence: kvm_pic_state.init_state. */
enum pic_init_state {
	PIC_READY,		/* ICWs done: writes to A0=1 are OCW1 (IMR) */
	PIC_WANT_ICW2,
	PIC_WANT_ICW3,
	PIC_WANT_ICW4,
};

struct mkvm_pic {
	spinlock_t lock;
	struct mkvm *vm;
	struct kvm_pic_state chip[2];	/* master, slave */
	/* Which irq sources (MKVM_IRQ_SOURCE_*) hold each pin high. */
	unsigned long sources[PIC_NR_PINS];
	bool output;			/* the master's INTR pin */
	/* Work found under the lock, done after it (mkvm_pic_unlock()). */
	u16 acked;			/* pins whose ISR bit an EOI cleared */
	bool wakeup;			/* INTR rose: kick the vCPU */
	struct mkvm_io_device dev_master, dev_slave, dev_elcr;
};

/* ------------------------------------------------------------------ */
/* One chip: priorities, requests, acknowledge                          */
/* ------------------------------------------------------------------ */

static int pic_index(struct mkvm_pic *pic, struct kvm_pic_state *s)
{
	return s == &pic->chip[PIC_SLAVE] ? PIC_SLAVE : PIC_MASTER;
}

/*
 * Priority of the best pin set in @bits: 0 is the highest, 8 means none.
 * priority_add is the pin that has priority 0 (datasheet "Rotation"):
 * fully nested mode has it 0 (IR0 first, IR7 last); a rotation moves it.
 */
static int pic_best_priority(const struct kvm_pic_state *s, u8 bits)
{
	int prio;

	for (prio = 0; prio < 8; prio++)
		if (bits & BIT((prio + s->priority_add) & 7))
			return prio;
	return 8;
}

static int pic_prio_to_pin(const struct kvm_pic_state *s, int prio)
{
	return (prio + s->priority_add) & 7;
}

/*
 * The pin this chip would interrupt with now, or -1. A request must beat
 * every interrupt in service, except that in special fully nested mode
 * the master lets the slave's IR2 interrupt a slave interrupt in service
 * (datasheet "Special Fully Nested Mode"), and in special mask mode a
 * masked level in service does not hold back the others ("Special Mask
 * Mode"; KVM ignores this mode, which Linux never sets).
 */
static int pic_pending_pin(struct mkvm_pic *pic, struct kvm_pic_state *s)
{
	int req = pic_best_priority(s, s->irr & ~s->imr);
	u8 in_service = s->isr;

	if (req == 8)
		return -1;
	if (s->special_fully_nested_mode && pic_index(pic, s) == PIC_MASTER)
		in_service &= ~BIT(PIC_CASCADE_PIN);
	if (s->special_mask)
		in_service &= ~s->imr;
	if (req >= pic_best_priority(s, in_service))
		return -1;
	return pic_prio_to_pin(s, req);
}

/*
 * A pin's input changed to @level. Level-triggered pins (ELCR bit set)
 * request while high; edge-triggered pins request on a rising edge, and
 * last_irr remembers the level to see the next one (datasheet "Edge and
 * Level Triggered Modes"). Return: 1 if this raised a new request, 0 if
 * it was already requested (coalesced), -1 if the pin is masked (the
 * values KVM_IRQ_LINE_STATUS reports, as KVM computes them).
 */
static int pic_set_pin(struct kvm_pic_state *s, int pin, bool level)
{
	u8 bit = BIT(pin);
	int ret = 1;

	if (level) {
		/* A new request: a level pin now, an edge pin on a rising edge. */
		if ((s->elcr & bit) || !(s->last_irr & bit)) {
			ret = !(s->irr & bit);
			s->irr |= bit;
		}
		s->last_irr |= bit;
	} else {
		if (s->elcr & bit)
			s->irr &= ~bit;	/* a level request ends with the level */
		s->last_irr &= ~bit;
	}
	return (s->imr & bit) ? -1 : ret;
}

/* The ISR bit of @pin goes: remember to tell the ack notifiers. */
static void pic_clear_isr(struct mkvm_pic *pic, struct kvm_pic_state *s,
			  int pin)
{
	s->isr &= ~BIT(pin);
	pic->acked |= BIT(pin + 8 * pic_index(pic, s));
}

/*
 * A new IMR: tell the mask notifiers of each pin whose bit changed (the
 * PIT restarts its reinjection when IRQ0 is unmasked). Lock held.
 */
static void pic_set_imr(struct mkvm_pic *pic, struct kvm_pic_state *s, u8 imr)
{
	u8 changed = s->imr ^ imr;
	u32 chip = pic_index(pic, s) == PIC_SLAVE ? KVM_IRQCHIP_PIC_SLAVE :
						     KVM_IRQCHIP_PIC_MASTER;
	int pin;

	s->imr = imr;
	for (pin = 0; pin < 8; pin++)
		if (changed & BIT(pin))
			mkvm_notify_irq_mask(pic->vm, chip, pin,
					     imr & BIT(pin));
}

/*
 * Recompute both outputs: the slave's INT is an edge on the master's IR2
 * while the slave has a request; the master's INT is the CPU's INTR.
 */
static void pic_update(struct mkvm_pic *pic)
{
	bool output;

	if (pic_pending_pin(pic, &pic->chip[PIC_SLAVE]) >= 0) {
		pic_set_pin(&pic->chip[PIC_MASTER], PIC_CASCADE_PIN, true);
		pic_set_pin(&pic->chip[PIC_MASTER], PIC_CASCADE_PIN, false);
	}
	output = pic_pending_pin(pic, &pic->chip[PIC_MASTER]) >= 0;
	if (output && !pic->output)
		pic->wakeup = true;
	WRITE_ONCE(pic->output, output);
}

/*
 * The interrupt-acknowledge of @pin: it goes in service, an edge request
 * is consumed (a level one stays while the line is high), and in
 * automatic EOI mode it leaves service at once (datasheet "Automatic End
 * of Interrupt (AEOI) Mode"), rotating if asked.
 */
static void pic_intack(struct mkvm_pic *pic, struct kvm_pic_state *s,
		       int pin)
{
	s->isr |= BIT(pin);
	if (!(s->elcr & BIT(pin)))
		s->irr &= ~BIT(pin);
	if (s->auto_eoi) {
		if (s->rotate_on_auto_eoi)
			s->priority_add = (pin + 1) & 7;
		pic_clear_isr(pic, s, pin);
	}
}

static void pic_lock(struct mkvm_pic *pic, unsigned long *flags)
{
	spin_lock_irqsave(&pic->lock, *flags);
}

/*
 * Unlock, then do what must not run under pic->lock: the ack notifiers
 * (an irqfd resampler lowers its line through mkvm_set_irq(), which
 * takes pic->lock again) and the kick of the vCPU that takes INTR.
 */
static void pic_unlock(struct mkvm_pic *pic, unsigned long flags)
{
	u16 acked = pic->acked;
	bool wakeup = pic->wakeup;
	int pin;

	pic->acked = 0;
	pic->wakeup = false;
	spin_unlock_irqrestore(&pic->lock, flags);

	for (pin = 0; pin < PIC_NR_PINS; pin++)
		if (acked & BIT(pin))
			mkvm_notify_acked_irq(pic->vm, pin < 8 ?
					      KVM_IRQCHIP_PIC_MASTER :
					      KVM_IRQCHIP_PIC_SLAVE, pin & 7);
	if (wakeup)
		mkvm_lapic_pic_kick(pic->vm);
}

/* ------------------------------------------------------------------ */
/* The lines, and INTA                                                   */
/* ------------------------------------------------------------------ */

/**
 * mkvm_pic_set_irq() - source @src drives pin @pin (0-15) to @level.
 *
 * The pin is high while any source holds it high (a PIT and a device on
 * one line, say). Return: 1 raised, 0 already requested, -1 masked.
 */
int mkvm_pic_set_irq(struct mkvm *vm, int pin, int src, int level)
{
	struct mkvm_pic *pic = vm->pic;
	unsigned long flags;
	int ret;

	if (!pic || pin < 0 || pin >= PIC_NR_PINS)
		return -1;
	pic_lock(pic, &flags);
	if (level)
		__set_bit(src, &pic->sources[pin]);
	else
		__clear_bit(src, &pic->sources[pin]);
	ret = pic_set_pin(&pic->chip[pin >> 3], pin & 7,
			  pic->sources[pin] != 0);
	pic_update(pic);
	pic_unlock(pic, flags);
	return ret;
}

bool mkvm_pic_has_interrupt(struct mkvm *vm)
{
	return vm->pic && READ_ONCE(vm->pic->output);
}

/**
 * mkvm_pic_read_irq() - the INTA cycle: the vector the CPU takes now.
 *
 * The master names its best pin; if that is IR2, the slave names its own
 * (datasheet "The Cascade Buffer/Comparator"). A request that went away
 * between INTR and INTA leaves a spurious IR7 of the chip asked, which is
 * not put in service (datasheet "Interrupt Sequence", step 4 note).
 */
int mkvm_pic_read_irq(struct mkvm *vm)
{
	struct mkvm_pic *pic = vm->pic;
	struct kvm_pic_state *master, *slave;
	unsigned long flags;
	int pin, pin2, vector;

	if (!pic)
		return -1;
	master = &pic->chip[PIC_MASTER];
	slave = &pic->chip[PIC_SLAVE];
	pic_lock(pic, &flags);
	pin = pic_pending_pin(pic, master);
	if (pin < 0) {
		vector = master->irq_base + 7;
	} else {
		pic_intack(pic, master, pin);
		vector = master->irq_base + pin;
		if (pin == PIC_CASCADE_PIN) {
			pin2 = pic_pending_pin(pic, slave);
			if (pin2 >= 0)
				pic_intack(pic, slave, pin2);
			else
				pin2 = 7;
			vector = slave->irq_base + pin2;
		}
	}
	pic_update(pic);
	pic_unlock(pic, flags);
	return vector;
}

/* ------------------------------------------------------------------ */
/* The ports                                                             */
/* ------------------------------------------------------------------ */

/*
 * ICW1 starts the initialisation sequence and resets the chip: the edge
 * detectors forget the lines (an edge request is lost, a level one is
 * seen again), IMR is cleared, IR0 gets the highest priority, special
 * mask mode ends, reads return IRR, and without IC4 the ICW4 modes go
 * back to zero (datasheet "Initialization Command Words", ICW1). The
 * datasheet does not say ISR clears; KVM keeps it, QEMU clears it. We
 * clear it, as a guest that starts over has no interrupt in service any
 * more, and tell the ack notifiers so that a resampled line re-arms.
 * The edge requests erased here are told to the ack notifiers as well
 * (KVM does so too): the PIT took such a tick as delivered, and its
 * reinjection would otherwise wait for its EOI forever. Linux's
 * check_timer() re-initialises the PICs with a tick of IRQ0 in IRR (seen
 * in selftests/l2boot_test's nested boot), after which IRQ0 stayed
 * silent. The IMR bits that go are unmasks for the mask notifiers.
 */
static void pic_icw1(struct mkvm_pic *pic, struct kvm_pic_state *s, u8 val)
{
	u8 erased = s->irr & ~s->elcr;
	int pin;

	if (val & (ICW1_SNGL | ICW1_LTIM))
		pr_debug_ratelimited("pic: ICW1 %#x: single/LTIM mode ignored\n",
				     val);
	s->init4 = val & ICW1_IC4;
	s->last_irr = 0;
	s->irr &= s->elcr;
	for (pin = 0; pin < 8; pin++)
		if (s->isr & BIT(pin))
			pic_clear_isr(pic, s, pin);
	/* An erased edge request will see no EOI: it ends here. */
	pic->acked |= erased << (8 * pic_index(pic, s));
	pic_set_imr(pic, s, 0);
	s->priority_add = 0;
	s->special_mask = 0;
	s->read_reg_select = 0;
	s->poll = 0;
	if (!s->init4) {
		s->special_fully_nested_mode = 0;
		s->auto_eoi = 0;
	}
	s->init_state = PIC_WANT_ICW2;
}

/*
 * OCW2 (bits 7-5 = R, SL, EOI; bits 2-0 = a level L): end of interrupt
 * and rotation (datasheet "Operation Command Words", OCW2 table).
 */
static void pic_ocw2(struct mkvm_pic *pic, struct kvm_pic_state *s, u8 val)
{
	int cmd = val >> 5, pin = val & 7, prio;

	switch (cmd) {
	case 0:	/* 000: rotate in automatic EOI mode, clear */
	case 4:	/* 100: ... set */
		s->rotate_on_auto_eoi = cmd >> 2;
		return;
	case 1:	/* 001: non-specific EOI: the highest priority in service */
	case 5:	/* 101: ... and rotate: it becomes the lowest */
		prio = pic_best_priority(s, s->isr);
		if (prio == 8)
			return;
		pin = pic_prio_to_pin(s, prio);
		if (cmd == 5)
			s->priority_add = (pin + 1) & 7;
		pic_clear_isr(pic, s, pin);
		break;
	case 3:	/* 011: specific EOI of level L */
		pic_clear_isr(pic, s, pin);
		break;
	case 7:	/* 111: specific EOI of L, and L becomes the lowest */
		pic_clear_isr(pic, s, pin);
		fallthrough;
	case 6:	/* 110: set priority: L becomes the lowest */
		s->priority_add = (pin + 1) & 7;
		break;
	default: /* 010: no operation */
		return;
	}
	pic_update(pic);
}

/* OCW3: what the next read of A0=0 returns, poll, special mask mode. */
static void pic_ocw3(struct mkvm_pic *pic, struct kvm_pic_state *s, u8 val)
{
	if (val & OCW3_POLL)
		s->poll = 1;
	if (val & OCW3_RR)
		s->read_reg_select = val & OCW3_RIS;
	if (val & OCW3_ESMM) {
		s->special_mask = !!(val & OCW3_SMM);
		pic_update(pic);
	}
}

/* A0=1: the ICW2-4 of an initialisation in progress, else OCW1 (IMR). */
static void pic_write_data(struct mkvm_pic *pic, struct kvm_pic_state *s,
			   u8 val)
{
	switch (s->init_state) {
	case PIC_WANT_ICW2:	/* bits 7-3 of the vectors */
		s->irq_base = val & 0xf8;
		s->init_state = PIC_WANT_ICW3;
		break;
	case PIC_WANT_ICW3:	/* the cascade wiring: fixed on a PC */
		s->init_state = s->init4 ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW4:
		s->special_fully_nested_mode = !!(val & ICW4_SFNM);
		s->auto_eoi = !!(val & ICW4_AEOI);
		s->init_state = PIC_READY;
		break;
	default:		/* OCW1 */
		pic_set_imr(pic, s, val);
		pic_update(pic);
		break;
	}
}

static void pic_write(struct mkvm_pic *pic, struct kvm_pic_state *s,
		      bool a0, u8 val)
{
	if (a0)
		pic_write_data(pic, s, val);
	else if (val & ICW1_INIT)
		pic_icw1(pic, s, val);
	else if (val & OCW3_SEL)
		pic_ocw3(pic, s, val);
	else
		pic_ocw2(pic, s, val);
}

/*
 * A read after an OCW3 poll command is an interrupt acknowledge without
 * INTA: the best request goes in service and the read returns the poll
 * word, bit 7 set and the pin in bits 2-0, or 0 if there is none
 * (datasheet "The Poll Command"). KVM returns only the pin, or 7, and
 * ends the interrupt at once; we follow the datasheet, the guest EOIs.
 * When the slave is polled its request at the master's IR2 is consumed.
 */
static u8 pic_poll(struct mkvm_pic *pic, struct kvm_pic_state *s)
{
	int pin = pic_pending_pin(pic, s);

	if (pin < 0)
		return 0;
	pic_intack(pic, s, pin);
	if (pic_index(pic, s) == PIC_SLAVE)
		pic->chip[PIC_MASTER].irr &= ~BIT(PIC_CASCADE_PIN);
	pic_update(pic);
	return PIC_POLL_INT | pin;
}

static u8 pic_read(struct mkvm_pic *pic, struct kvm_pic_state *s, bool a0)
{
	if (s->poll) {
		s->poll = 0;
		return pic_poll(pic, s);
	}
	if (a0)
		return s->imr;
	return s->read_reg_select ? s->isr : s->irr;
}

/*
 * One handler for the three port pairs. The 8259A and the ELCR are 8-bit
 * registers: other sizes are ignored (a read gives 0), as in KVM.
 */
static int pic_access(struct mkvm_pic *pic, u64 port, int len, u8 *val,
		      bool write)
{
	struct kvm_pic_state *s;
	unsigned long flags;

	if (len != 1) {
		if (!write)
			memset(val, 0, len);
		return 0;
	}
	pic_lock(pic, &flags);
	switch (port) {
	case 0x20: case 0x21: case 0xa0: case 0xa1:
		s = &pic->chip[port >= 0xa0 ? PIC_SLAVE : PIC_MASTER];
		if (write)
			pic_write(pic, s, port & 1, *val);
		else
			*val = pic_read(pic, s, port & 1);
		break;
	case 0x4d0: case 0x4d1:	/* ELCR1 (IRQ0-7), ELCR2 (IRQ8-15) */
		s = &pic->chip[port & 1];
		if (write)
			s->elcr = *val & s->elcr_mask;
		else
			*val = s->elcr;
		break;
	}
	pic_unlock(pic, flags);
	return 0;
}

static int pic_dev_read(struct mkvm_vcpu *vcpu, struct mkvm_io_device *dev,
			u64 addr, int len, void *val)
{
	return pic_access(vcpu->vm->pic, addr, len, val, false);
}

static int pic_dev_write(struct mkvm_vcpu *vcpu, struct mkvm_io_device *dev,
			 u64 addr, int len, const void *val)
{
	return pic_access(vcpu->vm->pic, addr, len, (void *)val, true);
}

static const struct mkvm_io_device_ops pic_io_ops = {
	.read	= pic_dev_read,
	.write	= pic_dev_write,
};

/* ------------------------------------------------------------------ */
/* Lifecycle and KVM_GET/SET_IRQCHIP                                     */
/* ------------------------------------------------------------------ */

static void pic_unregister(struct mkvm *vm, struct mkvm_pic *pic)
{
	mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pic->dev_master);
	mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pic->dev_slave);
	mkvm_io_bus_unregister(vm, MKVM_PIO_BUS, &pic->dev_elcr);
}

/**
 * mkvm_pic_create() - the PICs of KVM_CREATE_IRQCHIP; vm->lock held.
 *
 * Power-on state as KVM has it: everything zero (no ICWs yet, nothing
 * masked) but the ELCR masks, the pins a PIIX lets be level-triggered:
 * not IRQ0-2 (timer, keyboard, cascade), IRQ8 (RTC) or IRQ13 (FPU).
 */
int mkvm_pic_create(struct mkvm *vm)
{
	struct mkvm_pic *pic;
	int r;

	lockdep_assert_held(&vm->lock);
	pic = kzalloc(sizeof(*pic), GFP_KERNEL_ACCOUNT);
	if (!pic)
		return -ENOMEM;
	spin_lock_init(&pic->lock);
	pic->vm = vm;
	pic->chip[PIC_MASTER].elcr_mask = 0xf8;
	pic->chip[PIC_SLAVE].elcr_mask = 0xde;
	pic->dev_master.ops = &pic_io_ops;
	pic->dev_slave.ops = &pic_io_ops;
	pic->dev_elcr.ops = &pic_io_ops;
	/* Published before the ports: their handlers find it in vm->pic. */
	vm->pic = pic;
	r = mkvm_io_bus_register(vm, MKVM_PIO_BUS, 0x20, 2, &pic->dev_master);
	if (!r)
		r = mkvm_io_bus_register(vm, MKVM_PIO_BUS, 0xa0, 2,
					 &pic->dev_slave);
	if (!r)
		r = mkvm_io_bus_register(vm, MKVM_PIO_BUS, 0x4d0, 2,
					 &pic->dev_elcr);
	if (r)
		mkvm_pic_destroy(vm);
	return r;
}

/* vm->lock held; nothing raises interrupts any more (irqchip.c). */
void mkvm_pic_destroy(struct mkvm *vm)
{
	struct mkvm_pic *pic = vm->pic;

	if (!pic)
		return;
	pic_unregister(vm, pic);	/* waits for vCPUs inside the ports */
	vm->pic = NULL;
	kfree(pic);
}

/* KVM_GET_IRQCHIP, chip 0 or 1: the registers as they are. */
void mkvm_pic_get_state(struct mkvm *vm, int chip, struct kvm_pic_state *s)
{
	unsigned long flags;

	pic_lock(vm->pic, &flags);
	*s = vm->pic->chip[chip];
	pic_unlock(vm->pic, flags);
}

/*
 * KVM_SET_IRQCHIP, chip 0 or 1. Taken as it is, like KVM does: every
 * value of every field is a state the code above handles (init_state
 * beyond PIC_WANT_ICW4 reads as "ready"), so nothing needs refusing. The
 * outputs are recomputed; the line levels of the sources stay ours.
 */
void mkvm_pic_set_state(struct mkvm *vm, int chip,
			const struct kvm_pic_state *s)
{
	unsigned long flags;

	pic_lock(vm->pic, &flags);
	vm->pic->chip[chip] = *s;
	pic_update(vm->pic);
	pic_unlock(vm->pic, flags);
}
