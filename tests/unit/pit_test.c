// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/pit.c, the 8254 and port 0x61, on a fake
 * clock: the counts a guest reads back as time passes, the host timer asked
 * for channel 0, and the channel-2 sequence Linux uses to calibrate the TSC
 * (arch/x86/kernel/tsc.c: gate on via port 0x61, mode 0, wait for OUT2).
 */
#include <string.h>

#include "hw_stub.h"

static struct pit p;
static struct stub_irq irq;
static uint64_t now = 1000000000;	/* fake CLOCK_MONOTONIC, ns */
static uint64_t armed_first, armed_period;
static int arm_calls;

static uint64_t fake_now(void *opaque)
{
	(void)opaque;
	return now;
}

static void fake_arm(void *opaque, uint64_t first, uint64_t period)
{
	(void)opaque;
	armed_first = first;
	armed_period = period;
	arm_calls++;
}

#define P(op, ...)	op(&pit_io_ops, &p, __VA_ARGS__)
#define B(op, ...)	op(&port61_io_ops, &p, __VA_ARGS__)

static uint64_t ticks_ns(uint64_t ticks)
{
	return ticks * 1000000000ull / PIT_HZ;
}

static void fresh(void)
{
	memset(&irq, 0, sizeof(irq));
	arm_calls = 0;
	pit__init(&p, stub_irq__line(&irq, 0), fake_now, fake_arm, NULL);
}

/* Latch channel ch's count and read it, LSB then MSB. */
static unsigned int latched(int ch)
{
	unsigned int lo, hi;

	P(outb, 3, ch << 6);
	lo = P(inb, ch);
	hi = P(inb, ch);
	return lo | hi << 8;
}

static bool near(unsigned int a, unsigned int b)
{
	return a + 1 >= b && a <= b + 1;
}

static void test_rate_generator(void)
{
	unsigned int c;

	fresh();
	/* Linux's periodic tick at HZ=250: mode 2, LSB then MSB, 4773. */
	P(outb, 3, 0x34);
	P(outb, 0, 4773 & 0xff);
	tap_ok(arm_calls == 1 && armed_first == 0, "mode set alone leaves the timer off");
	P(outb, 0, 4773 >> 8);
	tap_ok(armed_first == now + ticks_ns(4773) && armed_period == ticks_ns(4773),
	       "count written: periodic host timer of 4773 ticks (%llu ns)",
	       (unsigned long long)armed_period);
	tap_ok(latched(0) == 4773, "count starts at the reload value");
	now += 1000000;		/* 1 ms = 1193 ticks */
	c = latched(0);
	tap_ok(near(c, 4773 - 1193), "after 1 ms the count is 4773 - 1193 (read %u)", c);
	now += ticks_ns(4773);
	tap_ok(near(latched(0), c), "one period later it has wrapped to the same value");
	pit__timer_expired(&p);
	tap_ok(irq.edges[0] == 1 && !irq.level[0], "timer expiry: one rising edge on IRQ 0");
}

static void test_one_shot_and_latch(void)
{
	unsigned int a, b;

	fresh();
	/* Linux's oneshot clockevent: mode 4 (0x38). */
	P(outb, 3, 0x38);
	P(outb, 0, 0x00);
	P(outb, 0, 0x10);
	tap_ok(armed_first == now + ticks_ns(0x1000) && armed_period == 0,
	       "mode 4: one-shot host timer");
	P(outb, 3, 0x00);	/* latch */
	now += 500000;
	a = P(inb, 0) | P(inb, 0) << 8;
	tap_ok(a == 0x1000, "a latched count does not move");
	b = P(inb, 0) | P(inb, 0) << 8;
	tap_ok(b < 0x1000, "after reading the latch, reads are live again");
	P(outb, 3, 0x30);	/* mode 0 with count 0 = 65536 */
	P(outb, 0, 0);
	P(outb, 0, 0);
	tap_ok(armed_period == 0 && armed_first == now + ticks_ns(65536),
	       "count 0 means 65536");
	P(outb, 3, 0x10);	/* channel 0, LSB only, mode 0 */
	P(outb, 0, 0x80);
	P(outb, 3, 0x00);
	tap_ok(P(inb, 0) == 0x80 && P(inb, 0) == 0x80,
	       "LSB-only access mode: every read is the LSB");
}

static void test_channel2_calibration(void)
{
	uint8_t v;

	fresh();
	/* pit_calibrate_tsc(): gate on, speaker off; mode 0; latch = 10 ms. */
	B(outb, 0, (B(inb, 0) & ~0x02) | 0x01);
	P(outb, 3, 0xb0);
	P(outb, 2, 11932 & 0xff);
	P(outb, 2, 11932 >> 8);
	tap_ok(arm_calls == 0, "channel 2 arms no host timer");
	tap_ok(!(B(inb, 0) & 0x20), "OUT2 low while counting");
	now += ticks_ns(11931);
	tap_ok(!(B(inb, 0) & 0x20), "still low one tick before terminal count");
	now += ticks_ns(2) + 1;
	tap_ok(B(inb, 0) & 0x20, "OUT2 high at terminal count (10 ms)");
	v = B(inb, 0);
	tap_ok((v & 0x03) == 0x01, "port 0x61 keeps gate on, speaker off");
	/* quick_pit_calibrate(): count 0xffff, read the MSB without latching. */
	P(outb, 3, 0xb0);
	P(outb, 2, 0xff);
	P(outb, 2, 0xff);
	now += ticks_ns(256 * 3 + 10);
	P(inb, 2);	/* LSB */
	tap_ok(P(inb, 2) == 0xfc, "unlatched rw=3 reads alternate LSB, MSB (MSB 0xfc)");
	/* Read-back: status of channel 2 only (0xe8). */
	P(outb, 3, 0xe8);
	tap_ok(P(inb, 2) == 0x30, "read-back status: OUT low, LSB/MSB, mode 0");
}

static void test_gate(void)
{
	fresh();
	B(outb, 0, 0x00);		/* gate low */
	P(outb, 3, 0xb4);		/* channel 2, mode 2 */
	P(outb, 2, 100);
	P(outb, 2, 0);
	now += ticks_ns(50);
	tap_ok(latched(2) == 100, "mode 2 with GATE low: counter held");
	B(outb, 0, 0x01);
	now += ticks_ns(10) + 1;
	tap_ok(latched(2) == 90, "rising GATE starts it from the reload value");
}

int main(void)
{
	test_rate_generator();
	test_one_shot_and_latch();
	test_channel2_calibration();
	test_gate();
	return tap_done();
}
