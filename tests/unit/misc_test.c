// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/misc.c: ports 0x80, 0x92 and 0xe9.
 */
#include "hw_stub.h"

static struct misc m;
static struct stub_reset rst;
static char out[8];
static int nout;

static void debug_out(void *opaque, uint8_t byte)
{
	(void)opaque;
	if (nout < (int)sizeof(out))
		out[nout++] = byte;
}

int main(void)
{
	misc__init(&m, stub_reset__line(&rst), debug_out, NULL);

	outb(&port80_io_ops, &m, 0, 0x42);
	tap_ok(inb(&port80_io_ops, &m, 0) == 0x42, "port 0x80 keeps the POST code");
	tap_ok(inb(&port92_io_ops, &m, 0) == 0x02, "port 0x92: A20 on");
	outb(&port92_io_ops, &m, 0, 0x02);
	tap_ok(rst.count == 0, "port 0x92 bit 0 clear: no reset");
	outb(&port92_io_ops, &m, 0, 0x03);
	tap_ok(rst.count == 1, "port 0x92 bit 0: fast reset");
	outb(&debugcon_io_ops, &m, 0, 'o');
	outb(&debugcon_io_ops, &m, 0, 'k');
	tap_ok(nout == 2 && out[0] == 'o' && out[1] == 'k', "port 0xe9 bytes reach the host");
	tap_ok(inb(&debugcon_io_ops, &m, 0) == 0xe9, "port 0xe9 reads 0xe9");
	return tap_done();
}
