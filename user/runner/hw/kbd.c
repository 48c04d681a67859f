// SPDX-License-Identifier: GPL-2.0-only
/*
 * kbd.c: the 8042 keyboard controller of the PC/AT, just enough of it.
 *
 * Port 0x64 reads the status register and takes controller commands; port
 * 0x60 is the data port (controller output buffer; bytes written there go to
 * the keyboard, or are the parameter of the last controller command).
 *
 *   status bit 0  OBF: output buffer full (a byte waits at 0x60)
 *          bit 1  IBF: input buffer full (never: we consume writes at once)
 *          bit 2  system flag (set after a successful self-test)
 *          bit 3  last write was a command (0x64) rather than data (0x60)
 *          bit 4  keyboard not inhibited (the key lock switch is off)
 *          bit 5  the byte at 0x60 comes from the auxiliary (mouse) port
 *
 * The reason it is here at all is the reset line: the 8042 drives the CPU's
 * RESET through its output port, and "pulse output line" command 0xfe is
 * the traditional way to reboot a PC (Linux's reboot=k, its default after
 * ACPI). A keyboard is attached that acknowledges every command (0xfa) and
 * never types; the aux port loops back (enough for Linux's i8042 probe).
 */
#include <string.h>

#include "hw.h"

#define ST_OBF		0x01
#define ST_SYS		0x04
#define ST_CMD		0x08
#define ST_UNLOCKED	0x10
#define ST_AUXDATA	0x20

#define CTR_KBDINT	0x01	/* command byte: IRQ 1 on keyboard data */
#define CTR_AUXINT	0x02	/* IRQ 12 on aux data */

#define KBD_ACK		0xfa

void kbd__init(struct kbd *k, struct irq_line irq1, struct irq_line irq12,
	       struct reset_line reset)
{
	memset(k, 0, sizeof(*k));
	k->irq1 = irq1;
	k->irq12 = irq12;
	k->reset = reset;
	k->ctr = CTR_KBDINT | 0x04 | 0x40;	/* IRQ 1, system flag, translate */
}

/* IRQ 1 or 12 follows "a byte waits and its interrupt is enabled". */
static void kbd__update_irq(struct kbd *k)
{
	bool full = k->q_count > 0, aux = full && k->queue_aux[k->q_head];

	irq_line__set(&k->irq1, full && !aux && (k->ctr & CTR_KBDINT));
	irq_line__set(&k->irq12, full && aux && (k->ctr & CTR_AUXINT));
}

static void kbd__push(struct kbd *k, uint8_t byte, bool aux)
{
	unsigned int tail = (k->q_head + k->q_count) % KBD_QUEUE;

	if (k->q_count == KBD_QUEUE)
		return;
	k->queue[tail] = byte;
	k->queue_aux[tail] = aux;
	k->q_count++;
}

/* Controller commands that take no parameter. */
static void kbd__command(struct kbd *k, uint8_t cmd)
{
	switch (cmd) {
	case 0x20:			/* read command byte */
		kbd__push(k, k->ctr, false);
		break;
	case 0x60:			/* write command byte: parameter follows */
	case 0xd1:			/* write output port */
	case 0xd2:			/* write keyboard output buffer */
	case 0xd3:			/* write aux output buffer (loop back) */
	case 0xd4:			/* write to the aux device */
		k->pending_cmd = cmd;
		break;
	case 0xa7: k->ctr |= 0x20; break;	/* disable aux */
	case 0xa8: k->ctr &= ~0x20; break;	/* enable aux */
	case 0xad: k->ctr |= 0x10; break;	/* disable keyboard */
	case 0xae: k->ctr &= ~0x10; break;	/* enable keyboard */
	case 0xa9:			/* aux interface test: 0 = ok */
	case 0xab:			/* keyboard interface test: 0 = ok */
		kbd__push(k, 0x00, false);
		break;
	case 0xaa:			/* controller self-test */
		kbd__push(k, 0x55, false);
		break;
	case 0xd0:			/* read output port: reset line high, A20 on */
		kbd__push(k, 0x03, false);
		break;
	default:
		/* 0xf0-0xff pulse output port bits 3..0 low for 6 us; bit 0 is RESET. */
		if (cmd >= 0xf0 && !(cmd & 1))
			reset_line__fire(&k->reset, MACHINE_RESET,
					 "keyboard controller reset (0xfe to port 0x64)");
		break;
	}
}

/* A byte to port 0x60: a command parameter, or a byte for a device. */
static void kbd__data(struct kbd *k, uint8_t v)
{
	uint8_t cmd = k->pending_cmd;

	k->pending_cmd = 0;
	switch (cmd) {
	case 0x60:
		k->ctr = v;
		break;
	case 0xd1:
		if (!(v & 1))
			reset_line__fire(&k->reset, MACHINE_RESET,
					 "keyboard controller output port reset");
		break;
	case 0xd2:
		kbd__push(k, v, false);
		break;
	case 0xd3:
		kbd__push(k, v, true);
		break;
	case 0xd4:			/* no mouse: nothing answers */
		break;
	default:			/* to the keyboard */
		kbd__push(k, KBD_ACK, false);
		if (v == 0xff)		/* reset: ACK, then "self-test passed" */
			kbd__push(k, 0xaa, false);
		else if (v == 0xf2)	/* identify: an MF2 keyboard */
			kbd__push(k, 0xab, false), kbd__push(k, 0x83, false);
		break;
	}
}

static uint32_t kbd__read_status(struct kbd *k)
{
	uint8_t v = ST_SYS | ST_UNLOCKED | (k->pending_cmd ? ST_CMD : 0);

	if (k->q_count)
		v |= ST_OBF | (k->queue_aux[k->q_head] ? ST_AUXDATA : 0);
	return v;
}

static uint32_t kbd__read_data(struct kbd *k)
{
	uint8_t v;

	if (!k->q_count)
		return 0;		/* the stale output buffer */
	v = k->queue[k->q_head];
	k->q_head = (k->q_head + 1) % KBD_QUEUE;
	k->q_count--;
	kbd__update_irq(k);
	return v;
}

static uint32_t kbd_data__read(void *dev, uint64_t off, int size)
{
	(void)off; (void)size;
	return kbd__read_data(dev);
}

static void kbd_data__write(void *dev, uint64_t off, int size, uint32_t value)
{
	(void)off; (void)size;
	kbd__data(dev, value);
	kbd__update_irq(dev);
}

static uint32_t kbd_ctl__read(void *dev, uint64_t off, int size)
{
	(void)off; (void)size;
	return kbd__read_status(dev);
}

static void kbd_ctl__write(void *dev, uint64_t off, int size, uint32_t value)
{
	(void)off; (void)size;
	kbd__command(dev, value);
	kbd__update_irq(dev);
}

const struct io_ops kbd_data_io_ops = {		/* port 0x60 */
	.read = kbd_data__read,
	.write = kbd_data__write,
};

const struct io_ops kbd_ctl_io_ops = {		/* port 0x64 */
	.read = kbd_ctl__read,
	.write = kbd_ctl__write,
};
