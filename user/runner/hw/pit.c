// SPDX-License-Identifier: GPL-2.0-only
/*
 * pit.c: the Intel 8254 programmable interval timer, and port 0x61.
 *
 * Three 16-bit down-counters clocked at 1.193182 MHz (Intel 82C54 datasheet):
 *
 *   channel 0  OUT wired to IRQ 0: the system timer
 *   channel 1  DRAM refresh once; unused today
 *   channel 2  GATE and OUT on port 0x61 (bit 0 and bit 5), OUT to the
 *              speaker; Linux times it to calibrate the TSC
 *
 * Port 0x43 takes control words: bits 7..6 select the channel (3 = read-back
 * command), bits 5..4 the access mode (0 = latch the count, 1 = LSB only,
 * 2 = MSB only, 3 = LSB then MSB), bits 3..1 the mode, bit 0 BCD.
 *
 * No counter is ticked in software. A channel remembers the host time at
 * which its count was loaded, and every read computes where the counter would
 * be now from the host clock. Channel 0's interrupts come from a host timer
 * (timerfd in the VMM) that this model arms whenever the guest programs it.
 *
 * Modes: 0 (interrupt on terminal count) and 4 (software strobe) are one-shot,
 * 2 (rate generator) and 3 (square wave) periodic, 1 and 5 are 0 and 4
 * started by a rising GATE. The GATE only matters on channel 2; in modes 2
 * and 3 a low GATE holds the counter at its reload value. BCD counting is
 * not modelled (nobody uses it).
 */
#include <string.h>

#include "hw.h"

#define NS_PER_SEC	1000000000ull

void pit__init(struct pit *p, struct irq_line irq0,
	       uint64_t (*now_ns)(void *opaque),
	       void (*arm)(void *opaque, uint64_t first_ns, uint64_t period_ns),
	       void *opaque)
{
	memset(p, 0, sizeof(*p));
	p->irq0 = irq0;
	p->now_ns = now_ns;
	p->arm = arm;
	p->opaque = opaque;
	p->ch[0].gate = p->ch[1].gate = true;	/* wired high on a PC */
}

static uint64_t pit__now(struct pit *p)
{
	return p->now_ns(p->opaque);
}

/* A count of 0 means 65536 (the counter wraps before reaching zero). */
static uint32_t pit_channel__period(const struct pit_channel *c)
{
	return c->reload ? c->reload : 0x10000;
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	return (unsigned __int128)ticks * NS_PER_SEC / PIT_HZ;
}

/* Input clock ticks since the count was loaded, or -1 if not counting. */
static int64_t pit__ticks(struct pit *p, const struct pit_channel *c)
{
	uint64_t now = pit__now(p);

	if (!c->counting)
		return -1;
	if (!c->gate && (c->mode == 2 || c->mode == 3))
		return -1;
	if (now < c->start_ns)
		return 0;
	return (unsigned __int128)(now - c->start_ns) * PIT_HZ / NS_PER_SEC;
}

uint16_t pit__count(struct pit *p, int channel)
{
	const struct pit_channel *c = &p->ch[channel];
	uint32_t n = pit_channel__period(c);
	int64_t t = pit__ticks(p, c);

	if (t < 0)
		return c->reload;
	switch (c->mode) {
	case 2:
		return n - t % n;
	case 3:		/* decrements by two, twice per period */
		return (n - 2 * (t % ((n + 1) / 2))) & 0xfffe;
	default:	/* one-shot: after terminal count the counter wraps on */
		return (n - t) & 0xffff;
	}
}

bool pit__out(struct pit *p, int channel)
{
	const struct pit_channel *c = &p->ch[channel];
	uint32_t n = pit_channel__period(c);
	int64_t t = pit__ticks(p, c);

	switch (c->mode) {
	case 0:		/* low from the mode write until terminal count */
	case 1:
		return t >= (int64_t)n;
	case 2:		/* low for one clock as the count reaches 1 */
		return t < 0 || t % n != n - 1;
	case 3:		/* high for the first half of each period */
		return t < 0 || t % n < (n + 1) / 2;
	default:	/* 4, 5: low for one clock at terminal count */
		return t != (int64_t)n;
	}
}

/* Channel 0 was (re)programmed: ask for the matching host timer. */
static void pit__arm_channel0(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t period = ticks_to_ns(pit_channel__period(c));

	if (!p->arm)
		return;
	if (!c->counting)
		p->arm(p->opaque, 0, 0);
	else if (c->mode == 2 || c->mode == 3)
		p->arm(p->opaque, c->start_ns + period, period);
	else
		p->arm(p->opaque, c->start_ns + period, 0);
}

/* The host timer fired: channel 0's OUT made a rising edge on IRQ 0. */
void pit__timer_expired(struct pit *p)
{
	irq_line__set(&p->irq0, 1);
	irq_line__set(&p->irq0, 0);
}

