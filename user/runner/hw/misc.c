// SPDX-License-Identifier: GPL-2.0-only
/*
 * misc.c: three one-byte ports every PC guest touches.
 *
 *   0x80  POST code / I/O delay port. Linux writes it between accesses to
 *         slow devices (outb_p()); a BIOS writes progress codes.
 *   0x92  "system control port A" (PS/2): bit 1 enables A20, bit 0 is a
 *         fast CPU reset.
 *   0xe9  the Bochs/QEMU debug console: every byte written appears on the
 *         host. The simplest possible output device for a teaching guest.
 */
#include <string.h>

#include "hw.h"

void misc__init(struct misc *m, struct reset_line reset,
		void (*debug_out)(void *opaque, uint8_t byte), void *opaque)
{
	memset(m, 0, sizeof(*m));
	m->reset = reset;
	m->debug_out = debug_out;
	m->debug_opaque = opaque;
	m->port92 = 0x02;	/* A20 enabled: guest memory has no wrap at 1 MiB */
}

static uint32_t port80__read(void *dev, uint64_t off, int size)
{
	(void)off; (void)size;
	return ((struct misc *)dev)->post_code;
}

static void port80__write(void *dev, uint64_t off, int size, uint32_t value)
{
	(void)off; (void)size;
	((struct misc *)dev)->post_code = value;
}

const struct io_ops port80_io_ops = {
	.read = port80__read,
	.write = port80__write,
};

static uint32_t port92__read(void *dev, uint64_t off, int size)
{
	(void)off; (void)size;
	return ((struct misc *)dev)->port92;
}

static void port92__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct misc *m = dev;

	(void)off; (void)size;
	/* A20 is not modelled (always on), but the bit reads back. */
	m->port92 = value & 0x02;
	if (value & 0x01)
		reset_line__fire(&m->reset, MACHINE_RESET,
				 "fast reset (port 0x92 bit 0)");
}

const struct io_ops port92_io_ops = {
	.read = port92__read,
	.write = port92__write,
};

static uint32_t debugcon__read(void *dev, uint64_t off, int size)
{
	(void)dev; (void)off; (void)size;
	return 0xe9;	/* what Bochs and QEMU answer: "the port is here" */
}

static void debugcon__write(void *dev, uint64_t off, int size, uint32_t value)
{
	struct misc *m = dev;

	(void)off; (void)size;
	if (m->debug_out)
		m->debug_out(m->debug_opaque, value);
}

const struct io_ops debugcon_io_ops = {
	.read = debugcon__read,
	.write = debugcon__write,
};
