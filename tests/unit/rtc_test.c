// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host-side tests of user/runner/hw/rtc.c, the MC146818 RTC and CMOS RAM:
 * time registers in BCD and binary, 12-hour mode, setting the clock, status
 * registers, and the memory-size bytes.
 */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>

#include "hw_stub.h"

static struct rtc r;
static int64_t host_time;

static int64_t fake_now(void)
{
	return host_time;
}

static uint8_t cmos(uint8_t reg)
{
	outb(&rtc_io_ops, &r, 0, reg);
	return inb(&rtc_io_ops, &r, 1);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(&rtc_io_ops, &r, 0, reg);
	outb(&rtc_io_ops, &r, 1, v);
}

int main(void)
{
	/* 2024-02-29 13:45:56 UTC, a Thursday */
	struct tm tm = { .tm_year = 124, .tm_mon = 1, .tm_mday = 29,
			 .tm_hour = 13, .tm_min = 45, .tm_sec = 56 };

	host_time = timegm(&tm);
	rtc__init(&r, fake_now, 256 << 20);

	tap_ok(cmos(0x00) == 0x56 && cmos(0x02) == 0x45 && cmos(0x04) == 0x13,
	       "BCD time 13:45:56");
	tap_ok(cmos(0x07) == 0x29 && cmos(0x08) == 0x02 && cmos(0x09) == 0x24 &&
	       cmos(0x32) == 0x20, "BCD date 2024-02-29, century 20");
	tap_ok(cmos(0x06) == 5, "day of week: Thursday = 5 (Sunday = 1)");
	tap_ok(!(cmos(0x0a) & 0x80), "status A: no update in progress");
	tap_ok(cmos(0x0d) == 0x80, "status D: valid RAM and time");
	outb(&rtc_io_ops, &r, 0, 0x80 | 0x04);	/* NMI-disable bit in the index */
	tap_ok(inb(&rtc_io_ops, &r, 1) == 0x13, "bit 7 of the index (NMI mask) is ignored");

	cmos_write(0x0b, 0x02 | 0x04);		/* binary, 24h */
	tap_ok(cmos(0x00) == 56 && cmos(0x09) == 24, "binary mode");
	cmos_write(0x0b, 0x04);			/* binary, 12h */
	tap_ok(cmos(0x04) == (0x80 | 1), "12-hour mode: 1 PM");
	cmos_write(0x0b, 0x02);			/* back to BCD 24h */

	cmos_write(0x02, 0x15);			/* the guest sets minutes to 15 */
	tap_ok(cmos(0x02) == 0x15 && cmos(0x04) == 0x13, "guest sets the minutes");
	host_time += 61;
	tap_ok(cmos(0x02) == 0x16 && cmos(0x00) == 0x57, "and the clock runs on from there");

	cmos_write(0x40, 0xab);
	tap_ok(cmos(0x40) == 0xab, "CMOS RAM byte reads back");
	tap_ok((cmos(0x15) | cmos(0x16) << 8) == 640, "base memory 640 KiB");
	tap_ok((cmos(0x34) | cmos(0x35) << 8) == (256 - 16) * 16,
	       "memory above 16 MiB in 64 KiB units");
	return tap_done();
}
