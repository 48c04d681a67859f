// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/kbd.c, the 8042: the controller
 * commands Linux's i8042 probe sends, keyboard ACKs, IRQ 1, aux loopback and
 * the reset line (0xfe to port 0x64, what `reboot` ends with).
 */
#include <string.h>

#include "hw_stub.h"

static struct kbd k;
static struct stub_irq irq;
static struct stub_reset rst;

#define DATA(op, ...)	op(&kbd_data_io_ops, &k, 0, ##__VA_ARGS__)
#define CTL(op, ...)	op(&kbd_ctl_io_ops, &k, 0, ##__VA_ARGS__)

int main(void)
{
	kbd__init(&k, stub_irq__line(&irq, 1), stub_irq__line(&irq, 12),
		  stub_reset__line(&rst));

	tap_ok(CTL(inb) == 0x14, "status: system flag, not inhibited, buffers empty");
	CTL(outb, 0xaa);
	tap_ok((CTL(inb) & 1) && DATA(inb) == 0x55, "self-test (0xaa) answers 0x55");
	tap_ok(!(CTL(inb) & 1), "output buffer empty after the read");
	CTL(outb, 0x20);
	tap_ok(DATA(inb) == 0x45, "read command byte (0x20)");
	CTL(outb, 0x60);
	tap_ok(CTL(inb) & 0x08, "status bit 3: last write was a command");
	DATA(outb, 0x00);
	CTL(outb, 0x20);
	tap_ok(DATA(inb) == 0x00, "write command byte (0x60) then read it back");

	DATA(outb, 0xff);			/* keyboard reset, interrupts off */
	tap_ok(!irq.level[1], "no IRQ 1 with the command byte's bit 0 clear");
	tap_ok(DATA(inb) == 0xfa && DATA(inb) == 0xaa, "keyboard reset: ACK, 0xaa");
	CTL(outb, 0x60);
	DATA(outb, 0x01);			/* keyboard interrupt on */
	DATA(outb, 0xf2);
	tap_ok(irq.level[1], "IRQ 1 with a byte waiting");
	tap_ok(DATA(inb) == 0xfa && DATA(inb) == 0xab && DATA(inb) == 0x83,
	       "identify: ACK, 0xab 0x83");
	tap_ok(!irq.level[1], "IRQ 1 drops when the buffer empties");

	CTL(outb, 0xd3);
	DATA(outb, 0x5a);
	tap_ok((CTL(inb) & 0x21) == 0x21 && DATA(inb) == 0x5a,
	       "aux loopback (0xd3) returns the byte as aux data");

	tap_ok(rst.count == 0, "no reset so far");
	CTL(outb, 0xfe);
	tap_ok(rst.count == 1 && rst.last == MACHINE_RESET, "0xfe pulses RESET");
	CTL(outb, 0xff);
	tap_ok(rst.count == 1, "0xff pulses no line");
	CTL(outb, 0xd1);
	DATA(outb, 0x00);
	tap_ok(rst.count == 2, "output port write with bit 0 clear resets too");
	return tap_done();
}
