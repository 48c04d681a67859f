// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/pic.c, the 8259A pair: Linux's init
 * sequence (ICW1-4), masking, edge triggering, priority, the INTA cycle,
 * EOI commands, the cascade through master IR2, OCW3 reads and spurious IRQ 7.
 */
#include <string.h>

#include "hw_stub.h"

static struct pic p;
static int notified;

static void notify(void *opaque)
{
	(void)opaque;
	notified++;
}

#define M(op, ...)	op(&pic_master_io_ops, &p, __VA_ARGS__)
#define SL(op, ...)	op(&pic_slave_io_ops, &p, __VA_ARGS__)

/* What Linux's init_8259A() writes: vectors 0x30 and 0x38, cascade on IR2. */
static void fresh(bool auto_eoi)
{
	pic__init(&p, notify, NULL);
	notified = 0;
	M(outb, 0, 0x11);
	M(outb, 1, 0x30);
	M(outb, 1, 0x04);
	M(outb, 1, auto_eoi ? 0x03 : 0x01);
	SL(outb, 0, 0x11);
	SL(outb, 1, 0x38);
	SL(outb, 1, 0x02);
	SL(outb, 1, 0x01);
	M(outb, 1, 0x00);	/* unmask all */
	SL(outb, 1, 0x00);
}

static void edge(int irq)
{
	pic__set_irq(&p, irq, 1);
	pic__set_irq(&p, irq, 0);
}

static void test_init_and_mask(void)
{
	pic__init(&p, notify, NULL);
	tap_ok(M(inb, 1) == 0xff && SL(inb, 1) == 0xff, "all inputs masked before init");
	fresh(false);
	M(outb, 1, 0xfb);
	tap_ok(M(inb, 1) == 0xfb, "IMR reads back (Linux's probe_8259A)");
	edge(0);
	tap_ok(!pic__has_interrupt(&p) && notified == 0, "masked IRQ 0: no INT");
	M(outb, 1, 0x00);
	tap_ok(pic__has_interrupt(&p) && notified == 1, "unmasking a latched request raises INT");
	tap_ok(pic__ack(&p) == 0x30, "INTA gives vector base + 0");
	tap_ok(!pic__has_interrupt(&p), "INT drops after INTA");
}

static void test_edge_and_eoi(void)
{
	fresh(false);
	pic__set_irq(&p, 0, 1);
	tap_ok(pic__ack(&p) == 0x30, "IRQ 0 acknowledged");
	M(outb, 0, 0x0b);	/* OCW3: read ISR */
	tap_ok(M(inb, 0) == 0x01, "ISR bit 0 set while in service");
	M(outb, 0, 0x0a);	/* OCW3: read IRR */
	pic__set_irq(&p, 0, 1);
	tap_ok(M(inb, 0) == 0x00, "a level held high is not a new edge");
	pic__set_irq(&p, 0, 0);
	pic__set_irq(&p, 0, 1);
	tap_ok(M(inb, 0) == 0x01, "low then high again: IRR set");
	tap_ok(!pic__has_interrupt(&p), "same-priority request waits for EOI");
	M(outb, 0, 0x20);	/* non-specific EOI */
	tap_ok(pic__has_interrupt(&p) && pic__ack(&p) == 0x30, "after EOI it is delivered");
	M(outb, 0, 0x60);	/* specific EOI for IR0 */
	M(outb, 0, 0x0b);
	tap_ok(M(inb, 0) == 0x00, "specific EOI clears ISR bit 0");
}

static void test_priority(void)
{
	fresh(false);
	edge(4);
	edge(1);
	tap_ok(pic__ack(&p) == 0x31, "IRQ 1 outranks IRQ 4");
	tap_ok(!pic__has_interrupt(&p), "IRQ 4 waits while IRQ 1 is in service");
	edge(0);
	tap_ok(pic__has_interrupt(&p) && pic__ack(&p) == 0x30, "IRQ 0 preempts IRQ 1 in service");
	M(outb, 0, 0x20);	/* EOI of IRQ 0 (highest in service) */
	M(outb, 0, 0x20);	/* EOI of IRQ 1 */
	tap_ok(pic__ack(&p) == 0x34, "then IRQ 4");
}

static void test_cascade(void)
{
	fresh(false);
	edge(12);
	tap_ok(pic__has_interrupt(&p), "slave IRQ 12 reaches the CPU through IR2");
	tap_ok(pic__ack(&p) == 0x3c, "INTA gives the slave's vector 0x38 + 4");
	M(outb, 0, 0x0b);
	SL(outb, 0, 0x0b);
	tap_ok(M(inb, 0) == 0x04 && SL(inb, 0) == 0x10, "ISR: master bit 2, slave bit 4");
	SL(outb, 0, 0x64);	/* Linux: specific EOI to the slave, then IR2 */
	M(outb, 0, 0x62);
	tap_ok(M(inb, 0) == 0 && SL(inb, 0) == 0, "both EOIs clear both ISRs");
	SL(outb, 1, 0x10);
	edge(12);
	tap_ok(!pic__has_interrupt(&p), "masked on the slave: nothing");
}

static void test_spurious_auto_eoi_poll(void)
{
	fresh(false);
	tap_ok(pic__ack(&p) == 0x37, "INTA with nothing pending: spurious IRQ 7");
	M(outb, 0, 0x0b);
	tap_ok(M(inb, 0) == 0, "spurious IRQ 7 does not set ISR");
	fresh(true);
	edge(3);
	tap_ok(pic__ack(&p) == 0x33, "auto-EOI mode: vector delivered");
	M(outb, 0, 0x0b);
	tap_ok(M(inb, 0) == 0, "auto-EOI mode: ISR stays clear");
	fresh(false);
	edge(5);
	M(outb, 0, 0x0c);	/* OCW3 poll */
	tap_ok(M(inb, 0) == 0x85, "poll command: 0x80 | highest request");
	M(outb, 0, 0x0b);
	tap_ok(M(inb, 0) == 0x20, "poll acknowledged it (ISR bit 5)");
}

int main(void)
{
	test_init_and_mask();
	test_edge_and_eoi();
	test_priority();
	test_cascade();
	test_spurious_auto_eoi_poll();
	return tap_done();
}
