// SPDX-License-Identifier: GPL-2.0-only
/*
 * pic.c: the PC's two cascaded Intel 8259A programmable interrupt controllers.
 *
 * Master at ports 0x20/0x21 takes IRQ 0-7, slave at 0xa0/0xa1 takes IRQ 8-15
 * and drives the master's input 2. Per chip (8259A datasheet):
 *
 *   IRR  interrupt request register: inputs that saw a rising edge
 *   ISR  in-service register: acknowledged, not yet EOI'd
 *   IMR  interrupt mask register (OCW1)
 *
 * Initialization is a sequence of ICWs: ICW1 on the command port (bit 4 set),
 * then ICW2 (vector base), ICW3 (cascade wiring, unless ICW1 said "single")
 * and ICW4 (if ICW1 asked for it: 8086 mode, auto-EOI) on the data port.
 * After that the command port takes OCW2 (EOI commands, bits 4..3 = 00) and
 * OCW3 (read IRR/ISR, poll; bits 4..3 = 01), the data port reads and writes IMR.
 *
 * Simplifications: edge-triggered only (the ELCR at 0x4d0 reads as all-edge),
 * fixed priority (IR0 highest; the rotate commands act as plain EOIs), no
 * special mask or special fully nested modes.
 */
#include <string.h>

#include "hw.h"

void pic__init(struct pic *p, void (*notify)(void *opaque), void *opaque)
{
	memset(p, 0, sizeof(*p));
	p->notify = notify;
	p->notify_opaque = opaque;
	p->chip[0].imr = p->chip[1].imr = 0xff;	/* all masked until set up */
}

/* The highest-priority (lowest-numbered) bit of mask, or -1. */
static int pic__first(uint8_t mask)
{
	return mask ? __builtin_ctz(mask) : -1;
}

/*
 * The input this chip would present to the CPU now: the highest-priority
 * unmasked request that outranks everything in service, or -1.
 */
static int pic_chip__pending(const struct pic_chip *c)
{
	int irq = pic__first(c->irr & ~c->imr);
	int busy = pic__first(c->isr);

	if (irq < 0 || (busy >= 0 && busy <= irq))
		return -1;
	return irq;
}

bool pic__has_interrupt(const struct pic *p)
{
	return pic_chip__pending(&p->chip[0]) >= 0;
}

/* Latch a rising edge of one input into IRR. */
static void pic_chip__set_input(struct pic_chip *c, int pin, int level)
{
	uint8_t bit = 1u << pin;

	if (level && !(c->last_level & bit))
		c->irr |= bit;
	if (level)
		c->last_level |= bit;
	else
		c->last_level &= ~bit;
}

/* Recompute the slave's INT output (master IR2) and tell the CPU side. */
static void pic__update(struct pic *p, bool was_pending)
{
	pic_chip__set_input(&p->chip[0], 2, pic_chip__pending(&p->chip[1]) >= 0);
	if (!was_pending && pic__has_interrupt(p) && p->notify)
		p->notify(p->notify_opaque);
}

void pic__set_irq(void *opaque, int irq, int level)
{
	struct pic *p = opaque;
	bool was = pic__has_interrupt(p);

	if (irq < 0 || irq > 15)
		return;
	pic_chip__set_input(&p->chip[irq >> 3], irq & 7, level);
	pic__update(p, was);
}

/* One chip's part of the INTA cycle: IRR -> ISR for input irq. */
static void pic_chip__ack(struct pic_chip *c, int irq)
{
	c->irr &= ~(1u << irq);
	if (!c->auto_eoi)
		c->isr |= 1u << irq;
}

/*
 * The interrupt-acknowledge cycle. A request that went away between INT and
 * INTA gives the chip's IR7 vector without setting ISR: the "spurious
 * interrupt" of the datasheet, which Linux checks for on IRQ 7 and 15.
 */
int pic__ack(struct pic *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq = pic_chip__pending(m), sirq, vec;

	if (irq < 0)
		return m->vector_base + 7;
	pic_chip__ack(m, irq);
	if (irq != 2 || m->single) {
		vec = m->vector_base + irq;
	} else {
		sirq = pic_chip__pending(s);
		if (sirq < 0) {
			vec = s->vector_base + 7;
		} else {
			pic_chip__ack(s, sirq);
			vec = s->vector_base + sirq;
		}
	}
	pic__update(p, true);
	return vec;
}

