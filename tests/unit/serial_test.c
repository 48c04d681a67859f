// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/serial.c, the 16550A: the register
 * behaviour Linux's 8250 driver probes for (scratch, IER, loopback MSR, FIFO
 * bits in IIR) and the interrupt sources of datasheet Table IV.
 */
#include <string.h>

#include "hw_stub.h"

#define S(op, ...)	op(&serial_io_ops, &s, __VA_ARGS__)

static uint8_t txbuf[1024];
static unsigned int txlen;

static void tx(void *opaque, uint8_t byte)
{
	(void)opaque;
	if (txlen < sizeof(txbuf))
		txbuf[txlen++] = byte;
}

static struct serial s;
static struct stub_irq irq;

static void fresh(void)
{
	memset(&irq, 0, sizeof(irq));
	txlen = 0;
	serial__init(&s, stub_irq__line(&irq, 4), tx, NULL);
}

static void test_registers(void)
{
	fresh();
	S(outb, 7, 0xa5);
	tap_ok(S(inb, 7) == 0xa5, "scratch register reads back");
	S(outb, 1, 0xff);
	tap_ok(S(inb, 1) == 0x0f, "IER keeps only bits 3..0");
	S(outb, 3, 0x80);		/* DLAB */
	S(outb, 0, 0x01);
	S(outb, 1, 0x00);
	tap_ok(S(inb, 0) == 0x01 && S(inb, 1) == 0x00, "DLAB=1: ports 0/1 are DLL/DLM");
	S(outb, 3, 0x03);		/* 8N1, DLAB off */
	tap_ok(S(inb, 1) == 0x0f, "DLAB=0: port 1 is IER again");
	S(outb, 1, 0x00);
	tap_ok(S(inb, 5) == 0x60, "LSR: THR empty and transmitter empty, no data");
	tap_ok(S(inb, 2) == 0x01, "IIR: no interrupt, FIFOs off");
	S(outb, 2, 0x07);
	tap_ok(S(inb, 2) == 0xc1, "IIR: FIFOs enabled show as bits 7..6 (16550A)");
	S(outb, 4, 0xff);
	tap_ok(S(inb, 4) == 0x1f, "MCR bits 7..5 read as zero");
}

static void test_transmit(void)
{
	fresh();
	S(outb, 0, 'h');
	S(outb, 0, 'i');
	tap_ok(txlen == 2 && !memcmp(txbuf, "hi", 2), "THR writes reach the host");
	S(outb, 4, 0x10);		/* loopback */
	S(outb, 0, 'x');
	tap_ok(txlen == 2, "loopback: nothing goes out");
	tap_ok((S(inb, 5) & 1) && S(inb, 0) == 'x', "loopback: the byte comes back in RBR");
}

static void test_loopback_msr(void)
{
	fresh();
	tap_ok((S(inb, 6) & 0xf0) == 0xb0, "MSR: CTS, DSR, DCD up with no loopback");
	/* Linux autoconfig: MCR = LOOP | OUT2 | RTS must give DCD | CTS. */
	S(outb, 4, 0x10 | 0x08 | 0x02);
	tap_ok((S(inb, 6) & 0xf0) == 0x90, "loopback: RTS->CTS, OUT2->DCD");
	S(outb, 4, 0x10 | 0x01 | 0x04);
	tap_ok((S(inb, 6) & 0xf0) == 0x60, "loopback: DTR->DSR, OUT1->RI");
}

static void test_thre_interrupt(void)
{
	fresh();
	S(outb, 1, 0x02);		/* THRI without OUT2 */
	tap_ok(!irq.level[4], "no IRQ without MCR OUT2 (the PC's IRQ gate)");
	S(outb, 4, 0x08);		/* OUT2 */
	tap_ok(irq.level[4] && irq.edges[4] == 1, "enabling THRI with THR empty raises IRQ 4");
	tap_ok(S(inb, 2) == 0x02, "IIR says THR empty");
	tap_ok(!irq.level[4], "reading IIR cleared the THRE source");
	tap_ok(S(inb, 2) == 0x01, "IIR then says no interrupt");
	S(outb, 0, 'a');
	tap_ok(irq.level[4] && irq.edges[4] == 2, "a THR write gives a new edge (instant transmit)");
}

static void test_rx_interrupt(void)
{
	uint8_t big[300];

	fresh();
	S(outb, 4, 0x08);
	S(outb, 1, 0x01);		/* RDI */
	tap_ok(!irq.level[4], "RDI with nothing received: no IRQ");
	tap_ok(serial__receive(&s, (const uint8_t *)"ok", 2) == 2, "two bytes received");
	tap_ok(irq.level[4] && S(inb, 2) == 0x04, "IRQ 4 with IIR = received data");
	tap_ok(S(inb, 0) == 'o' && irq.level[4], "first byte, still more");
	tap_ok(S(inb, 0) == 'k' && !irq.level[4], "second byte, IRQ drops");
	tap_ok(!(S(inb, 5) & 1), "LSR: no data ready");
	S(outb, 1, 0x03);		/* RDI and THRI: RDI has priority */
	serial__receive(&s, (const uint8_t *)"z", 1);
	tap_ok(S(inb, 2) == 0x04, "received data outranks THR empty");
	S(inb, 0);
	tap_ok(S(inb, 2) == 0x02, "then THR empty is reported");
	memset(big, 'q', sizeof(big));
	tap_ok(serial__receive(&s, big, sizeof(big)) == SERIAL_FIFO &&
	       serial__rx_room(&s) == 0, "receive stops at the buffer size");
	S(outb, 2, 0x03);
	tap_ok(serial__rx_room(&s) == SERIAL_FIFO, "FCR bit 1 clears the receive FIFO");
}

int main(void)
{
	test_registers();
	test_transmit();
	test_loopback_msr();
	test_thre_interrupt();
	test_rx_interrupt();
	return tap_done();
}