static void pit__load(struct pit *p, int channel, uint16_t count)
{
	struct pit_channel *c = &p->ch[channel];

	c->reload = count;
	c->start_ns = pit__now(p);
	c->counting = true;
	if (channel == 0)
		pit__arm_channel0(p);
}

static void pit__latch_count(struct pit *p, int channel)
{
	struct pit_channel *c = &p->ch[channel];

	if (c->latched)
		return;		/* the first latch holds until read */
	c->latch_value = pit__count(p, channel);
	c->latched = true;
	c->latched_msb_next = false;
}

/* Status byte (read-back): OUT, null count, then the control word bits. */
static void pit__latch_status(struct pit *p, int channel)
{
	struct pit_channel *c = &p->ch[channel];

	if (c->status_latched)
		return;
	c->status = (pit__out(p, channel) ? 0x80 : 0) |
		    (c->counting ? 0 : 0x40) | c->rw << 4 | c->mode << 1 | c->bcd;
	c->status_latched = true;
}

/* Read-back command (0xc0 | ...): bit 5 clear latches counts, bit 4 status. */
static void pit__read_back(struct pit *p, uint8_t v)
{
	for (int i = 0; i < 3; i++) {
		if (!(v & (2 << i)))
			continue;
		if (!(v & 0x20))
			pit__latch_count(p, i);
		if (!(v & 0x10))
			pit__latch_status(p, i);
	}
}

static void pit__control(struct pit *p, uint8_t v)
{
	int channel = v >> 6, rw = (v >> 4) & 3, mode = (v >> 1) & 7;
	struct pit_channel *c;

	if (channel == 3) {
		pit__read_back(p, v);
		return;
	}
	if (rw == 0) {
		pit__latch_count(p, channel);
		return;
	}
	c = &p->ch[channel];
	c->rw = rw;
	c->mode = mode > 5 ? mode - 4 : mode;	/* 6, 7 are aliases of 2, 3 */
	c->bcd = v & 1;
	c->counting = false;
	c->write_msb_next = c->read_msb_next = false;
	c->latched = c->status_latched = false;
	if (channel == 0)
		pit__arm_channel0(p);
}

static void pit__write_count(struct pit *p, int channel, uint8_t v)
{
	struct pit_channel *c = &p->ch[channel];

	switch (c->rw) {
	case 1:
		pit__load(p, channel, v);
		break;
	case 2:
		pit__load(p, channel, v << 8);
		break;
	case 3:
		if (!c->write_msb_next) {
			c->reload = (c->reload & 0xff00) | v;
			c->write_msb_next = true;
		} else {
			c->write_msb_next = false;
			pit__load(p, channel, (c->reload & 0x00ff) | v << 8);
		}
		break;
	}
}

static uint8_t pit__read_count(struct pit *p, int channel)
{
	struct pit_channel *c = &p->ch[channel];
	uint16_t v;
	bool msb;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		v = c->latch_value;
		msb = c->rw == 2 || (c->rw == 3 && c->latched_msb_next);
		if (c->rw == 3 && !c->latched_msb_next)
			c->latched_msb_next = true;
		else
			c->latched = false;
	} else {
		v = pit__count(p, channel);
		msb = c->rw == 2 || (c->rw == 3 && c->read_msb_next);
		if (c->rw == 3)
			c->read_msb_next = !c->read_msb_next;
	}
	return msb ? v >> 8 : v & 0xff;
}

static uint32_t pit__read(void *dev, uint64_t off, int size)
{
	(void)size;
	if (off == 3)
		return 0xff;	/* the control register is write-only */
	return pit__read_count(dev, off);
}

static void pit__write(void *dev, uint64_t off, int size, uint32_t value)
{
	(void)size;
	if (off == 3)
		pit__control(dev, value);
	else
		pit__write_count(dev, off, value);
}

const struct io_ops pit_io_ops = {
	.read = pit__read,
	.write = pit__write,
};

/*
 * Port 0x61, "system control port B" of the PC/AT:
 *   bit 0  channel 2 GATE          (r/w)
 *   bit 1  speaker data enable     (r/w)
 *   bit 4  refresh request: toggles every 15.085 us (read)
 *   bit 5  channel 2 OUT           (read)
 */
static uint32_t port61__read(void *dev, uint64_t off, int size)
{
	struct pit *p = dev;
	uint8_t v = p->port61 & 3;

	(void)off; (void)size;
	if ((pit__now(p) / 15085) & 1)
		v |= 0x10;
	if (pit__out(p, 2))
		v |= 0x20;
	return v;
}

static void port61__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct pit *p = dev;
	struct pit_channel *c = &p->ch[2];
	bool gate = value & 1;

	(void)off; (void)size;
	/* A rising GATE starts modes 1 and 5 and restarts modes 2 and 3. */
	if (gate && !c->gate && c->counting && c->mode != 0 && c->mode != 4)
		c->start_ns = pit__now(p);
	c->gate = gate;
	p->port61 = value & 3;
}

const struct io_ops port61_io_ops = {
	.read = port61__read,
	.write = port61__write,
};