/* ICW1: start initialization; clears IMR and ISR, reads default to IRR. */
static void pic_chip__icw1(struct pic_chip *c, uint8_t v)
{
	c->init_step = 2;
	c->need_icw4 = v & 0x01;
	c->single = v & 0x02;
	c->imr = c->isr = c->irr = 0;
	c->auto_eoi = c->read_isr = c->poll = false;
	c->last_level = 0;
}

/* OCW2: end of interrupt. 0x20 non-specific, 0x60+n specific (0xa0/0xe0 rotate). */
static void pic_chip__ocw2(struct pic_chip *c, uint8_t v)
{
	int irq;

	switch (v >> 5) {
	case 1:	/* non-specific EOI */
	case 5:	/* rotate on non-specific EOI */
		irq = pic__first(c->isr);
		if (irq >= 0)
			c->isr &= ~(1u << irq);
		break;
	case 3:	/* specific EOI */
	case 7:	/* rotate on specific EOI */
		c->isr &= ~(1u << (v & 7));
		break;
	default: /* set priority, rotate in auto-EOI mode: not modelled */
		break;
	}
}

static void pic_chip__command(struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) {
		pic_chip__icw1(c, v);
	} else if (v & 0x08) {		/* OCW3 */
		if (v & 0x02)
			c->read_isr = v & 0x01;
		c->poll = v & 0x04;
	} else {
		pic_chip__ocw2(c, v);
	}
}

static void pic_chip__data(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:		/* ICW2: vector of IR0; the low 3 bits are the input */
		c->vector_base = v & 0xf8;
		c->init_step = c->single ? (c->need_icw4 ? 4 : 0) : 3;
		break;
	case 3:		/* ICW3: cascade wiring, fixed on a PC */
		c->init_step = c->need_icw4 ? 4 : 0;
		break;
	case 4:		/* ICW4: bit 1 = automatic EOI */
		c->auto_eoi = v & 0x02;
		c->init_step = 0;
		break;
	default:	/* OCW1 */
		c->imr = v;
		break;
	}
}

/* Poll command (OCW3 bit 2): acknowledge like INTA, return 0x80 | level. */
static uint8_t pic__poll(struct pic *p, int chip)
{
	struct pic_chip *c = &p->chip[chip];
	int irq = pic_chip__pending(c);

	c->poll = false;
	if (irq < 0)
		return 0;
	pic_chip__ack(c, irq);
	pic__update(p, true);
	return 0x80 | irq;
}

/* Port accesses; the io_ops device is the struct pic, one ops table per chip. */
static uint32_t pic__read(struct pic *p, int chip, uint64_t off)
{
	struct pic_chip *c = &p->chip[chip];

	if (c->poll)
		return pic__poll(p, chip);
	if (off & 1)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static void pic__write(struct pic *p, int chip, uint64_t off, uint8_t v)
{
	bool was = pic__has_interrupt(p);

	if (off & 1)
		pic_chip__data(&p->chip[chip], v);
	else
		pic_chip__command(&p->chip[chip], v);
	pic__update(p, was);
}

static uint32_t pic_master__read(void *dev, uint64_t off, int size)
{
	(void)size;
	return pic__read(dev, 0, off);
}

static void pic_master__write(void *dev, uint64_t off, int size, uint32_t v)
{
	(void)size;
	pic__write(dev, 0, off, v);
}

static uint32_t pic_slave__read(void *dev, uint64_t off, int size)
{
	(void)size;
	return pic__read(dev, 1, off);
}

static void pic_slave__write(void *dev, uint64_t off, int size, uint32_t v)
{
	(void)size;
	pic__write(dev, 1, off, v);
}

const struct io_ops pic_master_io_ops = {
	.read = pic_master__read,
	.write = pic_master__write,
};

const struct io_ops pic_slave_io_ops = {
	.read = pic_slave__read,
	.write = pic_slave__write,
};

/* Edge/level control registers (PIIX): every IRQ edge-triggered, read-only. */
static uint32_t elcr__read(void *dev, uint64_t off, int size)
{
	(void)dev; (void)off; (void)size;
	return 0;
}

const struct io_ops elcr_io_ops = {
	.read = elcr__read,
};
